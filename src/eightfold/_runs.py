"""The runs directory: what each run left there, and the finishing of runs whose caller died.

Every run writes ``<run>/eightfold-run.json`` (mode 0600) before it starts: ident, phase, the PID and
start time of the process that owns it, when it started, its scratch directory. A run whose result file
is missing while its owner is gone was abandoned (the caller was killed, or exited without waiting):
``finish_abandoned`` does what the owner would have done - ends every process of the run, removes the
private data and Ansible's temporary files, and writes the result, status canceled, with the per-host
stats rebuilt from the job events on disk. The run's reaper process (``eightfold._reaper``) calls it
as soon as its owner dies; ``eightfold runs prune`` calls it for any run left over.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from eightfold import _procs
from eightfold.results import RESULT_FILE, EventAggregator, PhaseResult, RunOptions

META_FILE = "eightfold-run.json"
#: What a run keeps only while it runs: variables, inventory and project copies, Ansible's local temp.
PRIVATE_DIRS = ("env", "inventory", "project", "tmp")
_IDENT = re.compile(r"^[0-9a-f]{32}$")


@dataclass(frozen=True)
class RunInfo:
    """One run of a runs directory. ``status``: the result's status, ``running``, or ``abandoned`` (its
    caller died before the run ended; ``prune_runs`` finishes it)."""

    ident: str
    phase: str
    status: str
    started: datetime | None
    ended: datetime | None
    path: Path
    changed: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "ident": self.ident,
            "phase": self.phase,
            "status": self.status,
            "started": self.started.isoformat(timespec="seconds") if self.started else None,
            "ended": self.ended.isoformat(timespec="seconds") if self.ended else None,
            "changed": self.changed,
            "path": str(self.path),
        }


@dataclass(frozen=True)
class PruneReport:
    """What ``prune_runs`` did: runs it finished (their caller had died) and runs it removed."""

    finished: list[RunInfo]
    removed: list[RunInfo]


def now() -> datetime:
    return datetime.now(UTC)


def process_start(pid: int) -> int | None:
    """The start time of ``pid`` (clock ticks since boot), or None when there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[-1].split()
    if fields[0] == "Z":
        return None
    return int(fields[19])


def write_meta(run_dir: Path, data: Mapping[str, Any]) -> None:
    meta = {**data, "pid": os.getpid(), "pid_start": process_start(os.getpid())}
    path = run_dir / META_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(meta, handle)


