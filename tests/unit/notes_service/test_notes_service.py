"""The sample service's own tests (samples/notes/tests), run by CI's `pytest` (testpaths = tests/unit).

They run in a pytest process of their own, rooted at samples/notes (its pyproject.toml): that is how the
test phase runs them against a built artifact, and it keeps their conftest and helper modules apart from
the collection's tests. `-m 'not slow'` here skips the PostgreSQL part as it does everywhere.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SERVICE = Path(__file__).resolve().parents[3] / "samples" / "notes"


def run_service_tests(marker: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", marker, "tests"],
        cwd=SERVICE,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    summary = proc.stdout.strip().splitlines()[-1:] or ["(no output)"]
    assert proc.returncode == 0, f"samples/notes tests failed: {summary[0]}\n{proc.stdout}\n{proc.stderr}"
    assert "skipped" not in summary[0] or marker == "slow", summary[0]


def test_service_unit_tests():
    """Handlers, metrics, configuration and the real server process (in-memory store)."""
    run_service_tests("not slow")


@pytest.mark.slow
def test_service_postgresql_tests():
    """The PostgreSQL store, migrations and the server against PostgreSQL in a Debian 12 container."""
    run_service_tests("slow")
