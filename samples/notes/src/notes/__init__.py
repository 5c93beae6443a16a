"""notes: a small web service that stores and lists notes in PostgreSQL (the sample of eightfold.devops)."""

from __future__ import annotations

from pathlib import Path

VERSION_FILE = Path(__file__).with_name("VERSION")


def build_version() -> str:
    """The version this copy was built as (the VERSION file the build phase writes)."""
    try:
        return VERSION_FILE.read_text(encoding="utf-8").strip() or "unknown"
    except OSError:
        return "unknown"


__version__ = build_version()
