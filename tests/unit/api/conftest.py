"""Fixtures for the Python API tests: small playbooks under tests/playbooks, hosts = this machine."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PLAYBOOKS = ROOT / "tests" / "playbooks"
INVENTORY = PLAYBOOKS / "inventory" / "hosts.yml"

# The collection resolves by FQCN through the working tree's symlink (as with `make unit`).
os.environ.setdefault("ANSIBLE_COLLECTIONS_PATH", str(ROOT / ".collections"))
os.environ.setdefault("ANSIBLE_CONFIG", str(ROOT / "ansible.cfg"))
# ansible-playbook and ansible-runner of the interpreter running the tests, not whatever is on PATH.
_BIN = str(Path(sys.executable).parent)
if not os.environ.get("PATH", "").startswith(_BIN + os.pathsep):
    os.environ["PATH"] = _BIN + os.pathsep + os.environ.get("PATH", "")
if str(ROOT / ".collections") not in sys.path:
    sys.path.append(str(ROOT / ".collections"))


def playbook(name: str) -> str:
    return str(PLAYBOOKS / f"{name}.yml")


@pytest.fixture
def runs_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "runs"
    monkeypatch.setenv("EIGHTFOLD_RUNS_DIR", str(path))
    return path


def run_processes(ident: str) -> list[int]:
    """PIDs still carrying the run's environment marker."""
    from eightfold import _procs

    return _procs.pids_matching(_procs.env_marker(ident), "environ")
