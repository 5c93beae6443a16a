"""eightfold.devops.build_artifact: members, reproducibility, check and diff mode, bad input."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import subprocess
import tarfile
from pathlib import Path

import pytest
from ansible.module_utils import _internal as module_utils_internal
from ansible.module_utils import basic
from ansible_collections.eightfold.devops.plugins.modules import build_artifact

EPOCH = 1_767_225_600  # 2026-01-01T00:00:00Z


@pytest.fixture
def run(monkeypatch, capsys):
    """run(check=False, diff=False, **args): the module's main() in this process; its JSON result."""

    def call(check=False, diff=False, **args):
        args.update(_ansible_check_mode=check, _ansible_diff=diff)
        monkeypatch.setattr(basic, "_ANSIBLE_ARGS", json.dumps({"ANSIBLE_MODULE_ARGS": args}).encode())
        monkeypatch.setattr(basic, "_ANSIBLE_PROFILE", "legacy")
        monkeypatch.setattr(module_utils_internal, "is_controller", False)
        capsys.readouterr()
        with pytest.raises(SystemExit):
            build_artifact.main()
        return json.loads(capsys.readouterr().out)

    return call


def make_tree(root: Path) -> Path:
    """A package as a checkout has it, with byte code and a cache the artifact must not hold."""
    src = root / "src"
    (src / "pkg" / "sub").mkdir(parents=True)
    (src / "pkg" / "__pycache__").mkdir()
    (src / "pkg" / "__init__.py").write_text("VALUE = 1\n")
    (src / "pkg" / "sub" / "mod.py").write_text("def f():\n    return 2\n")
    (src / "pkg" / "tool.sh").write_text("#!/bin/sh\necho hi\n")
    (src / "pkg" / "tool.sh").chmod(0o700)
    (src / "pkg" / "VERSION").write_text("0.0.0\n")
    (src / "pkg" / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"\0")
    (src / "pkg" / "sub" / "old.pyc").write_bytes(b"\0")
    (src / "pkg.egg-info").mkdir()
    (src / "pkg.egg-info" / "PKG-INFO").write_text("x\n")
    return src


