"""Helpers of the release tests: artifacts, a runner for the module, ansible-playbook with the json callback.

A module of its own (not conftest) so that test files import it by a unique name.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import ansible_tools
import pytest
from ansible.module_utils import _internal as module_utils_internal
from ansible.module_utils import basic

ROOT = Path(__file__).resolve().parents[3]
COLLECTIONS = ROOT / ".collections"
MODULE = ROOT / "plugins" / "modules" / "release.py"
BIN = Path(sys.executable).parent
if str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))

from ansible_collections.eightfold.devops.plugins.modules import release  # noqa: E402


def make_tarball(path: Path, members: list[tuple]) -> str:
    """Write a gzipped tarball of (name, kind, data) members; return its sha256.

    kind: "file" (data = text), "dir", "symlink" / "hardlink" (data = link target), "fifo";
    an optional fourth element is the mode.
    """
    with tarfile.open(path, "w:gz") as archive:
        for name, kind, data, *mode in members:
            info = tarfile.TarInfo(name)
            info.mtime = 1_700_000_000
            info.uid, info.gid, info.uname, info.gname = 1234, 1234, "builder", "builder"
            payload = None
            if kind == "file":
                payload = data.encode()
                info.size = len(payload)
                info.mode = 0o644
            elif kind == "dir":
                info.type, info.mode = tarfile.DIRTYPE, 0o755
            elif kind == "symlink":
                info.type, info.linkname = tarfile.SYMTYPE, data
            elif kind == "hardlink":
                info.type, info.linkname = tarfile.LNKTYPE, data
            elif kind == "fifo":
                info.type = tarfile.FIFOTYPE
            if mode:
                info.mode = mode[0]
            archive.addfile(info, io.BytesIO(payload) if payload is not None else None)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def service_tarball(path: Path, version: str) -> str:
    return make_tarball(
        path,
        [
            ("bin", "dir", None),
            ("bin/notes-server", "file", f"#!/bin/sh\necho {version}\n", 0o755),
            ("VERSION", "file", f"{version}\n"),
            ("lib", "symlink", "bin"),
        ],
    )


def tree(path: Path) -> dict[str, str]:
    """Everything under path: relative name -> kind and content or link target (a snapshot to compare)."""
    if not path.exists():
        return {}
    found = {}
    for dirpath, dirnames, filenames in os.walk(path):
        for name in dirnames + filenames:
            full = Path(dirpath, name)
            rel = str(full.relative_to(path))
            if full.is_symlink():
                found[rel] = f"-> {os.readlink(full)}"
            elif full.is_dir():
                found[rel] = f"dir {oct(full.stat().st_mode & 0o7777)}"
            else:
                found[rel] = f"file {oct(full.stat().st_mode & 0o7777)} {full.read_bytes()!r}"
    return found


class Releases:
    """A base path with artifacts next to it and a runner for the module."""

    def __init__(self, tmp_path: Path, monkeypatch, capsys):
        self.tmp = tmp_path
        self.monkeypatch, self.capsys = monkeypatch, capsys
        self.base = tmp_path / "srv" / "notes"
        self.artifacts = tmp_path / "artifacts"
        self.artifacts.mkdir()
        self.sums: dict[str, str] = {}

    def artifact(self, version: str) -> Path:
        path = self.artifacts / f"notes-{version}.tar.gz"
        if not path.exists():
            self.sums[version] = service_tarball(path, version)
        return path

    def arguments(self, args):
        args.setdefault("path", str(self.base))
        if "version" in args and args.get("state", "current") != "rollback":
            if "src" not in args:
                args["src"] = str(self.artifact(args["version"]))
            if "sha256" not in args:
                args["sha256"] = self.sums.get(args["version"])
        return {key: value for key, value in args.items() if value is not None}  # None: leave it out

    def run(self, check_mode=False, diff=False, **args):
        """The module's main() in this process, as the other plugin tests run modules (fast)."""
        args = {**self.arguments(args), "_ansible_check_mode": check_mode, "_ansible_diff": diff}
        self.monkeypatch.setattr(basic, "_ANSIBLE_ARGS", json.dumps({"ANSIBLE_MODULE_ARGS": args}).encode())
        self.monkeypatch.setattr(basic, "_ANSIBLE_PROFILE", "legacy")
        # Once a test has loaded controller code in this process, warn() goes to the display instead of the
        # module's result: make the module behave as on a host.
        self.monkeypatch.setattr(module_utils_internal, "is_controller", False)
        self.capsys.readouterr()
        with pytest.raises(SystemExit):
            release.main()
        return json.loads(self.capsys.readouterr().out)

    def run_process(self, check_mode=False, diff=False, **args):
        """The module file in its own process with its arguments in a file, as Ansible runs it."""
        args = {**self.arguments(args), "_ansible_check_mode": check_mode, "_ansible_diff": diff}
        path = self.tmp / "args.json"
        path.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
        env = dict(os.environ, PYTHONPATH=str(COLLECTIONS))
        proc = subprocess.run(
            [sys.executable, str(MODULE), str(path)], capture_output=True, text=True, env=env, timeout=120
        )
        assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr + proc.stdout
        return json.loads(proc.stdout)

    def current(self) -> str | None:
        link = self.base / "current"
        return os.readlink(link) if link.is_symlink() else None

    def on_disk(self) -> list[str]:
        releases = self.base / "releases"
        return (
            sorted(p.name for p in releases.iterdir() if not p.name.startswith("."))
            if releases.exists()
            else []
        )


def run_playbook(playbook: Path, *args: str, inventory: str = "localhost,"):
    """ansible-playbook with the json callback: (returncode, {task name: result of the first host})."""
    run = ansible_tools.run_playbook(playbook, *args, inventory=inventory, cwd=playbook.parent, timeout=300)
    return run.rc, run.results
