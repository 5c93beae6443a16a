"""The environment tests run Ansible's command-line tools in: the working tree's collection and ansible.cfg,
JSON output without colour, and none of the caller's ANSIBLE_* settings; ansible-playbook run in it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COLLECTIONS = ROOT / ".collections"
BIN = Path(sys.executable).parent


def ansible_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update(
        ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS),
        ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json",
        ANSIBLE_LOCALHOST_WARNING="0",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="0",
        PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    env.update(extra)
    return env


@dataclass
class PlaybookRun:
    rc: int
    stdout: str
    stderr: str
    data: dict  # the json callback's output

    @property
    def results(self) -> dict[str, dict]:
        """Task name -> the result of the first host that ran the first task of that name."""
        results: dict[str, dict] = {}
        for play in self.data["plays"]:
            for task in play["tasks"]:
                for result in task["hosts"].values():
                    results.setdefault(task["task"]["name"], result)
        return results


def run_playbook(
    playbook: Path, *args: str, inventory: str = "localhost,", cwd: Path, timeout: float, **env: str
) -> PlaybookRun:
    """ansible-playbook with the json callback in ansible_env(**env); a test failure if it prints no JSON."""
    proc = subprocess.run(
        [str(BIN / "ansible-playbook"), "-i", inventory, str(playbook), *args],
        capture_output=True,
        text=True,
        env=ansible_env(**env),
        cwd=cwd,
        check=False,
        timeout=timeout,
    )
    try:
        data = json.loads(proc.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"ansible-playbook printed no JSON:\n{proc.stdout}\n{proc.stderr}")
    return PlaybookRun(proc.returncode, proc.stdout, proc.stderr, data)
