"""eightfold.devops.host_state: what a role decides on, read in one call and without changing anything."""

from pathlib import Path

from ansible_collections.eightfold.devops.plugins.module_utils._host import installed_packages
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


def test_check_mode_reads_the_same(tmp_path, ansible):
    args = {"packages": ["dpkg"], "paths": [str(tmp_path)]}
    _rc, normal = ansible.run(write_playbook(tmp_path, args))
    _rc, checked = ansible.run(write_playbook(tmp_path, args, check=True))
    normal_result = ansible.results(normal)["Read the state"]
    checked_result = ansible.results(checked)["Read the state"]
    for key in ("packages", "paths", "units", "processes"):
        assert normal_result[key] == checked_result[key]


def test_a_relative_path_fails_naming_it(tmp_path, ansible):
    _rc, data = ansible.run(write_playbook(tmp_path, {"paths": ["/etc/passwd", "etc/shadow"]}))
    result = ansible.results(data)["Read the state"]
    assert result["failed"] is True
    assert result["msg"] == "paths must be absolute: etc/shadow"


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
