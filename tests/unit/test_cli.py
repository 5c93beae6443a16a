"""The eightfold command: usage errors exit 64 with one line, results map to exit codes, --json, report
(ambiguous prefixes refused), runs list and prune, phases, Ctrl-C and SIGHUP cancel, the venv's command
finds the ansible-playbook beside it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from eightfold import PhaseResult, RunOptions, __version__
from eightfold._runs import META_FILE
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
        (["run", "site"], "required: -i/--inventory (see eightfold run --help)"),
        (["pipeline", "site", "nope", "-i", INVENTORY], "unknown phase 'nope'"),
        (["report", "0000ffff"], "no run"),
        (["run", "site", "-i", "@BAD_INI"], "Failed to parse inventory with 'ini' plugin"),
        (["run", "site", "-i", "@BAD_YAML"], "expected ',' or ']', but got '<stream end>' (line 2"),
        (["run", "site", "-i", INVENTORY, "-e", "@@BAD_YAML"], "extra vars file"),
        (["run", "site", "-i", INVENTORY, "--env", "NOVALUE"], "--env: expected NAME=VALUE"),
        (["run", "site", "-i", INVENTORY, "--vault-id", "nolabel"], "--vault-id: expected LABEL@FILE"),
        (["run", "site", "-i", INVENTORY, "-vvvvv"], "verbosity: must be an integer from 0 to 4"),
        (["runs", "prune", "--older-than", "soon"], "--older-than: expected a number"),
    ],
)
def test_bad_usage_exits_64_with_one_clear_line(env, capsys, argv, message):
    bad = {"@BAD_INI": ("hosts.ini", "[web\nh1\n"), "@BAD_YAML": ("hosts.yml", "a: [1\n")}
    for index, arg in enumerate(argv):
        for marker, (name, text) in bad.items():
            if marker in arg:
                (env / name).write_text(text)
                argv[index] = arg.replace(marker, str(env / name))
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse errors
        code = exc.code
    assert code == 64
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1, f"one line, got: {err!r}"
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


def _fake_run(runs: Path, ident: str, phase: str, status: str, ended_days_ago: float = 0) -> Path:
    from datetime import UTC, datetime, timedelta

    ended = datetime.now(UTC) - timedelta(days=ended_days_ago)
    artifact_dir = runs / ident / "artifacts" / ident
    artifact_dir.mkdir(parents=True)
    result = PhaseResult(
        phase=phase,
        ident=ident,
        status=status,  # type: ignore[arg-type]
        rc=0,
        artifact_dir=artifact_dir,
        started=ended - timedelta(seconds=3),
        ended=ended,
        options=RunOptions(inventory="x"),
    )
    result.write(artifact_dir / "eightfold-result.json")
    return runs / ident


def test_report_refuses_a_prefix_of_several_runs_and_names_them(env, capsys):
    runs = env / "runs"
    for n in range(6):
        _fake_run(runs, f"6{n}" + "a" * 30, "ok", "successful")
    _fake_run(runs, "7" + "b" * 31, "site", "failed")
    assert main(["report", "6"]) == 64
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "'6' is the start of 6 runs (60aaaaaaaaaa, 61aaaaaaaaaa," in err and "give more characters" in err
    assert main(["report", "7", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["phase"] == "site"
    assert main(["report", "62"]) == 0


def test_runs_lists_and_prune_finishes_the_abandoned_and_removes_the_old(env, capsys):
    runs = env / "runs"
    old = _fake_run(runs, "1" * 32, "site", "successful", ended_days_ago=40)
    new = _fake_run(runs, "2" * 32, "deploy", "failed", ended_days_ago=1)
    # A run whose caller was killed: metadata, no result, its private data and scratch directory left.
    dead = subprocess.Popen(["true"])
    dead.wait()
    abandoned = runs / ("3" * 32)
    (abandoned / "env").mkdir(parents=True)
    (abandoned / "env" / "extravars").write_text("{}")
    scratch = env / "ef-scratch"
    scratch.mkdir()
    (abandoned / "artifacts" / abandoned.name / "job_events").mkdir(parents=True)
    (abandoned / "artifacts" / abandoned.name / "job_events" / "x-partial.json").write_text("{}")
    meta = {
        "ident": abandoned.name,
        "phase": "slow",
        "pid": dead.pid,
        "pid_start": 1,
        "started": "2026-01-01T00:00:00+00:00",
        "scratch_dir": str(scratch),
        "options": {"inventory": "x"},
    }
    (abandoned / META_FILE).write_text(json.dumps(meta))
    assert main(["runs"]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in listing] == [abandoned.name, old.name, new.name]
    assert "abandoned" in listing[0] and "successful" in listing[1] and "failed" in listing[2]

    assert main(["runs", "prune", "--older-than", "30d", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [i["ident"] for i in report["finished"]] == [abandoned.name]
    assert [i["ident"] for i in report["removed"]] == [old.name]
    assert not old.exists() and new.exists()
    assert not (abandoned / "env").exists() and not scratch.exists()
    assert not list(abandoned.rglob("*partial*"))
    result = json.loads((abandoned / "artifacts" / abandoned.name / "eightfold-result.json").read_text())
    assert result["status"] == "canceled" and result["explanation"].startswith("abandoned:")
    assert main(["runs", "--json"]) == 0
    assert [i["status"] for i in json.loads(capsys.readouterr().out)] == ["canceled", "failed"]


def test_phases_lists_the_playbooks_of_the_collection(env, capsys):
    assert main(["phases"]) == 0
    lines = capsys.readouterr().out.splitlines()
    names = [line.split()[0] for line in lines]
    assert {"plan", "code", "build", "test", "release", "deploy", "monitor", "site"} <= set(names)
    assert all(len(line.split(None, 1)) == 2 for line in lines), "every phase has a description"
    assert main(["phases", "--json"]) == 0
    site = next(p for p in json.loads(capsys.readouterr().out) if p["name"] == "site")
    assert site["playbook"].endswith("playbooks/site.yml") and site["description"]


def test_the_venv_command_finds_ansible_playbook_beside_it(env):
    command = Path(sys.executable).parent / "eightfold"
    environ = {**os.environ, "PATH": "/usr/bin:/bin"}
    environ.pop("VIRTUAL_ENV", None)
    result = subprocess.run(
        [str(command), "run", str(PLAYBOOKS / "ok.yml"), "-i", INVENTORY, "-l", "h1", "-q"],
        capture_output=True,
        text=True,
        env=environ,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "phase ok: successful" in result.stdout


def test_sighup_cancels_cleanly_exit_5(env):
    proc = subprocess.Popen(
        [sys.executable, "-m", "eightfold", "run", str(PLAYBOOKS / "slow.yml"), "-i", INVENTORY, "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ,
    )
    runs = env / "runs"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not _has_task_start(runs):
        time.sleep(0.1)
    proc.send_signal(signal.SIGHUP)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 5, err
    result = json.loads(out)
    assert result["status"] == "canceled" and result["explanation"] == "canceled: SIGHUP to eightfold"
    assert err.strip().splitlines()[-1] == "eightfold: SIGHUP: canceling the run ..."


def test_a_secret_read_from_the_environment_leaves_no_trace_in_proc():
    # /proc/<pid>/environ shows the block a process started with: removing the variable is not enough, and
    # a child forked before it executes a program shows the same block.
    code = (
        "import os, sys\n"
        "from eightfold import _procs\n"
        "_procs.wipe_environment(['EF_TEST_SECRET'])\n"
        "mine = open('/proc/self/environ', 'rb').read()\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    os._exit(b'never-in-proc-1234' in open('/proc/self/environ', 'rb').read())\n"
        "child = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])\n"
        "print(b'never-in-proc-1234' in mine, 'EF_TEST_SECRET' in os.environ, child)\n"
    )
    env = {**os.environ, "EF_TEST_SECRET": "never-in-proc-1234"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False", "0"]
