"""Fixtures of the life-cycle phase tests: the collection on sys.path, a lifecycle_dir with the lab's
repository checked out and built once per module (helpers in phases_support.py)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
for path in (ROOT / ".collections", Path(__file__).resolve().parent):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))
