"""The ``eightfold`` command, built on the Python API.

    eightfold run PHASE -i INVENTORY [-e k=v] [--limit L] [--check] [--json]
    eightfold pipeline PHASE [PHASE ...] -i INVENTORY [--on-failure PHASE]
    eightfold report RUN [--format text|markdown|json]
    eightfold lab up|down|status

Exit codes: 0 ok, 1 other failure, 2 failed hosts, 3 unreachable hosts, 4 timeout, 5 canceled,
64 bad usage (unknown phase, bad inventory or extra vars, bad option).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, NoReturn, TextIO

import yaml

from eightfold import __version__
from eightfold._collection import find_collection
from eightfold.api import PhaseRun, load_result, start_phase
from eightfold.errors import EightfoldError, PhaseInputError
from eightfold.report import exit_code, render_markdown, render_text
from eightfold.results import PhaseResult

EXIT_USAGE = 64


class UsageError(Exception):
    """Bad command-line input (exit 64)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


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
        help="extra var NAME whose value is read from environment variable ENVVAR (masked everywhere)",
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
        epilog="exit codes: 0 ok, 1 other failure, 2 failed hosts, 3 unreachable, 4 timeout, "
        "5 canceled, 64 bad usage",
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
    report.add_argument("run", help="run ident (or a prefix), run directory or artifact directory")
    report.add_argument("--format", choices=["text", "markdown", "json"], default="text")
    report.add_argument("--runs-dir")

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
        raise UsageError(f"{where}: does not parse: {exc}") from None
    if not isinstance(data, dict):
        raise UsageError(f"{where}: must be a mapping, got {type(data).__name__}")
    return data


def parse_extra_vars(values: list[str]) -> dict[str, Any]:
    """Merge -e values: ``k=v`` (a string), a JSON/YAML mapping, or ``@FILE``."""
    merged: dict[str, Any] = {}
    for value in values:
        if value.startswith("@"):
            path = Path(value[1:]).expanduser()
            try:
                text = path.read_text(encoding="utf-8")
            except OSError as exc:
                raise UsageError(f"extra vars file {path}: {exc.strerror}") from None
            merged.update(_load_mapping(text, f"extra vars file {path}"))
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
    secrets: dict[str, Any] = {}
    for name in files:
        path = Path(name).expanduser()
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"secret file {path}: {exc.strerror}") from None
        secrets.update(_load_mapping(text, f"secret file {path}"))
    for pair in pairs:
        key, sep, env = pair.partition("=")
        if not sep or not key or not env:
            raise UsageError(f"--secret: expected NAME=ENVVAR, got {pair!r}")
        if env not in os.environ:
            raise UsageError(f"--secret {key}: environment variable {env} is not set")
        secrets[key] = os.environ[env]
    return secrets


# -- progress -----------------------------------------------------------------------------------------


class Progress:
    """Live progress on stderr: one updating line on a terminal, plain lines otherwise."""

    def __init__(self, stream: TextIO, phase: str, *, tty: bool | None = None) -> None:
        self.stream = stream
        self.phase = phase
        self.tty = stream.isatty() if tty is None else tty
        self.started = time.monotonic()
        self.task = ""
        self.results = 0
        self.hosts: dict[str, str] = {}
        self.changed = 0
        self.failed = 0
        self.unreachable = 0
        self._lock = threading.Lock()
        self._last_draw = 0.0

    def __call__(self, event: dict[str, Any]) -> None:
        kind = event.get("event", "")
        data = event.get("event_data") or {}
        with self._lock:
            if kind in ("playbook_on_task_start", "playbook_on_handler_task_start"):
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
                    msg = str(res.get("msg", "")).splitlines()[0][:200] if res.get("msg") else ""
                    self._line(f"[{self.phase}] failed: {host}: {data.get('task', '')}: {msg}")
                elif kind == "runner_on_unreachable":
                    self.unreachable += 1
                    self.hosts[host] = "unreachable"
                    self._line(f"[{self.phase}] unreachable: {host}")
                else:
                    self.hosts.setdefault(host, "ok")
            elif kind == "playbook_on_stats":
                pass
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


