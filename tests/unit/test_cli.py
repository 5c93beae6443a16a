"""The eightfold command: usage errors exit 64, results map to exit codes, --json, report, Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from eightfold import __version__
from eightfold.cli import main, parse_extra_vars

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOKS = ROOT / "tests" / "playbooks"
INVENTORY = str(PLAYBOOKS / "inventory" / "hosts.yml")


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("EIGHTFOLD_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("ANSIBLE_COLLECTIONS_PATH", str(ROOT / ".collections"))
    bin_dir = str(Path(sys.executable).parent)
    monkeypatch.setenv("PATH", bin_dir + os.pathsep + os.environ["PATH"])
    return tmp_path


def test_help_is_printed_without_arguments(capsys):
    assert main([]) == 0
    assert "usage: eightfold" in capsys.readouterr().out


def test_version_matches_the_package(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"eightfold {__version__}"


def test_unknown_option_is_a_usage_error():
    result = subprocess.run([sys.executable, "-m", "eightfold", "--nope"], capture_output=True, text=True)
    assert result.returncode == 64
    assert "unrecognized arguments: --nope" in result.stderr


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "no_such_phase", "-i", INVENTORY], "unknown phase"),
        (["run", "site", "-i", "/no/such/inventory"], "does not exist"),
        (["run", "site", "-i", INVENTORY, "-e", "[1, 2]"], "extra vars"),
        (["run", "site", "-i", INVENTORY, "-e", "@/no/such/file"], "extra vars file"),
        (["run", "site", "-i", INVENTORY, "--timeout", "0"], "timeout: must be a finite positive"),
        (["run", "site", "-i", INVENTORY, "--timeout", "inf"], "timeout: must be a finite positive"),
        (["run", "site", "-i", INVENTORY, "--secret", "token=NO_SUCH_ENV_VAR_X"], "is not set"),
        (["run", "site"], "required: -i"),
        (["pipeline", "site", "nope", "-i", INVENTORY], "unknown phase 'nope'"),
        (["report", "0000ffff"], "no run"),
    ],
)
def test_bad_usage_exits_64_with_a_clear_message(env, capsys, argv, message):
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse errors
        code = exc.code
    assert code == 64
    assert message in capsys.readouterr().err
    assert not (env / "runs").exists() or not any((env / "runs").iterdir())


def test_extra_vars_forms(tmp_path):
    path = tmp_path / "vars.yml"
    path.write_text("b: 2\n")
    assert parse_extra_vars(["a=1 c=x", f"@{path}", '{"d": [1]}']) == {"a": "1", "b": 2, "c": "x", "d": [1]}


def test_run_json_exit_code_and_report(env, capsys):
    code = main(["run", str(PLAYBOOKS / "mixed.yml"), "-i", INVENTORY, "--json"])
    out = capsys.readouterr().out
    assert code == 2, "failed hosts exit 2"
    result = json.loads(out)
    assert result["status"] == "failed" and result["hosts"]["h2"]["failed"] == 1
    assert main(["report", result["ident"][:12], "--format", "markdown"]) == 0
    report = capsys.readouterr().out
    assert "| h2 | 4 | 1 | 1 | 0 | 1 | 0 | 1 |" in report
    assert "h2 refuses" in report


def test_plain_progress_lines_when_not_a_terminal(env):
    result = subprocess.run(
        [sys.executable, "-m", "eightfold", "run", str(PLAYBOOKS / "ok.yml"), "-i", INVENTORY, "-l", "h1"],
        capture_output=True,
        text=True,
        env=os.environ,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "[ok] task: Show a value" in result.stderr
    assert "phase ok: successful" in result.stdout


def test_ctrl_c_cancels_cleanly_exit_5(env):
    proc = subprocess.Popen(
        [sys.executable, "-m", "eightfold", "run", str(PLAYBOOKS / "slow.yml"), "-i", INVENTORY, "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ,
    )
    runs = env / "runs"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if any(runs.glob("*/artifacts/*/job_events/*runner_on_start*")) or _has_task_start(runs):
            break
        time.sleep(0.2)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 5, err
    result = json.loads(out)
    assert result["status"] == "canceled"
    from eightfold import _procs

    assert _procs.pids_matching(_procs.env_marker(result["ident"]), "environ") == []


def _has_task_start(runs: Path) -> bool:
    for path in runs.glob("*/artifacts/*/job_events/*.json"):
        try:
            if '"task": "Sleep"' in path.read_text():
                return True
        except OSError:
            pass
    return False
