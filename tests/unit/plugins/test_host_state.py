"""eightfold.devops.host_state: what a role decides on, read in one call and without changing anything."""

import hashlib
from pathlib import Path

import pytest
from ansible_collections.eightfold.devops.plugins.module_utils._host import file_state, installed_packages
from ansible_collections.eightfold.devops.plugins.modules import host_state


def write_playbook(tmp_path, args, check=False):
    playbook = tmp_path / "state.yml"
    playbook.write_text(
        f"""
- hosts: localhost
  gather_facts: false
  vars: {{ansible_connection: local, ansible_python_interpreter: /usr/bin/python3}}
  tasks:
    - name: Read the state
      eightfold.devops.host_state: {args}
      check_mode: {str(check).lower()}
      register: state
      ignore_errors: true
"""
    )
    return playbook


def test_reports_packages_paths_mounts_and_processes(tmp_path, ansible):
    setid = tmp_path / "setid-program"
    setid.write_text("#!/bin/sh\n")
    setid.chmod(0o4755)
    link = tmp_path / "link"
    link.symlink_to(setid)
    pid1 = Path("/proc/1/comm").read_text().strip()
    args = {
        "packages": ["dpkg", "no-such-package-here"],
        "units": ["no-such-unit.service"],
        "paths": [str(link), str(tmp_path / "missing")],
        "processes": [pid1, "no-such-program"],
    }
    rc, data = ansible.run(write_playbook(tmp_path, args))
    result = ansible.results(data)["Read the state"]
    assert rc == 0, result
    assert result["changed"] is False
    assert set(result["packages"]) == {"dpkg"}
    assert result["paths"][str(link)] == {
        "exists": True,
        "realpath": str(setid),
        "mode": "4755",
        "owner": "root",
        "group": "root",
    }
    assert result["paths"][str(tmp_path / "missing")] == {"exists": False}
    assert result["processes"] == {pid1: True, "no-such-program": False}
    assert result["units"]["no-such-unit.service"]["active"] != "active"
    assert "/" in result["mounts"]
    assert result["mounts"]["/proc"]["fstype"] == "proc"


def test_files_report_type_attributes_and_content_hash_without_following_links(tmp_path, ansible):
    conf = tmp_path / "app.conf"
    conf.write_bytes(b"value = 1\n")
    conf.chmod(0o640)
    link = tmp_path / "link"
    link.symlink_to(conf)
    shadow = tmp_path / "shadow"
    shadow.write_text("secret\n")
    args = {
        "files": [str(conf), str(link), str(tmp_path), str(tmp_path / "missing")],
        "file_attributes": [str(shadow)],
    }
    rc, data = ansible.run(write_playbook(tmp_path, args))
    files = ansible.results(data)["Read the state"]["files"]
    assert rc == 0
    assert files[str(conf)] == {
        "exists": True,
        "type": "file",
        "mode": "0640",
        "owner": "root",
        "group": "root",
        "mtime": conf.stat().st_mtime,
        "sha256": hashlib.sha256(b"value = 1\n").hexdigest(),
    }
    assert files[str(link)]["type"] == "link" and "sha256" not in files[str(link)]
    assert files[str(tmp_path)]["type"] == "directory"
    assert files[str(tmp_path / "missing")] == {"exists": False}
    assert files[str(shadow)]["type"] == "file" and "sha256" not in files[str(shadow)]


def test_file_state_is_shared_through_module_utils(tmp_path):
    conf = tmp_path / "app.conf"
    conf.write_bytes(b"value = 1\n")
    link = tmp_path / "link"
    link.symlink_to(conf)
    assert host_state.file_state is file_state
    state = file_state(str(conf))
    assert state["type"] == "file" and state["mtime"] == conf.stat().st_mtime
    assert state["sha256"] == hashlib.sha256(b"value = 1\n").hexdigest()
    assert "sha256" not in file_state(str(conf), digest=False)
    assert file_state(str(link))["type"] == "link" and "sha256" not in file_state(str(link))
    assert file_state(str(tmp_path / "missing")) == {"exists": False}


def test_check_mode_reads_the_same(tmp_path, ansible):
    args = {"packages": ["dpkg"], "paths": [str(tmp_path)]}
    _rc, normal = ansible.run(write_playbook(tmp_path, args))
    _rc, checked = ansible.run(write_playbook(tmp_path, args, check=True))
    normal_result = ansible.results(normal)["Read the state"]
    checked_result = ansible.results(checked)["Read the state"]
    for key in ("packages", "paths", "units", "processes"):
        assert normal_result[key] == checked_result[key]


def test_locales_are_found_under_their_normalised_name(tmp_path, ansible):
    # locale -a always lists the built-in C and POSIX locales, and lists C.UTF-8 as C.utf8.
    args = {"locales": ["C.UTF-8", "POSIX", "xx_XX.UTF-8"]}
    _rc, data = ansible.run(write_playbook(tmp_path, args))
    result = ansible.results(data)["Read the state"]
    assert result["locales"] == {"C.UTF-8": True, "POSIX": True, "xx_XX.UTF-8": False}


