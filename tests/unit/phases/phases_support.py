"""Helpers of the phase tests: ansible-playbook with the json callback, the build_artifact module in-process.

A module of its own (not conftest) so that test files import it by a unique name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ansible_tools import run_playbook

ROOT = Path(__file__).resolve().parents[3]
PLAYBOOKS = ROOT / "playbooks"
SAMPLE_VERSION = (ROOT / "samples" / "notes" / "src" / "notes" / "VERSION").read_text().strip()


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
    run = run_playbook(
        path,
        *args,
        inventory=inventory,
        cwd=lifecycle_dir.parent,
        timeout=timeout,
        EIGHTFOLD_LIFECYCLE_DIR=str(lifecycle_dir),
        ANSIBLE_SHOW_CUSTOM_STATS="1",
    )
    stats, custom_stats = run.data.get("stats", {}), run.data.get("global_custom_stats", {})
    return Run(run.rc, run.stdout, run.stderr, stats, custom_stats, run.results)


def snapshot(path: Path) -> dict[str, bytes]:
    """Every file under path with its content (to show that nothing changed)."""
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}
