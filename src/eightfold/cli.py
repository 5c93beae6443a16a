"""The ``eightfold`` command, built on the Python API.

    eightfold run PHASE -i INVENTORY [-e k=v] [--secret NAME=ENVVAR] [--limit L] [--check] [--json]
    eightfold pipeline PHASE [PHASE ...] -i INVENTORY [--on-failure PHASE]
    eightfold report RUN [--format text|markdown|json]
    eightfold runs [list|prune] [--older-than 30d]
    eightfold phases
    eightfold lab up|down|status

Exit codes: 0 ok, 1 other failure (status error: the run never reached a host), 2 failed hosts,
3 unreachable hosts, 4 timeout, 5 canceled (Ctrl-C, SIGTERM, SIGHUP), 64 bad usage (unknown phase, bad
inventory or extra vars, bad option). Every message the command prints about itself is one line.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn, TextIO

import yaml

from eightfold import __version__, _procs
from eightfold._collection import find_collection, phases
from eightfold.api import list_runs, load_result, prune_runs, run_pipeline, start_phase
from eightfold.errors import EightfoldError, PhaseInputError
from eightfold.report import exit_code, render_markdown, render_text
from eightfold.results import PhaseResult

EXIT_USAGE = 64
EXIT_CANCELED = 5
_SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhd]?)$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


class UsageError(Exception):
    """Bad command-line input (exit 64)."""


def one_line(text: str) -> str:
    """``text`` on one line: lines joined with " | ", runs of spaces collapsed."""
    parts = [" ".join(line.split()) for line in str(text).splitlines()]
    return " | ".join(p for p in parts if p)


def _yaml_problem(exc: yaml.YAMLError) -> str:
    problem = getattr(exc, "problem", None) or getattr(exc, "context", None)
    mark = getattr(exc, "problem_mark", None)
    if problem and mark is not None:
        return f"{problem} (line {mark.line + 1}, column {mark.column + 1})"
    return one_line(str(exc))


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {one_line(message)} (see {self.prog} --help)\n")


def _add_run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("-i", "--inventory", required=True, help="inventory file or directory")
    p.add_argument(
        "-e",
        "--extra-vars",
        action="append",
        default=[],
        metavar="VARS",
        help="k=v, a JSON/YAML mapping, or @FILE (repeatable)",
    )
    p.add_argument(
        "--secret",
        action="append",
        default=[],
        metavar="NAME=ENVVAR",
        help="extra var NAME whose value is read from environment variable ENVVAR (masked everywhere; "
        "ENVVAR is not passed on to Ansible)",
    )
    p.add_argument(
        "--secret-file", action="append", default=[], metavar="FILE", help="YAML/JSON mapping of secrets"
    )
    p.add_argument("-l", "--limit")
    p.add_argument("-t", "--tags")
    p.add_argument("--skip-tags")
    p.add_argument("-C", "--check", action="store_true")
    p.add_argument("-D", "--diff", action="store_true")
    p.add_argument("-f", "--forks", type=int)
    p.add_argument("-v", "--verbose", action="count", default=0, help="Ansible's verbosity (-v ... -vvvv)")
    p.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="environment variable for ansible-playbook (repeatable; never a secret)",
    )
    p.add_argument(
        "--private-key", metavar="FILE", help="SSH private key file (ansible-playbook --private-key)"
    )
    p.add_argument(
        "--vault-password-file", metavar="FILE", help="file holding the password of the inventory's vault"
    )
    p.add_argument(
        "--vault-id",
        action="append",
        default=[],
        metavar="LABEL@FILE",
        help="vault id and the file holding its password (repeatable)",
    )
    p.add_argument("--timeout", type=float, help="seconds for the whole run")
    p.add_argument("--idle-timeout", type=float, help="seconds without any event")
    p.add_argument("--executor", default="local", choices=["local", "pipe", "container"])
    p.add_argument("--runs-dir", help="where runs are kept (default: $EIGHTFOLD_RUNS_DIR or ~/.local/state)")
    p.add_argument("--json", action="store_true", help="print the result as JSON, no progress")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress display")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="eightfold",
        description="Run the phases of the eightfold.devops collection (over ansible-runner).",
        epilog="exit codes: 0 ok, 1 other failure (error: no host reached), 2 failed hosts, 3 unreachable, "
        "4 timeout, 5 canceled, 64 bad usage",
    )
    parser.add_argument("--version", action="version", version=f"eightfold {__version__}")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    run = sub.add_parser("run", help="run one phase (or any playbook of the collection)")
    run.add_argument("phase", help="phase name (site), FQCN (eightfold.devops.site) or playbook path")
    _add_run_options(run)

    pipe = sub.add_parser("pipeline", help="run phases in order, passing set_stats outputs on")
    pipe.add_argument("phases", nargs="+", metavar="PHASE")
    pipe.add_argument("--on-failure", metavar="PHASE", help="phase to run when one fails (e.g. rollback)")
    _add_run_options(pipe)

    report = sub.add_parser("report", help="show the result of an earlier run")
    report.add_argument("run", help="run ident (or a prefix only it starts with), run or artifact directory")
    report.add_argument("--format", choices=["text", "markdown", "json"], default="text")
    report.add_argument("--runs-dir")

    runs = sub.add_parser("runs", help="list the runs, or prune them")
    runs.add_argument("action", nargs="?", choices=["list", "prune"], default="list")
    runs.add_argument(
        "--older-than",
        metavar="AGE",
        help="prune: also remove the runs that ended more than AGE ago (30d, 12h, 90m, 3600s)",
    )
    runs.add_argument("--runs-dir")
    runs.add_argument("--json", action="store_true")

    listing = sub.add_parser("phases", help="list the phases (playbooks) of the collection")
    listing.add_argument("--json", action="store_true")

    lab = sub.add_parser("lab", help="the local lab of containers")
    lab.add_argument("action", choices=["up", "down", "status"])
    lab.add_argument("-i", "--inventory", help="lab inventory (default: the collection's inventories/lab)")
    lab.add_argument("--json", action="store_true")
    lab.add_argument("-q", "--quiet", action="store_true")
    lab.add_argument("--runs-dir")
    return parser


# -- option parsing -----------------------------------------------------------------------------------


def _load_mapping(text: str, where: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise UsageError(f"{where}: does not parse: {_yaml_problem(exc)}") from None
    if not isinstance(data, dict):
        raise UsageError(f"{where}: must be a mapping, got {type(data).__name__}")
    return data


def _read(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{what} {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{what} {path}: not UTF-8 text") from None


def parse_extra_vars(values: list[str]) -> dict[str, Any]:
    """Merge -e values: ``k=v`` (a string), a JSON/YAML mapping, or ``@FILE``."""
    merged: dict[str, Any] = {}
    for value in values:
        if value.startswith("@"):
            path = Path(value[1:]).expanduser()
            merged.update(_load_mapping(_read(path, "extra vars file"), f"extra vars file {path}"))
        elif value.lstrip().startswith("{"):
            merged.update(_load_mapping(value, "extra vars"))
        elif "=" in value:
            for pair in value.split():
                key, sep, val = pair.partition("=")
                if not sep or not key:
                    raise UsageError(f"extra vars: expected k=v, got {pair!r}")
                merged[key] = val
        else:
            raise UsageError(f"extra vars: expected k=v, a mapping or @FILE, got {value!r}")
    return merged


def parse_secrets(pairs: list[str], files: list[str]) -> dict[str, Any]:
    """Secrets from ``--secret-file`` mappings and ``--secret NAME=ENVVAR``. Each ENVVAR read is removed
    from this process's environment, its value zeroed in the environment block it started with, so no
    process of the run inherits it nor shows it in /proc, not even a child between fork and exec."""
    secrets: dict[str, Any] = {}
    for name in files:
        path = Path(name).expanduser()
        secrets.update(_load_mapping(_read(path, "secret file"), f"secret file {path}"))
    read: list[str] = []
    for pair in pairs:
        key, sep, env = pair.partition("=")
        if not sep or not key or not env:
            raise UsageError(f"--secret: expected NAME=ENVVAR, got {pair!r}")
        if env not in os.environ:
            raise UsageError(f"--secret {key}: environment variable {env} is not set")
        secrets[key] = os.environ[env]
        read.append(env)
    _procs.wipe_environment(read)
    return secrets


def parse_env(pairs: list[str]) -> dict[str, str]:
    env: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"--env: expected NAME=VALUE, got {pair!r}")
        env[key] = value
    return env


def _password_file(path_text: str, option: str) -> str:
    path = Path(path_text).expanduser()
    if path.is_file() and os.access(path, os.X_OK):
        raise UsageError(f"{option} {path}: an executable (a vault password script) is not run; give a file")
    text = _read(path, option).strip("\r\n")
    if not text or "\n" in text:
        raise UsageError(f"{option} {path}: must hold the password on one line")
    return text


def parse_vault(password_file: str | None, ids: list[str]) -> dict[str, str] | None:
    vault: dict[str, str] = {}
    if password_file:
        vault["default"] = _password_file(password_file, "--vault-password-file")
    for item in ids:
        label, sep, path = item.partition("@")
        if not sep or not label or not path:
            raise UsageError(f"--vault-id: expected LABEL@FILE, got {item!r}")
        vault[label] = _password_file(path, "--vault-id")
    return vault or None


def parse_age(text: str) -> timedelta:
    match = _DURATION.match(text.strip())
    if not match:
        raise UsageError(f"--older-than: expected a number with s, m, h or d (30d), got {text!r}")
    return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])


# -- signals ------------------------------------------------------------------------------------------


class Stopper:
    """The cancel source of the CLI's runs: SIGINT, SIGTERM and SIGHUP cancel the run in progress (and
    the rest of a pipeline); the run then ends its processes, writes its result and removes its private
    data before the command exits 5."""

    def __init__(self, err: TextIO) -> None:
        self.err = err
        self.reason = ""
        self._previous: dict[int, Any] = {}

    def __call__(self) -> str:
        return self.reason

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if not self.reason:
            name = signal.Signals(signum).name
            self.reason = f"{name} to eightfold"
            clear = "\r\x1b[K" if self.err.isatty() else ""
            self.err.write(f"{clear}eightfold: {name}: canceling the run ...\n")
            self.err.flush()

    def __enter__(self) -> Stopper:
        if threading.current_thread() is threading.main_thread():
            for name in _SIGNALS:
                signum = getattr(signal, name, None)
                if signum is not None:
                    self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc_info: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)


# -- progress -----------------------------------------------------------------------------------------


class Progress:
    """Live progress on stderr: one updating line on a terminal, plain lines otherwise."""

    def __init__(self, stream: TextIO, phase: str, *, tty: bool | None = None) -> None:
        self.stream = stream
        self.phase = phase
        self.tty = stream.isatty() if tty is None else tty
        self._lock = threading.Lock()
        self._last_draw = 0.0
        self._reset()

    def _reset(self) -> None:
        self.started = time.monotonic()
        self.task = ""
        self.results = 0
        self.hosts: dict[str, str] = {}
        self.changed = 0
        self.failed = 0
        self.unreachable = 0

    def __call__(self, event: dict[str, Any]) -> None:
        kind = event.get("event", "")
        data = event.get("event_data") or {}
        with self._lock:
            if kind == "playbook_on_start" and data.get("playbook"):
                self.phase = Path(str(data["playbook"])).stem  # the next phase of a pipeline
                self._reset()
            elif kind in ("playbook_on_task_start", "playbook_on_handler_task_start"):
                self.task = data.get("task", "")
                self.results = 0
                if not self.tty:
                    self._line(f"[{self.phase}] task: {self.task}")
            elif kind in ("runner_on_ok", "runner_on_failed", "runner_on_unreachable", "runner_on_skipped"):
                host = data.get("host", "?")
                self.results += 1
                res = data.get("res") or {}
                if kind == "runner_on_ok" and res.get("changed"):
                    self.changed += 1
                if kind == "runner_on_failed" and not data.get("ignore_errors"):
                    self.failed += 1
                    self.hosts[host] = "failed"
                    msg = one_line(str(res.get("msg") or ""))[:200]
                    self._line(f"[{self.phase}] failed: {host}: {data.get('task', '')}: {msg}")
                elif kind == "runner_on_unreachable":
                    self.unreachable += 1
                    self.hosts[host] = "unreachable"
                    self._line(f"[{self.phase}] unreachable: {host}")
                else:
                    self.hosts.setdefault(host, "ok")
            if self.tty:
                now = time.monotonic()
                if now - self._last_draw > 0.1:
                    self._last_draw = now
                    self._draw()

    def _status(self) -> str:
        elapsed = time.monotonic() - self.started
        return (
            f"[{self.phase}] {elapsed:5.0f}s task: {self.task[:50]} | results {self.results} "
            f"| hosts {len(self.hosts)} | changed {self.changed} failed {self.failed} "
            f"unreachable {self.unreachable}"
        )

    def _draw(self) -> None:
        width = shutil.get_terminal_size((100, 20)).columns
        self.stream.write("\r\x1b[K" + self._status()[: width - 1])
        self.stream.flush()

    def _line(self, text: str) -> None:
        if self.tty:
            self.stream.write("\r\x1b[K")
        self.stream.write(text + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.tty:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


# -- commands -----------------------------------------------------------------------------------------


def _run_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """The run options of ``run``/``pipeline``, every one parsed (and secrets read) before any run."""
    return {
        "inventory": args.inventory,
        "extravars": parse_extra_vars(args.extra_vars),
        "secrets": parse_secrets(args.secret, args.secret_file),
        "limit": args.limit,
        "tags": args.tags,
        "skip_tags": args.skip_tags,
        "check": args.check,
        "diff": args.diff,
        "forks": args.forks,
        "verbosity": args.verbose,
        "envvars": parse_env(args.env) or None,
        "vault_password": parse_vault(args.vault_password_file, args.vault_id),
        "private_key_file": args.private_key,
        "timeout": args.timeout,
        "idle_timeout": args.idle_timeout,
        "executor": args.executor,
        "runs_dir": args.runs_dir,
    }


def _progress(args: argparse.Namespace, phase: str) -> Progress | None:
    if args.json or args.quiet:
        return None
    return Progress(sys.stderr, Path(phase).stem if phase.endswith((".yml", ".yaml")) else phase)


def _wait(run: Any) -> PhaseResult:
    while True:
        try:
            return run.wait(timeout=0.2)
        except TimeoutError:
            continue
        except KeyboardInterrupt:  # a handler other than ours: cancel all the same
            run.cancel("interrupted (KeyboardInterrupt)")


def _run_one(phase: str, args: argparse.Namespace, kwargs: dict[str, Any]) -> PhaseResult:
    progress = _progress(args, phase)
    with Stopper(sys.stderr) as stopper:
        run = start_phase(phase, on_event=progress, cancel=stopper, stream_events=False, **kwargs)
        try:
            return _wait(run)
        finally:
            if progress is not None:
                progress.close()


def _print_result(result: PhaseResult, args: argparse.Namespace) -> None:
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, sort_keys=True))
    else:
        print(render_text(result))


def _cmd_run(args: argparse.Namespace) -> int:
    result = _run_one(args.phase, args, _run_kwargs(args))
    _print_result(result, args)
    return exit_code(result)


def _cmd_pipeline(args: argparse.Namespace) -> int:
    kwargs = _run_kwargs(args)
    progress = _progress(args, args.phases[0])

    def on_result(result: PhaseResult) -> None:
        if progress is not None:
            progress.close()
        if not args.json:
            print(render_text(result), flush=True)

    with Stopper(sys.stderr) as stopper:
        results = run_pipeline(
            args.phases,
            on_failure=args.on_failure,
            on_result=on_result,
            on_event=progress,
            cancel=stopper,
            **kwargs,
        )
    if args.json:
        print(json.dumps([r.to_dict() for r in results], indent=2, sort_keys=True))
    first_bad = next((r for r in results if not r.ok), None)
    return exit_code(first_bad) if first_bad else 0


def _cmd_report(args: argparse.Namespace) -> int:
    result = load_result(args.run, runs_dir=args.runs_dir)
    if args.format == "json":
        print(json.dumps(result.to_dict(), indent=2, sort_keys=True))
    elif args.format == "markdown":
        print(render_markdown(result), end="")
    else:
        print(render_text(result))
    return 0


def _cmd_runs(args: argparse.Namespace) -> int:
    if args.action == "prune":
        older = parse_age(args.older_than) if args.older_than else None
        report = prune_runs(args.runs_dir, older)
        if args.json:
            data = {
                "finished": [i.to_dict() for i in report.finished],
                "removed": [i.to_dict() for i in report.removed],
            }
            print(json.dumps(data, indent=2, sort_keys=True))
        else:
            for info in report.finished:
                print(f"finished {info.ident} ({info.phase}): its caller had died; status {info.status}")
            for info in report.removed:
                print(f"removed  {info.ident} ({info.phase}, {info.status})")
            print(f"runs prune: {len(report.finished)} finished, {len(report.removed)} removed")
        return 0
    if args.older_than:
        raise UsageError("--older-than: only with runs prune")
    infos = list_runs(args.runs_dir)
    if args.json:
        print(json.dumps([i.to_dict() for i in infos], indent=2, sort_keys=True))
        return 0
    for info in infos:
        started = info.started.astimezone().strftime("%Y-%m-%d %H:%M:%S") if info.started else "-"
        took = (
            f"{(info.ended - info.started).total_seconds():7.1f}s"
            if info.ended and info.started
            else "       -"
        )
        changed = {True: "changed", False: "", None: ""}[info.changed]
        print(f"{info.ident}  {started}  {took:>8}  {info.status:<10}  {info.phase:<14} {changed}".rstrip())
    return 0


def _cmd_phases(args: argparse.Namespace) -> int:
    found = phases()
    if args.json:
        data = [{"name": p.name, "description": p.description, "playbook": str(p.path)} for p in found]
        print(json.dumps(data, indent=2))
        return 0
    width = max([len(p.name) for p in found] + [4])
    for p in found:
        print(f"{p.name:<{width}}  {p.description}")
    return 0


def _lab_status(args: argparse.Namespace) -> int:
    engine = shutil.which("docker") or shutil.which("podman")
    if engine is None:
        raise EightfoldError("lab status: neither docker nor podman is on PATH")
    proc = subprocess.run(
        [engine, "ps", "-a", "--filter", "label=eightfold.lab", "--format", "{{json .}}"],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise EightfoldError(f"lab status: {engine} ps failed: {proc.stderr.strip()}")
    hosts = []
    for line in proc.stdout.splitlines():
        item = json.loads(line)
        hosts.append({"name": item.get("Names"), "state": item.get("State"), "status": item.get("Status")})
    hosts.sort(key=lambda h: h["name"] or "")
    if args.json:
        print(json.dumps({"hosts": hosts}, indent=2))
    elif not hosts:
        print("lab: no hosts (eightfold lab up)")
    else:
        for h in hosts:
            print(f"{h['name']:<30} {h['state']:<10} {h['status']}")
    if not hosts or any(h["state"] != "running" for h in hosts):
        return 3
    return 0


def _cmd_lab(args: argparse.Namespace) -> int:
    if args.action == "status":
        return _lab_status(args)
    inventory = args.inventory
    if inventory is None:
        root, _ = find_collection()
        inventory = str(root / "inventories" / "lab" / "hosts.yml")
    kwargs = {"inventory": inventory, "runs_dir": args.runs_dir, "executor": "local"}
    result = _run_one("lab" if args.action == "up" else "lab_down", args, kwargs)
    _print_result(result, args)
    return exit_code(result)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    handlers = {
        "run": _cmd_run,
        "pipeline": _cmd_pipeline,
        "report": _cmd_report,
        "runs": _cmd_runs,
        "phases": _cmd_phases,
        "lab": _cmd_lab,
    }
    try:
        return handlers[args.command](args)
    except (UsageError, PhaseInputError) as exc:
        print(f"eightfold: error: {one_line(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    except EightfoldError as exc:
        print(f"eightfold: {one_line(str(exc))}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"eightfold: {one_line(str(exc))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("eightfold: interrupted", file=sys.stderr)
        return EXIT_CANCELED
