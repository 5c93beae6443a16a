"""eightfold.devops.converge and eightfold.devops.units on a real Debian host (a systemd container of the lab
image): a daemon runs the configuration on disk after any successful run - also when the run that wrote it
died before the restart - nothing invalid is installed, and an unchanged host costs one module call."""

import textwrap

import pytest
from ansible_tools import run_playbook
from systemd_host import docker, systemd_container

HEAD = """
- hosts: all
  gather_facts: false
  vars:
    ansible_connection: community.docker.docker
    ansible_python_interpreter: /usr/bin/python3
    ansible_pipelining: true
    message: "{{ lookup('ansible.builtin.env', 'MESSAGE') | default('one', true) }}"
    demo_files:
      - dest: /etc/systemd/system/ef-demo.service
        content: |
          [Service]
          ExecStart=/bin/sleep infinity
          ExecReload=/bin/true
          [Install]
          WantedBy=multi-user.target
      - dest: /etc/ef-demo.conf
        content: "{{ message }}\\n"
        validate: /bin/grep -qv invalid %s
    demo_units:
      - name: ef-demo.service
        enabled: true
        state: started
        watch: [/etc/ef-demo.conf, /etc/systemd/system/ef-demo.service]
        on_change: "{{ lookup('ansible.builtin.env', 'ON_CHANGE') | default('reload', true) }}"
  tasks:
"""

CONVERGE = """
    - name: converge
      eightfold.devops.converge:
        files: "{{ demo_files }}"
        units: "{{ demo_units }}"
        commands:
          - name: demo-apply
            argv: [/bin/sh, -c, "cp /etc/ef-demo.conf /run/ef-demo.applied"]
            watch: [/etc/ef-demo.conf]
"""


@pytest.fixture(scope="module")
def host():
    with systemd_container("eightfold-converge-test", "eightfold/debian:13") as name:
        yield name


def play(tmp_path, tasks, name="play.yml"):
    path = tmp_path / name
    path.write_text(HEAD + textwrap.dedent(tasks).replace("\n", "\n    ").rstrip() + "\n")
    return path


def converge(ansible, tmp_path, host, check=False, **env):
    """The result of the converge task, with MESSAGE and ON_CHANGE from env."""
    args = ["--check", "--diff"] if check else []
    proc_env = {key.upper(): value for key, value in env.items()}
    run = run_playbook(
        play(tmp_path, CONVERGE), *args, inventory=f"{host},", cwd=tmp_path, timeout=300, **proc_env
    )
    return ansible.results(run.data, host)["converge"]


def since(host):
    return docker("exec", host, "systemctl", "show", "-p", "ActiveEnterTimestamp", "ef-demo.service").stdout


def test_a_daemon_runs_the_configuration_on_disk_whatever_happened_before(host, tmp_path, ansible):
    first = converge(ansible, tmp_path, host)
    assert not first.get("failed"), first.get("msg")
    assert first["changed_files"] == ["/etc/systemd/system/ef-demo.service", "/etc/ef-demo.conf"]
    assert first["units"]["ef-demo.service"]["active"] == "active"
    assert first["commands"] == {"demo-apply": ["/etc/ef-demo.conf"]}
    assert docker("exec", host, "cat", "/run/ef-demo.applied").stdout == "one\n"

    # Unchanged: the read proves it, no other module call.
    again = converge(ansible, tmp_path, host)
    assert again["changed"] is False and again["module_calls"] == ["host_state"]

    # A run that wrote the file and died before the reload: the next run finds the file as wanted and still
    # reloads the daemon and applies the command, once.
    docker("exec", host, "sh", "-c", "echo two > /etc/ef-demo.conf")
    healed = converge(ansible, tmp_path, host, message="two")
    assert healed["changed"] is True and healed["changed_files"] == []
    assert healed["units"]["ef-demo.service"]["actions"] == ["reload"]
    assert healed["units"]["ef-demo.service"]["stale"] == ["/etc/ef-demo.conf"]
    assert healed["commands"] == {"demo-apply": ["/etc/ef-demo.conf"]}
    assert docker("exec", host, "cat", "/run/ef-demo.applied").stdout == "two\n"
    assert converge(ansible, tmp_path, host, message="two")["module_calls"] == ["host_state"]

    # restart instead of reload: the unit's activation moves on.
    before = since(host)
    restarted = converge(ansible, tmp_path, host, message="three", on_change="restart")
    assert restarted["units"]["ef-demo.service"]["actions"] == ["restart"] and since(host) != before

    # Check mode shows the change and changes nothing.
    checked = converge(ansible, tmp_path, host, check=True, message="four")
    assert checked["changed"] is True and checked["units"]["ef-demo.service"]["actions"] == ["reload"]
    assert docker("exec", host, "cat", "/etc/ef-demo.conf").stdout == "three\n"


def test_an_invalid_file_is_never_installed_and_the_daemon_keeps_running(host, tmp_path, ansible):
    converge(ansible, tmp_path, host, message="good")
    before = since(host)
    bad = converge(ansible, tmp_path, host, message="invalid")
    assert bad["failed"] and "files[1] (/etc/ef-demo.conf): validation failed" in bad["msg"]
    assert "\n" not in bad["msg"]
    assert docker("exec", host, "cat", "/etc/ef-demo.conf").stdout == "good\n"
    assert since(host) == before


def test_units_reload_systemd_for_a_new_drop_in_and_report_a_unit_that_fails(host, tmp_path, ansible):
    converge(ansible, tmp_path, host, message="dropin")
    path = play(
        tmp_path,
        """
        - name: drop-in
          eightfold.devops.converge:
            files:
              - {dest: /etc/systemd/system/ef-demo.service.d, state: directory}
              - dest: /etc/systemd/system/ef-demo.service.d/50-test.conf
                content: "[Service]\\nEnvironment=DEMO=1\\n"
            units:
              - name: ef-demo.service
                watch: [/etc/systemd/system/ef-demo.service.d/50-test.conf]
        - name: broken
          eightfold.devops.units:
            units:
              - {name: ef-broken.service, state: started}
          ignore_errors: true
        - name: missing
          eightfold.devops.units:
            units:
              - {name: ef-missing.service, state: started}
          ignore_errors: true
        - name: deferred
          eightfold.devops.units:
            units:
              - {name: ef-demo.service, enabled: true, state: started, in_container: defer}
        """,
    )
    docker(
        "exec", host, "sh", "-c",
        "printf '[Service]\\nExecStart=/bin/sh -c \"echo broken on purpose; exit 3\"\\n'"
        " > /etc/systemd/system/ef-broken.service",
    )  # fmt: skip
    _rc, data = ansible.run(path, inventory=f"{host},")
    results = ansible.results(data, host)
    dropin = results["drop-in"]
    assert not dropin.get("failed"), dropin.get("msg")
    assert dropin["actions"][0].endswith("daemon-reload") and dropin["units"]["ef-demo.service"][
        "actions"
    ] == ["restart"]
    environ = docker("exec", host, "systemctl", "show", "-p", "Environment", "ef-demo.service").stdout
    assert "DEMO=1" in environ
    broken = results["broken"]
    assert broken["failed"] and "ef-broken.service" in broken["msg"] and "broken on purpose" in broken["msg"]
    assert "does not exist on this host" in results["missing"]["msg"]
    deferred = results["deferred"]
    assert deferred["deferred"] == ["ef-demo.service"]
    assert deferred["units"]["ef-demo.service"]["actions"] == ["disable", "stop"]
    assert (
        docker("exec", host, "systemctl", "is-active", "ef-demo.service", check=False).stdout.strip()
        == "inactive"
    )