def read_meta(run_dir: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((run_dir / META_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def owner_alive(meta: Mapping[str, Any]) -> bool:
    pid, start = meta.get("pid"), meta.get("pid_start")
    return isinstance(pid, int) and start is not None and process_start(pid) == start


def result_path(run_dir: Path) -> Path:
    return run_dir / "artifacts" / run_dir.name / RESULT_FILE


def remove_private(run_dir: Path, artifact_dir: Path) -> None:
    """Remove what only a running run needs and what Ansible and ansible-runner leave half-written."""
    for name in PRIVATE_DIRS:
        shutil.rmtree(run_dir / name, ignore_errors=True)
    shutil.rmtree(artifact_dir / "fact_cache", ignore_errors=True)
    for name in ("ssh_key_data", "env.list", "stdout.tmp", "command.tmp"):
        with contextlib.suppress(OSError):
            (artifact_dir / name).unlink()
    events = artifact_dir / "job_events"
    if events.is_dir():
        for path in events.iterdir():
            # ansible-runner's callback hands each event over in a -partial.json file, unmasked.
            if path.name.endswith(("-partial.json", ".tmp")):
                with contextlib.suppress(OSError):
                    path.unlink()


def scrub_command(artifact_dir: Path) -> None:
    """ansible-runner stores the whole environment with the command: keep the variable names only."""
    path = artifact_dir / "command"
    with contextlib.suppress(OSError, ValueError):
        data = json.loads(path.read_text(encoding="utf-8"))
        if "env" not in data:
            return
        data["env_names"] = sorted(data.pop("env") or {})
        tmp = path.with_name("command.tmp")
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle)
        tmp.replace(path)


def remove_remote_tmp(pids: set[int], remote_tmp: str | None) -> None:
    """Remove the ``ansible-tmp-<time>-<pid>-<n>`` directories the run's (killed) worker processes made
    in the remote temp directory of this machine (hosts with ``connection: local``); a killed module
    leaves its AnsiballZ file, with its arguments, there."""
    if not pids:
        return
    base = Path(os.path.expanduser(os.path.expandvars(remote_tmp or "~/.ansible/tmp")))
    if not base.is_dir():
        return
    for pid in pids:
        for path in base.glob(f"ansible-tmp-*-{pid}-*"):
            shutil.rmtree(path, ignore_errors=True)


def _rebuild(artifact_dir: Path) -> EventAggregator:
    aggregator = EventAggregator()
    events = artifact_dir / "job_events"
    files: list[tuple[int, Path]] = []
    if events.is_dir():
        for path in events.glob("*.json"):
            counter = path.name.split("-", 1)[0]
            if counter.isdigit():
                files.append((int(counter), path))
    for _, path in sorted(files):
        with contextlib.suppress(OSError, ValueError):
            aggregator.feed(json.loads(path.read_text(encoding="utf-8")))
    return aggregator


def finish_abandoned(run_dir: Path, reason: str) -> PhaseResult | None:
    """Finish a run whose owner died: end its processes, remove its private data, write its result.
    Returns the result written, or None when the run had a result already (or is not a run). The run's
    reaper and ``runs prune`` may both get here: a lock on the run's metadata file lets one of them in."""
    try:
        fd = os.open(run_dir / META_FILE, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        meta = read_meta(run_dir)
        if meta is None or result_path(run_dir).exists():
            return None
        return _finish(run_dir, meta, reason)
    finally:
        os.close(fd)


def _finish(run_dir: Path, meta: Mapping[str, Any], reason: str) -> PhaseResult:
    ident = str(meta.get("ident") or run_dir.name)
    artifact_dir = run_dir / "artifacts" / ident
    pids = set(_procs.kill_run(ident))
    container = meta.get("container")
    if isinstance(container, Mapping) and container.get("engine") and container.get("name"):
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            subprocess.run(
                [str(container["engine"]), "rm", "-f", str(container["name"])],
                capture_output=True,
                check=False,
                timeout=60,
            )
    if meta.get("local"):
        remove_remote_tmp(pids, meta.get("remote_tmp"))
    scratch = meta.get("scratch_dir")
    if scratch:
        shutil.rmtree(scratch, ignore_errors=True)
    remove_private(run_dir, artifact_dir)
    scrub_command(artifact_dir)
    aggregator = _rebuild(artifact_dir)
    hosts, complete = aggregator.stats()
    started = meta.get("started")
    started_at = datetime.fromisoformat(started) if isinstance(started, str) else None
    ended = now()
    result = PhaseResult(
        phase=str(meta.get("phase", "")),
        ident=ident,
        status="canceled",
        rc=None,
        hosts=hosts,
        outputs=aggregator.result_outputs(),
        host_outputs=aggregator.host_outputs,
        failures=list(aggregator.failures),
        duration=(ended - started_at).total_seconds() if started_at else 0.0,
        artifact_dir=artifact_dir,
        playbook=str(meta.get("playbook", "")),
        executor=str(meta.get("executor", "local")),
        stats_complete=complete,
        explanation=reason,
        started=started_at,
        ended=ended,
        options=RunOptions.from_dict(meta.get("options")),
        errors=list(aggregator.errors),
    )
    artifact_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    result.write(result_path(run_dir))
    return result


def abandoned_reason(meta: Mapping[str, Any]) -> str:
    return f"abandoned: the process that started the run (pid {meta.get('pid')}) ended before it"


def run_info(run_dir: Path) -> RunInfo:
    path = result_path(run_dir)
    if path.is_file():
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            result = PhaseResult.from_dict(json.loads(path.read_text(encoding="utf-8")))
            return RunInfo(
                result.ident,
                result.phase,
                result.status,
                result.started,
                result.ended,
                run_dir,
                result.changed,
            )
    meta = read_meta(run_dir)
    if meta is None:
        mtime = datetime.fromtimestamp(run_dir.stat().st_mtime, UTC)
        return RunInfo(run_dir.name, "", "unknown", None, mtime, run_dir)
    started = meta.get("started")
    status = "running" if owner_alive(meta) else "abandoned"
    return RunInfo(
        run_dir.name,
        str(meta.get("phase", "")),
        status,
        datetime.fromisoformat(started) if isinstance(started, str) else None,
        None,
        run_dir,
    )


def run_dirs(runs_dir: Path) -> list[Path]:
    if not runs_dir.is_dir():
        return []
    return [p for p in runs_dir.iterdir() if p.is_dir() and _IDENT.match(p.name)]


def list_runs(runs_dir: Path) -> list[RunInfo]:
    infos = [run_info(p) for p in run_dirs(runs_dir)]
    epoch = datetime.min.replace(tzinfo=UTC)
    return sorted(infos, key=lambda i: (i.started or i.ended or epoch, i.ident))


def prune_runs(runs_dir: Path, older_than: timedelta | None) -> PruneReport:
    finished: list[RunInfo] = []
    removed: list[RunInfo] = []
    for run_dir in run_dirs(runs_dir):
        info = run_info(run_dir)
        if info.status == "abandoned":
            meta = read_meta(run_dir) or {}
            if finish_abandoned(run_dir, abandoned_reason(meta)) is not None:
                info = run_info(run_dir)
                finished.append(info)
        if older_than is None or info.status in ("running", "abandoned"):
            continue
        ended = info.ended or info.started
        if ended is not None and now() - ended > older_than:
            shutil.rmtree(run_dir, ignore_errors=True)
            removed.append(info)
    return PruneReport(finished=finished, removed=removed)
