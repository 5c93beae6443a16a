"""Plugin tests import the collection by FQCN and run Ansible from the venv against the working tree."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from ansible_tools import ansible_env

ROOT = Path(__file__).resolve().parents[3]
COLLECTIONS = ROOT / ".collections"
# The Ansible tools of the interpreter running the tests, whatever PATH says.
BIN = Path(sys.executable).parent

if str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))


def run_playbook(playbook, *args, inventory="localhost,", cwd=None):
    """Run ansible-playbook with the json callback; return (returncode, parsed output)."""
    proc = subprocess.run(
        [str(BIN / "ansible-playbook"), "-i", inventory, str(playbook), *args],
        capture_output=True,
        text=True,
        env=ansible_env(),
        cwd=cwd or Path(playbook).parent,
        check=False,
    )
    try:
        data = json.loads(proc.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"ansible-playbook printed no JSON:\n{proc.stdout}\n{proc.stderr}")
    return proc.returncode, data


def task_results(data, host="localhost"):
    """{task name: result on host} of the first play."""
    return {
        task["task"]["name"]: task["hosts"][host]
        for play in data["plays"]
        for task in play["tasks"]
        if host in task["hosts"]
    }


class Ansible:
    """What the tests use: run a playbook, pick the results of its tasks."""

    run = staticmethod(run_playbook)
    results = staticmethod(task_results)
    env = staticmethod(ansible_env)


@pytest.fixture
def ansible():
    return Ansible
