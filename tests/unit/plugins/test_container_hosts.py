"""sysctls and config_files on real Debian hosts (systemd containers of the lab images), via ansible-playbook.

In a container /proc/sys is read-only: the keys are written to the file, returned as deferred, and a second
call reports no change. The modules run on each release's /usr/bin/python3 (Debian 12: 3.11, 13: 3.13).
"""

import textwrap

import pytest
from systemd_host import docker, systemd_container

PREFIX = "eightfold-h1-test"
RELEASES = ["12", "13"]


@pytest.fixture(scope="module", params=RELEASES)
def host(request):
    release = request.param
    with systemd_container(f"{PREFIX}-{release}", f"eightfold/debian:{release}") as name:
        yield name


PLAY = """
- hosts: all
  gather_facts: false
  vars:
    ansible_connection: community.docker.docker
    ansible_python_interpreter: /usr/bin/python3
    ansible_pipelining: true
    settings:
      kernel.kptr_restrict: 2
      kernel.dmesg_restrict: 1
      net.ipv4.conf.all.send_redirects: 0
      net.ipv4.tcp_rmem: 4096 87380 6291456
  tasks:
    - name: python
      ansible.builtin.command: /usr/bin/python3 -c 'import sys; print(sys.version_info[1])'
      changed_when: false
    - name: sysctls first
      eightfold.devops.sysctls:
        path: /etc/sysctl.d/90-eightfold-test.conf
        settings: "{{ settings }}"
    - name: sysctls second
      eightfold.devops.sysctls:
        path: /etc/sysctl.d/90-eightfold-test.conf
        settings: "{{ settings }}"
    - name: sysctls check
      eightfold.devops.sysctls:
        path: /etc/sysctl.d/90-eightfold-test.conf
        settings: "{{ settings }}"
      check_mode: true
    - name: sysctls always
      eightfold.devops.sysctls:
        path: /etc/sysctl.d/91-eightfold-test.conf
        settings: "{{ settings }}"
        runtime: always
      ignore_errors: true
    - name: files first
      eightfold.devops.config_files:
        files:
          - dest: /etc/sudoers.d/eightfold-test
            content: "Defaults use_pty\\n"
            mode: "0440"
            validate: /usr/sbin/visudo -cf %s
          - dest: /etc/ssh/sshd_config.d
            state: directory
          - dest: /etc/ssh/sshd_config.d/50-test.conf
            content: "PermitRootLogin no\\n"
            mode: "0600"
          - dest: /etc/issue
            mode: "0600"
    - name: files second
      eightfold.devops.config_files:
        files:
          - dest: /etc/sudoers.d/eightfold-test
            content: "Defaults use_pty\\n"
            mode: "0440"
            validate: /usr/sbin/visudo -cf %s
          - dest: /etc/ssh/sshd_config.d
            state: directory
          - dest: /etc/ssh/sshd_config.d/50-test.conf
            content: "PermitRootLogin no\\n"
            mode: "0600"
          - dest: /etc/issue
            mode: "0600"
    - name: files invalid
      eightfold.devops.config_files:
        files:
          - dest: /etc/ssh/sshd_config.d/50-test.conf
            content: "PermitRootLogin yes\\n"
          - dest: /etc/sudoers.d/eightfold-test
            content: "this is not sudoers\\n"
            validate: /usr/sbin/visudo -cf %s
      ignore_errors: true
"""


def test_real_host(host, tmp_path, ansible):
    playbook = tmp_path / "host.yml"
    playbook.write_text(textwrap.dedent(PLAY))
    _, data = ansible.run(playbook, inventory=f"{host},")
    results = ansible.results(data, host)
    release = host.rsplit("-", 2)[1]  # eightfold-h1-test-<release>-<random>
    assert results["python"]["stdout"] == {"12": "11", "13": "13"}[release]

    first = results["sysctls first"]
    assert not first.get("failed"), first.get("msg")
    assert first["container"] is True and first["changed"] is True and first["file_changed"] is True
    # Docker mounts /proc/sys read-only: every key that differs waits for the host.
    assert "kernel.kptr_restrict" in first["deferred"] and first["applied"] == {}
    assert "Read-only file system" in first["deferred"]["kernel.kptr_restrict"]
    second = results["sysctls second"]
    assert second["changed"] is False and second["deferred"].keys() == first["deferred"].keys()
    assert results["sysctls check"]["changed"] is False
    always = results["sysctls always"]
    assert always["failed"] and "cannot apply" in always["msg"]
    written = docker("exec", host, "cat", "/etc/sysctl.d/90-eightfold-test.conf").stdout
    assert "kernel.kptr_restrict = 2\n" in written and "net.ipv4.tcp_rmem = 4096 87380 6291456\n" in written
    assert (
        docker("exec", host, "test", "-e", "/etc/sysctl.d/91-eightfold-test.conf", check=False).returncode
        == 1
    )

    files = results["files first"]
    assert not files.get("failed"), files.get("msg")
    assert "/etc/sudoers.d/eightfold-test" in files["changed_files"]
    assert results["files second"]["changed"] is False
    invalid = results["files invalid"]
    assert (
        invalid["failed"] and "files[1] (/etc/sudoers.d/eightfold-test): validation failed" in invalid["msg"]
    )
    assert "syntax error" in invalid["msg"]
    conf = docker("exec", host, "cat", "/etc/ssh/sshd_config.d/50-test.conf").stdout
    assert conf == "PermitRootLogin no\n"
    modes = docker("exec", host, "stat", "-c", "%a %U", "/etc/sudoers.d/eightfold-test", "/etc/issue").stdout
    assert modes.split("\n")[:2] == ["440 root", "600 root"]
    leftovers = docker("exec", host, "sh", "-c", "ls -A /etc/sudoers.d /etc/ssh/sshd_config.d").stdout
    assert ".tmp" not in leftovers
