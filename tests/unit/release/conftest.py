"""The fixture of the release tests (helpers in release_support.py)."""

import pytest
from release_support import Releases


@pytest.fixture
def releases(tmp_path, monkeypatch, capsys):
    return Releases(tmp_path, monkeypatch, capsys)
