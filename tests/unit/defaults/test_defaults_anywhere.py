"""Defaults run anywhere: every role with nothing but its defaults, on one fresh host in an inventory with no
groups, passes, and a second run changes nothing."""

from __future__ import annotations

import json

import pytest
from ansible_tools import ROOT, run_playbook
from systemd_host import systemd_container

pytestmark = pytest.mark.slow

PLAYBOOK = ROOT / "tests" / "playbooks" / "defaults_only.yml"
CONNECTION = {
    "ansible_connection": "community.docker.docker",
    "ansible_python_interpreter": "/usr/bin/python3",
    "ansible_pipelining": True,
}


def failures(data: dict) -> list[str]:
    return [
        f"{play['play']['name']} / {task['task']['name']}: {result.get('msg')}"
        for play in data["plays"]
        for task in play["tasks"]
        for result in task["hosts"].values()
        if result.get("failed") and not result.get("ignore_errors")
    ]


@pytest.mark.parametrize("release", ["12"])
def test_every_role_with_its_defaults_on_a_host_without_groups(release, tmp_path):
    inventory = tmp_path / "inventory.json"
    with systemd_container(f"eightfold-defaults-{release}", f"eightfold/debian:{release}") as name:
        inventory.write_text(json.dumps({"all": {"hosts": {name: CONNECTION}}}))
        first = run_playbook(PLAYBOOK, inventory=str(inventory), cwd=tmp_path, timeout=1800)
        assert first.rc == 0, f"defaults fail: {failures(first.data) or first.stderr[-3000:]}"
        second = run_playbook(PLAYBOOK, inventory=str(inventory), cwd=tmp_path, timeout=900)
        changed = [
            f"{play['play']['name']} / {task['task']['name']}"
            for play in second.data["plays"]
            for task in play["tasks"]
            for result in task["hosts"].values()
            if result.get("changed")
        ]
        assert second.rc == 0 and not changed, f"the second run changed: {changed or failures(second.data)}"