def test_members_are_sorted_normalised_and_filtered(tmp_path, run):
    src = make_tree(tmp_path)
    out = tmp_path / "out" / "pkg-1.0.0.tar.gz"
    out.parent.mkdir()
    result = run(src=str(src), path=str(out), source_date_epoch=EPOCH, files={"pkg/VERSION": "1.0.0\n"})

    assert result["changed"] is True
    assert result["members"] == [
        "pkg/",
        "pkg/VERSION",
        "pkg/__init__.py",
        "pkg/sub/",
        "pkg/sub/mod.py",
        "pkg/tool.sh",
    ]
    assert result["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert result["size"] == out.stat().st_size
    assert Path(result["checksum_path"]).read_text() == f"{result['sha256']}  pkg-1.0.0.tar.gz\n"
    with tarfile.open(out, "r:gz") as tar:
        members = tar.getmembers()
        assert [m.name for m in members] == [m.rstrip("/") for m in result["members"]]
        for m in members:
            assert (m.uid, m.gid, m.uname, m.gname, m.mtime) == (0, 0, "root", "root", EPOCH)
        modes = {m.name: m.mode for m in members}
        assert modes == {
            "pkg": 0o755,
            "pkg/VERSION": 0o644,
            "pkg/__init__.py": 0o644,
            "pkg/sub": 0o755,
            "pkg/sub/mod.py": 0o644,
            "pkg/tool.sh": 0o755,
        }
        assert tar.extractfile("pkg/VERSION").read() == b"1.0.0\n"
    header = out.read_bytes()[:10]
    assert header[3] == 0, "no file name in the gzip header"
    assert header[4:8] == b"\0\0\0\0", "gzip time 0"
    with gzip.open(out) as handle:
        handle.read()


def test_same_tree_gives_same_bytes_whatever_the_file_times_and_modes(tmp_path, run):
    first, second = make_tree(tmp_path / "a"), make_tree(tmp_path / "b")
    os.utime(second / "pkg" / "__init__.py", (1, 1))
    (second / "pkg" / "sub" / "mod.py").chmod(0o600)
    one = run(src=str(first), path=str(tmp_path / "one.tar.gz"), source_date_epoch=EPOCH)
    two = run(src=str(second), path=str(tmp_path / "two.tar.gz"), source_date_epoch=EPOCH)
    assert one["sha256"] == two["sha256"]
    assert (tmp_path / "one.tar.gz").read_bytes() == (tmp_path / "two.tar.gz").read_bytes()

    before = (tmp_path / "one.tar.gz").stat().st_ino
    again = run(src=str(first), path=str(tmp_path / "one.tar.gz"), source_date_epoch=EPOCH)
    assert again["changed"] is False and again["previous_sha256"] == one["sha256"]
    assert (tmp_path / "one.tar.gz").stat().st_ino == before, "an unchanged build keeps the file"

    other_time = run(src=str(first), path=str(tmp_path / "one.tar.gz"), source_date_epoch=EPOCH + 1)
    assert other_time["changed"] is True and other_time["sha256"] != one["sha256"]


def test_check_mode_writes_nothing_and_tells_the_checksum(tmp_path, run):
    src = make_tree(tmp_path)
    out = tmp_path / "pkg.tar.gz"
    checked = run(check=True, diff=True, src=str(src), path=str(out), source_date_epoch=EPOCH)
    assert checked["changed"] is True
    assert not out.exists() and not (tmp_path / "pkg.tar.gz.sha256").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["src"], "no temporary file left"
    assert checked["diff"]["before"] == ""
    assert checked["diff"]["after"].startswith(f"sha256 {checked['sha256']}\npkg/\n")

    built = run(src=str(src), path=str(out), source_date_epoch=EPOCH)
    assert built["sha256"] == checked["sha256"]
    assert run(check=True, src=str(src), path=str(out), source_date_epoch=EPOCH)["changed"] is False

    (src / "pkg" / "new.py").write_text("\n")
    diff = run(check=True, diff=True, src=str(src), path=str(out), source_date_epoch=EPOCH)
    assert diff["changed"] is True and "pkg/new.py" in diff["diff"]["after"]
    assert "pkg/new.py" not in diff["diff"]["before"] and "pkg/__init__.py" in diff["diff"]["before"]
    assert hashlib.sha256(out.read_bytes()).hexdigest() == built["sha256"]


def test_time_comes_from_the_git_commit(tmp_path, run):
    src = make_tree(tmp_path)
    env = dict(
        os.environ,
        GIT_AUTHOR_NAME="t",
        GIT_AUTHOR_EMAIL="t@example.invalid",
        GIT_COMMITTER_NAME="t",
        GIT_COMMITTER_EMAIL="t@example.invalid",
        GIT_AUTHOR_DATE="2026-02-03T04:05:06+00:00",
        GIT_COMMITTER_DATE="2026-02-03T04:05:06+00:00",
        GIT_CONFIG_GLOBAL="/dev/null",
    )
    for argv in (["git", "init", "-q"], ["git", "add", "-A"], ["git", "commit", "-qm", "x", "--no-gpg-sign"]):
        subprocess.run(argv, cwd=tmp_path, env=env, check=True, capture_output=True)
    result = run(src=str(src), path=str(tmp_path / "a.tar.gz"))
    assert result["mtime"] == 1_770_091_506
    with tarfile.open(tmp_path / "a.tar.gz") as tar:
        assert {m.mtime for m in tar.getmembers()} == {1_770_091_506}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"src": "{tmp}/missing"}, "src: {tmp}/missing is not a directory"),
        ({"path": "{tmp}/nowhere/a.tar.gz"}, "path: the directory {tmp}/nowhere"),
        ({"path": "{tmp}/src"}, "is a directory"),
        ({"files": {"../evil": "x"}}, "files: '../evil' is not a relative member name"),
        ({"files": {"/abs": "x"}}, "files: '/abs' is not a relative member name"),
        ({"compresslevel": 11}, "compresslevel: 11 is not between 0 and 9"),
        ({"source_date_epoch": None}, "source_date_epoch is not set and {tmp}/src has no git commit"),
        ({"source_date_epoch": -5}, "source_date_epoch: -5 is negative"),
    ],
)
def test_bad_input_fails_naming_the_parameter(tmp_path, run, args, message):
    make_tree(tmp_path)
    base = {"src": "{tmp}/src", "path": "{tmp}/a.tar.gz", "source_date_epoch": EPOCH}
    base.update(args)
    call = {k: v.replace("{tmp}", str(tmp_path)) if isinstance(v, str) else v for k, v in base.items()}
    call = {k: v for k, v in call.items() if v is not None}
    result = run(**call)
    assert result["failed"] is True
    assert message.replace("{tmp}", str(tmp_path)) in result["msg"]
    assert "Traceback" not in result["msg"]
    assert not (tmp_path / "a.tar.gz").exists()