def _wait(run: PhaseRun, err: TextIO) -> PhaseResult:
    """Wait for a run; Ctrl-C cancels it cleanly (the run ends with status canceled)."""
    try:
        while True:
            try:
                return run.wait(timeout=0.2)
            except TimeoutError:
                continue
    except KeyboardInterrupt:
        err.write("\ncanceling (Ctrl-C) ...\n")
        err.flush()
        run.cancel()
        while True:
            try:
                return run.wait(timeout=0.2)
            except TimeoutError:
                continue
            except KeyboardInterrupt:
                continue


def _run_one(
    phase: str, args: argparse.Namespace, extravars: dict[str, Any], secrets: dict[str, Any]
) -> PhaseResult:
    progress = None
    if not args.json and not args.quiet:
        progress = Progress(sys.stderr, Path(phase).stem if phase.endswith((".yml", ".yaml")) else phase)
    run = start_phase(
        phase,
        inventory=args.inventory,
        extravars=extravars,
        secrets=secrets,
        limit=args.limit,
        tags=args.tags,
        skip_tags=args.skip_tags,
        check=args.check,
        diff=args.diff,
        forks=args.forks,
        timeout=args.timeout,
        idle_timeout=args.idle_timeout,
        on_event=progress,
        executor=args.executor,
        runs_dir=args.runs_dir,
        stream_events=False,
    )
    try:
        return _wait(run, sys.stderr)
    finally:
        if progress is not None:
            progress.close()


def _cmd_run(args: argparse.Namespace) -> int:
    extravars = parse_extra_vars(args.extra_vars)
    secrets = parse_secrets(args.secret, args.secret_file)
    result = _run_one(args.phase, args, extravars, secrets)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, sort_keys=True))
    else:
        print(render_text(result))
    return exit_code(result)


def _cmd_pipeline(args: argparse.Namespace) -> int:
    from eightfold._collection import resolve_phase

    extravars = parse_extra_vars(args.extra_vars)
    secrets = parse_secrets(args.secret, args.secret_file)
    for phase in [*args.phases, *([args.on_failure] if args.on_failure else [])]:
        resolve_phase(phase)
    results: list[PhaseResult] = []
    carried = dict(extravars)
    for phase in args.phases:
        result = _run_one(phase, args, carried, secrets)
        results.append(result)
        if not args.json:
            print(render_text(result))
        if not result.ok:
            if args.on_failure and result.status != "canceled":
                rollback_vars = {
                    **carried,
                    "eightfold_failed_phase": result.phase,
                    "eightfold_failed_result": result.to_dict(),
                }
                rollback = _run_one(args.on_failure, args, rollback_vars, secrets)
                results.append(rollback)
                if not args.json:
                    print(render_text(rollback))
            break
        carried = {**carried, **result.outputs}
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
    run_args = argparse.Namespace(
        inventory=inventory,
        limit=None,
        tags=None,
        skip_tags=None,
        check=False,
        diff=False,
        forks=None,
        timeout=None,
        idle_timeout=None,
        executor="local",
        runs_dir=args.runs_dir,
        json=args.json,
        quiet=args.quiet,
    )
    result = _run_one("lab" if args.action == "up" else "lab_down", run_args, {}, {})
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, sort_keys=True))
    else:
        print(render_text(result))
    return exit_code(result)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    handlers = {"run": _cmd_run, "pipeline": _cmd_pipeline, "report": _cmd_report, "lab": _cmd_lab}
    try:
        return handlers[args.command](args)
    except (UsageError, PhaseInputError) as exc:
        print(f"eightfold: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except EightfoldError as exc:
        print(f"eightfold: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("eightfold: interrupted", file=sys.stderr)
        return 5
