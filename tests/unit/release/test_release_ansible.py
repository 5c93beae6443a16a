"""eightfold.devops.release through Ansible: its own process, check and diff mode, the host's Pythons."""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid

import pytest
from release_support import run_playbook, tree

PLAYBOOK = """
- hosts: all
  gather_facts: false
  tasks:
    - name: Copy the artifact
      ansible.builtin.copy:
        src: {artifact}
        dest: {dest}/notes-{version}.tar.gz
        mode: "0644"

    - name: Release
      eightfold.devops.release:
        path: {base}
        version: "{version}"
        src: {dest}/notes-{version}.tar.gz
        sha256: "{sha256}"
        keep: 2
      register: release

    - name: Read the release through current
      ansible.builtin.slurp:
        src: {base}/current/VERSION
      check_mode: false
"""


def write_playbook(releases, version, base, dest):
    artifact = releases.artifact(version)
    path = releases.tmp / f"release-{version}.yml"
    path.write_text(
        PLAYBOOK.format(
            artifact=artifact, version=version, base=base, sha256=releases.sums[version], dest=dest
        )
    )
    return path


def test_the_module_file_runs_as_its_own_process(releases):
    result = releases.run_process(version="1.0.0")
    assert result["changed"] is True and result["current_version"] == "1.0.0", result
    assert releases.run_process(version="1.0.0")["changed"] is False


def test_check_and_diff_through_ansible_on_the_hosts_python(releases):
    """ansible-playbook on localhost with /usr/bin/python3 (Debian 12: 3.11 without tarfile filters)."""
    local = "localhost,"
    extra = ["-e", "ansible_connection=local", "-e", "ansible_python_interpreter=/usr/bin/python3"]
    base, dest = releases.base, releases.tmp / "host"
    dest.mkdir()
    rc, results = run_playbook(write_playbook(releases, "1.0.0", base, dest), *extra, inventory=local)
    assert rc == 0, results
    assert results["Release"]["changed"] is True
    before = tree(base)
    playbook = write_playbook(releases, "2.0.0", base, dest)
    rc, results = run_playbook(playbook, "--check", "--diff", *extra, inventory=local)
    assert rc == 0, results
    release = results["Release"]
    assert release["changed"] is True and release["current_version"] == "2.0.0"
    assert release["diff"]["before"].startswith("current -> releases/1.0.0\n")
    assert release["diff"]["after"].startswith("current -> releases/2.0.0\n")
    assert tree(base) == before
    rc, results = run_playbook(playbook, "--diff", *extra, inventory=local)
    assert rc == 0 and results["Release"]["changed"] is True
    assert results["Read the release through current"]["content"] == "Mi4wLjAK"  # "2.0.0\n"
    rc, results = run_playbook(playbook, *extra, inventory=local)
    assert rc == 0 and results["Release"]["changed"] is False


def _docker(*args, check=True):
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check, timeout=120)


@pytest.mark.slow
def test_on_debian_13_python(releases):
    """Debian 13's /usr/bin/python3 (3.13, tarfile's data filter) in a plain container (no systemd needed)."""
    image = "eightfold/debian:13"
    if not shutil.which("docker") or _docker("image", "inspect", image, check=False).returncode != 0:
        pytest.skip(f"docker or the host image {image} is not available (make images)")
    name = f"eightfold-release-test-{uuid.uuid4().hex[:8]}"
    _docker("run", "-d", "--rm", "--name", name, "--network", "none", image, "sleep", "300")
    try:
        inventory = releases.tmp / "hosts.yml"
        inventory.write_text(
            json.dumps(
                {
                    "all": {
                        "hosts": {name: {}},
                        "vars": {
                            "ansible_connection": "community.docker.docker",
                            "ansible_python_interpreter": "/usr/bin/python3",
                            "ansible_pipelining": True,
                        },
                    }
                }
            )
        )
        for version in ("1.0.0", "2.0.0"):
            rc, results = run_playbook(
                write_playbook(releases, version, "/srv/notes", "/tmp"), inventory=str(inventory)
            )
            assert rc == 0, results
            assert results["Release"]["changed"] is True
            assert results["Release"]["current_version"] == version
        again = write_playbook(releases, "2.0.0", "/srv/notes", "/tmp")
        rc, results = run_playbook(again, inventory=str(inventory))
        assert rc == 0 and results["Release"]["changed"] is False
        assert results["Release"]["previous_version"] == "1.0.0"
        python = _docker("exec", name, "python3", "-c", "import sys; print(sys.version_info[:2])").stdout
        assert python.strip() == "(3, 13)"
    finally:
        _docker("rm", "-f", name, check=False)
