"""plan.yml against a real Debian 12 host (a systemd container): preflight, change plan, nothing changed."""

from __future__ import annotations

import json

import pytest
from phases_support import ROOT, playbook
from systemd_host import docker, systemd_container

SMALL_PLAYBOOK = """\
- name: A small playbook to plan
  hosts: app
  gather_facts: false
  roles:
    # Not run (when: false), but the plan validates its arguments for every host of the play.
    - role: eightfold.devops.node_exporter
      when: false
  tasks:
    - name: Write a file
      ansible.builtin.copy:
        content: "planned\\n"
        dest: /etc/eightfold-plan-test.txt
        mode: "0644"
    - name: Read something
      ansible.builtin.command: "true"
      changed_when: false
"""


@pytest.mark.slow
def test_plan_of_a_real_host(tmp_path):
    lifecycle = tmp_path / "lc"
    (tmp_path / "small.yml").write_text(SMALL_PLAYBOOK)
    with systemd_container("eightfold-h-ph-plan") as name:
        inventory = tmp_path / "hosts.yml"
        inventory.write_text(
            "all:\n  children:\n    app:\n      hosts:\n        planned:\n"
            f"          ansible_connection: community.docker.docker\n          ansible_host: {name}\n"
            "          ansible_python_interpreter: /usr/bin/python3\n"
        )
        small = ("-e", f"plan_playbook={tmp_path / 'small.yml'}")
        run = playbook("plan.yml", lifecycle, *small, inventory=str(inventory))
        assert run.rc == 0, run.failure() or run.stdout[-3000:]
        plan = json.loads((lifecycle / "reports" / "plan.json").read_text())
        host = plan["hosts"]["planned"]
        assert host["preflight"]["problems"] == [] and host["preflight"]["release"] == "Debian 12"
        assert host["preflight"]["roles_validated"] == ["eightfold.devops.node_exporter"]
        assert host["preflight"]["free_disk_mb"]["/"] > 0 and host["preflight"]["free_memory_mb"] > 0
        assert host["changed"] == 1 and host["failed"] == 0
        [task] = host["roles"]["(play tasks)"]["tasks"]
        assert task["task"] == "Write a file" and "+planned" in task["diff"]
        assert run.custom_stats["lifecycle_plan"]["hosts"]["planned"]["changed"] == 1
        assert run.custom_stats["lifecycle_plan"]["report"] == str(lifecycle / "reports" / "plan.json")
        markdown = (lifecycle / "reports" / "plan.md").read_text()
        assert "| planned | ok | Debian 12 |" in markdown
        assert "- Write a file `ansible.builtin.copy`" in markdown
        assert docker("exec", name, "test", "-e", "/etc/eightfold-plan-test.txt", check=False).returncode == 1

        # Bad input: the preflight names the variable and the threshold, and the check run does not start.
        bad = playbook(
            "plan.yml", lifecycle, *small, "-e", "node_exporter_port=many",
            "-e", "plan_min_free_disk_mb=99999999", inventory=str(inventory),
        )  # fmt: skip
        message = " ".join(bad.failure().split())
        assert bad.rc != 0
        assert "Preflight failed: planned:" in message and "'node_exporter_port'" in message
        assert "less than plan_min_free_disk_mb=99999999" in message
        assert json.loads((lifecycle / "reports" / "plan.json").read_text())["check_run"]["ran"] is False

        # The real site.yml: the base layer would install packages first (its check run fails later on a host
        # that has never been converged; the plan records that).
        site = playbook("plan.yml", lifecycle, "-e", "plan_fail_on_error=false", inventory=str(inventory))
        assert site.rc == 0, site.failure()
        plan = json.loads((lifecycle / "reports" / "plan.json").read_text())
        assert plan["playbook"] == str(ROOT / "playbooks" / "site.yml")
        host = plan["hosts"]["planned"]
        assert "eightfold.devops.base" in host["preflight"]["roles_validated"]
        assert "eightfold.devops.firewall" in host["preflight"]["roles_validated"]
        assert host["roles"]["eightfold.devops.base"]["changed"] >= 1
        assert host["changed"] >= 1