def test_locale_names_are_normalised_as_glibc_does():
    assert host_state.normalised_locale("en_US.UTF-8") == "en_US.utf8"
    assert host_state.normalised_locale("de_DE.ISO-8859-15@euro") == "de_DE.iso885915@euro"
    assert host_state.normalised_locale("ja_JP.8859") == "ja_JP.iso8859"
    assert host_state.normalised_locale("POSIX") == "POSIX"


@pytest.mark.parametrize("option", ["paths", "files", "file_attributes"])
def test_a_relative_path_fails_naming_it(tmp_path, ansible, option):
    _rc, data = ansible.run(write_playbook(tmp_path, {option: ["/etc/passwd", "etc/shadow"]}))
    result = ansible.results(data)["Read the state"]
    assert result["failed"] is True
    assert result["msg"] == f"{option} must be absolute: etc/shadow"


def test_statoverrides_are_read_from_dpkg_database(tmp_path, monkeypatch):
    database = tmp_path / "statoverride"
    database.write_text("root root 755 /usr/bin/chfn\nroot shadow 2755 /usr/bin/expiry\n\n")
    monkeypatch.setattr(host_state, "DPKG_STATOVERRIDE", str(database))
    assert host_state.statoverrides() == {
        "/usr/bin/chfn": {"owner": "root", "group": "root", "mode": "0755"},
        "/usr/bin/expiry": {"owner": "root", "group": "shadow", "mode": "2755"},
    }
    monkeypatch.setattr(host_state, "DPKG_STATOVERRIDE", str(tmp_path / "none"))
    assert host_state.statoverrides() == {}


def test_installed_packages_reads_only_installed_stanzas(tmp_path):
    status = tmp_path / "status"
    status.write_text(
        "Package: kept\nStatus: install ok installed\nVersion: 1.0\nDescription: x\n multi-line\n\n"
        "Package: removed\nStatus: deinstall ok config-files\nVersion: 2.0\n\n"
        "Package: held\nStatus: hold ok installed\nVersion: 3.0\n"
    )
    wanted = ["kept", "removed", "held", "other"]
    assert installed_packages(wanted, status=str(status)) == {"kept": "1.0", "held": "3.0"}


def test_users_report_groups_keys_and_the_missing(tmp_path, ansible):
    """The lockout preflight of ssh_hardening decides on this: a missing user is reported, not an error."""
    args = {"users": ["root", "no-such-user-here"]}
    rc, data = ansible.run(write_playbook(tmp_path, args))
    result = ansible.results(data)["Read the state"]
    assert rc == 0, result
    assert result["users"]["no-such-user-here"] == {"exists": False}
    root = result["users"]["root"]
    assert root["exists"] is True
    assert root["groups"][0] == "root"
    assert isinstance(root["key_types"], list)
    assert isinstance(root["sudo"], bool)
    assert "sshd" not in result


def test_key_types_skip_comments_and_read_options(tmp_path):
    keys = tmp_path / "authorized_keys"
    keys.write_text(
        "# ssh-dss AAAAcommented\n"
        'from="192.0.2.1",no-pty ssh-ed25519 AAAAC3Nza alice@laptop\n'
        "ssh-rsa AAAAB3Nza bob\n"
        "ecdsa-sha2-nistp256 AAAAE2Vj carol\n"
        "not a key line\n"
    )
    assert host_state.key_types(str(keys)) == ["ecdsa-sha2-nistp256", "ssh-ed25519", "ssh-rsa"]
    assert host_state.key_types(str(tmp_path / "missing")) == []


def test_sshd_version_from_the_package_and_weak_moduli(tmp_path):
    status = tmp_path / "status"
    status.write_text(
        "Package: openssh-server\nStatus: install ok installed\nVersion: 1:9.2p1-2+deb12u10\n\n"
        "Package: other\nStatus: install ok installed\nVersion: 1.0\n"
    )
    moduli = tmp_path / "moduli"
    moduli.write_text(
        "# Time Type Tests Tries Size Generator Modulus\n"
        "20220714110357 2 6 100 2047 2 E98F\n"
        "20220714110358 2 6 100 3071 5 E98F\n"
        "20220714110359 2 6 100 4095 2 E98F\n"
    )
    assert host_state.sshd_state(3071, str(moduli), str(status)) == {"version": "9.2", "weak_moduli": 1}
    assert host_state.sshd_state(4096, str(moduli), str(status))["weak_moduli"] == 3
    # Not installed yet: no version (the role then takes the release's), no moduli file: nothing weak.
    assert host_state.sshd_state(3071, str(tmp_path / "none"), str(tmp_path / "none")) == {
        "version": "",
        "weak_moduli": 0,
    }
