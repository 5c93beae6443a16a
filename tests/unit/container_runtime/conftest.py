"""container_runtime tests import the collection by FQCN and run Ansible from the venv on localhost."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from ansible_tools import ansible_env

ROOT = Path(__file__).resolve().parents[3]
COLLECTIONS = ROOT / ".collections"
BIN = Path(sys.executable).parent

if str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))


def run_task(tmp_path, task, check=False, diff=False):
    """Runs one task on localhost with the json callback; returns (rc, task result)."""
    playbook = tmp_path / "play.yml"
    playbook.write_text(
        json.dumps(
            [
                {
                    "hosts": "localhost",
                    "gather_facts": False,
                    "vars": {"ansible_connection": "local", "ansible_python_interpreter": "/usr/bin/python3"},
                    "tasks": [dict(task, name="task", register="result", ignore_errors=True)],
                }
            ]
        )
    )
    env = ansible_env()
    args = [str(BIN / "ansible-playbook"), "-i", "localhost,", str(playbook)]
    args += ["--check"] if check else []
    args += ["--diff"] if diff else []
    proc = subprocess.run(args, capture_output=True, text=True, env=env, check=False)
    try:
        data = json.loads(proc.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"ansible-playbook printed no JSON:\n{proc.stdout}\n{proc.stderr}")
    return proc.returncode, data["plays"][0]["tasks"][0]["hosts"]["localhost"]


@pytest.fixture
def run():
    return run_task
