"""Helpers of the phase tests: ansible-playbook with the json callback, the build_artifact module in-process.

A module of its own (not conftest) so that test files import it by a unique name.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from ansible_tools import ansible_env

ROOT = Path(__file__).resolve().parents[3]
PLAYBOOKS = ROOT / "playbooks"
SAMPLE_VERSION = (ROOT / "samples" / "notes" / "src" / "notes" / "VERSION").read_text().strip()
BIN = Path(sys.executable).parent


@dataclass
class Run:
    rc: int
    stdout: str
    stderr: str
    stats: dict = field(default_factory=dict)
    custom_stats: dict = field(default_factory=dict)
    results: dict = field(default_factory=dict)  # task name -> result of the first host that ran it

    @property
    def changed(self) -> int:
        return sum(s.get("changed", 0) for s in self.stats.values())

    def failure(self) -> str:
        """The message of the last failed task (the one that stopped the play; earlier ones were ignored)."""
        for result in reversed(self.results.values()):
            if result.get("failed"):
                return str(result.get("msg", ""))
        return ""


def playbook(
    name: str | Path, lifecycle_dir: Path, *args: str, inventory: str = "localhost,", timeout: float = 600
) -> Run:
    """ansible-playbook <name> (in playbooks/, or a path): json callback, EIGHTFOLD_LIFECYCLE_DIR set."""
    path = PLAYBOOKS / name if isinstance(name, str) else name
    proc = subprocess.run(
        [str(BIN / "ansible-playbook"), "-i", inventory, str(path), *args],
        capture_output=True,
        text=True,
        env=ansible_env(EIGHTFOLD_LIFECYCLE_DIR=str(lifecycle_dir), ANSIBLE_SHOW_CUSTOM_STATS="1"),
        cwd=lifecycle_dir.parent,
        check=False,
        timeout=timeout,
    )
    try:
        data = json.loads(proc.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"ansible-playbook printed no JSON:\n{proc.stdout}\n{proc.stderr}")
    results = {}
    for play in data["plays"]:
        for task in play["tasks"]:
            for result in task["hosts"].values():
                results.setdefault(task["task"]["name"], result)
    return Run(
        proc.returncode,
        proc.stdout,
        proc.stderr,
        data.get("stats", {}),
        data.get("global_custom_stats", {}),
        results,
    )


def snapshot(path: Path) -> dict[str, bytes]:
    """Every file under path with its content (to show that nothing changed)."""
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}
