"""The permission_overrides filter: set-id bits and compiler access taken away, what dpkg has already kept."""

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.eightfold.devops.plugins.filter.permission_overrides import permission_overrides


def state(mode, realpath, owner="root", group="root"):
    return {"exists": True, "mode": mode, "realpath": realpath, "owner": owner, "group": group}


READ = {
    "paths": {
        "/usr/bin/chfn": state("4755", "/usr/bin/chfn"),
        "/usr/bin/wall": state("2755", "/usr/bin/wall", group="tty"),
        "/usr/bin/plain": state("0755", "/usr/bin/plain"),
        "/usr/bin/gone": {"exists": False},
        "/usr/bin/gcc": state("0755", "/usr/bin/x86_64-linux-gnu-gcc-12"),
        "/usr/bin/cc": state("0755", "/usr/bin/x86_64-linux-gnu-gcc-12"),
        "/usr/bin/as": state("0750", "/usr/bin/x86_64-linux-gnu-as"),
    },
    "statoverrides": {"/usr/bin/wall": {"owner": "root", "group": "tty", "mode": "0755"}},
}


def test_set_id_bits_go_compilers_close_and_known_overrides_are_kept():
    todo = permission_overrides(READ, ["/usr/bin/chfn", "/usr/bin/wall", "/usr/bin/plain", "/usr/bin/gone"],
                                ["/usr/bin/gcc", "/usr/bin/cc", "/usr/bin/as"])  # fmt: skip
    assert todo == [
        {"path": "/usr/bin/chfn", "owner": "root", "group": "root", "mode": "0755"},
        # gcc and cc lead to the same file: one override of the real path.
        {"path": "/usr/bin/x86_64-linux-gnu-gcc-12", "owner": "root", "group": "root", "mode": "0750"},
    ]


def test_a_path_the_read_did_not_look_at_is_an_error():
    with pytest.raises(AnsibleFilterError, match="the read has no state of /usr/bin/su"):
        permission_overrides(READ, ["/usr/bin/su"], [])
