"""Result types of a phase run, and the event aggregation that fills them.

Per-host stats come from the ``playbook_on_stats`` event when Ansible got that far; after a cancel or a
timeout the process group is killed before that event exists, so the same numbers are rebuilt from the
``runner_on_*`` events with Ansible's own counting rules (see ``EventAggregator``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, Literal

Status = Literal["successful", "failed", "error", "timeout", "canceled"]
STATUSES: tuple[str, ...] = ("successful", "failed", "error", "timeout", "canceled")

#: Name of the result file written into every run's artifact directory (read by ``eightfold report``).
RESULT_FILE = "eightfold-result.json"
#: Version of the result file's format (``schema_version``); result.schema.json describes it.
SCHEMA_VERSION = 2

_STATS_KEYS = {
    # playbook_on_stats key -> HostStats field
    "ok": "ok",
    "changed": "changed",
    "failures": "failed",
    "dark": "unreachable",
    "skipped": "skipped",
    "rescued": "rescued",
    "ignored": "ignored",
}


@dataclass
class HostStats:
    """What happened on one host, with the same meaning as Ansible's play recap."""

    ok: int = 0
    changed: int = 0
    failed: int = 0
    unreachable: int = 0
    skipped: int = 0
    rescued: int = 0
    ignored: int = 0

    def to_dict(self) -> dict[str, int]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Failure:
    """One failed or unreachable task on one host."""

    host: str
    task: str
    message: str
    unreachable: bool = False

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class RunOptions:
    """What a run was asked to do: the options that shape it, and the names (never the values) of its
    variables. ``inventory`` is the inventory's path, or ``(mapping)`` for an inventory given as data."""

    inventory: str = ""
    limit: str | None = None
    tags: str | None = None
    skip_tags: str | None = None
    check: bool = False
    diff: bool = False
    forks: int | None = None
    verbosity: int = 0
    timeout: float | None = None
    idle_timeout: float | None = None
    extravars: tuple[str, ...] = ()
    secrets: tuple[str, ...] = ()
    envvars: tuple[str, ...] = ()
    vault_ids: tuple[str, ...] = ()
    ssh_key: bool = False
    private_key_file: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        for key in ("extravars", "secrets", "envvars", "vault_ids"):
            data[key] = list(data[key])
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> RunOptions:
        if not data:
            return cls()
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        for key in ("extravars", "secrets", "envvars", "vault_ids"):
            values[key] = tuple(values.get(key) or ())
        return cls(**values)


def _time(value: datetime | None) -> str | None:
    return value.isoformat(timespec="milliseconds") if value is not None else None


def _parse_time(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


@dataclass
class PhaseResult:
    """The outcome of one phase run.

    ``status`` is one of successful, failed, error (the run never reached a host: no host matched, the
    playbook did not parse, ansible-playbook is missing), timeout, canceled. ``hosts`` maps each host
    to its ``HostStats`` (also after a cancel or timeout: then rebuilt from the task events that
    arrived). ``outputs`` are the values the phase published with ``set_stats`` (merged over hosts in
    name order, never concatenated); ``host_outputs`` keeps them per host when they came from task
    events. ``stats_complete`` is False when the stats were rebuilt from events. ``errors`` are the
    ``[ERROR]`` lines of ansible-playbook; ``explanation`` says in one line why a run did not succeed.
    """

    phase: str
    ident: str
    status: Status
    rc: int | None
    hosts: dict[str, HostStats] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    host_outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    duration: float = 0.0
    artifact_dir: Path | None = None
    playbook: str = ""
    executor: str = "local"
    stats_complete: bool = True
    explanation: str = ""
    started: datetime | None = None
    ended: datetime | None = None
    options: RunOptions = field(default_factory=RunOptions)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the run was successful."""
        return self.status == "successful"

    @property
    def changed(self) -> bool:
        """True when a task changed something on a host."""
        return any(s.changed for s in self.hosts.values())

    @property
    def failed_hosts(self) -> list[str]:
        return sorted(h for h, s in self.hosts.items() if s.failed)

    @property
    def unreachable_hosts(self) -> list[str]:
        return sorted(h for h, s in self.hosts.items() if s.unreachable)

    def totals(self) -> HostStats:
        """Sum of the per-host stats."""
        total = HostStats()
        for stats in self.hosts.values():
            for name in _STATS_KEYS.values():
                setattr(total, name, getattr(total, name) + getattr(stats, name))
        return total

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict (``json.dumps(result.to_dict())``), described by result.schema.json."""
        return {
            "schema_version": SCHEMA_VERSION,
            "phase": self.phase,
            "ident": self.ident,
            "status": self.status,
            "rc": self.rc,
            "hosts": {h: s.to_dict() for h, s in sorted(self.hosts.items())},
            "outputs": self.outputs,
            "host_outputs": self.host_outputs,
            "failures": [f.to_dict() for f in self.failures],
            "duration": round(self.duration, 3),
            "artifact_dir": str(self.artifact_dir) if self.artifact_dir else None,
            "playbook": self.playbook,
            "executor": self.executor,
            "stats_complete": self.stats_complete,
            "explanation": self.explanation,
            "errors": list(self.errors),
            "started": _time(self.started),
            "ended": _time(self.ended),
            "changed": self.changed,
            "totals": self.totals().to_dict(),
            "options": self.options.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PhaseResult:
        """The inverse of ``to_dict`` (used by ``eightfold report``)."""
        return cls(
            phase=data["phase"],
            ident=data["ident"],
            status=data["status"],
            rc=data.get("rc"),
            hosts={h: HostStats(**s) for h, s in data.get("hosts", {}).items()},
            outputs=dict(data.get("outputs") or {}),
            host_outputs=dict(data.get("host_outputs") or {}),
            failures=[Failure(**f) for f in data.get("failures", [])],
            duration=float(data.get("duration", 0.0)),
            artifact_dir=Path(data["artifact_dir"]) if data.get("artifact_dir") else None,
            playbook=data.get("playbook", ""),
            executor=data.get("executor", "local"),
            stats_complete=bool(data.get("stats_complete", True)),
            explanation=data.get("explanation", ""),
            started=_parse_time(data.get("started")),
            ended=_parse_time(data.get("ended")),
            options=RunOptions.from_dict(data.get("options")),
            errors=list(data.get("errors") or []),
        )

    def write(self, path: Path) -> None:
        """Write ``to_dict()`` as JSON to ``path`` (mode 0600, replaced atomically)."""
        tmp = path.with_name(path.name + ".tmp")
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n")
        tmp.replace(path)


_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_MAX_ERRORS = 10


def plain(text: str) -> str:
    """``text`` without terminal colour codes and carriage returns."""
    return _ANSI.sub("", text).replace("\r", "")


def _message(res: Mapping[str, Any]) -> str:
    for key in ("msg", "message", "stderr", "reason", "module_stderr", "stdout", "censored"):
        value = res.get(key)
        text = str(value).strip() if value else ""
        if text:
            return text[:2000]
    return "failed"


class EventAggregator:
    """Folds job events into per-host stats, failures and outputs, in constant memory per host.

    Counting follows Ansible's strategy plugin: a non-failed result counts ``ok`` (and ``changed`` when
    changed); a failure with ignore_errors counts ``ok`` and ``ignored``; a failure counts ``failed``;
    unreachable counts ``unreachable``; skipped counts ``skipped``. A failure that a ``rescue`` section
    handled cannot be told apart from events alone, so rebuilt stats count it as ``failed``.
    """

    _SET_STATS: ClassVar[set[str]] = {"set_stats", "ansible.builtin.set_stats", "ansible.legacy.set_stats"}

    def __init__(self) -> None:
        self.hosts: dict[str, HostStats] = {}
        self.failures: list[Failure] = []
        self.host_outputs: dict[str, dict[str, Any]] = {}
        self.final_stats: dict[str, HostStats] | None = None
        self.final_outputs: dict[str, Any] | None = None
        self.current_play = ""
        self.current_task = ""
        self.task_results = 0
        self.events = 0
        #: ansible-playbook's ``[ERROR]`` lines (first line of each, with its origin), at most ten.
        self.errors: list[str] = []
        #: The last lines ansible-playbook printed outside of task results (what a run that never
        #: reached a host said last).
        self.last_lines: deque[str] = deque(maxlen=5)
        self._origin_for: int | None = None

    def _host(self, name: str) -> HostStats:
        stats = self.hosts.get(name)
        if stats is None:
            stats = self.hosts[name] = HostStats()
        return stats

    def feed(self, event: Mapping[str, Any]) -> None:
        self.events += 1
        kind = event.get("event", "")
        data = event.get("event_data") or {}
        if kind == "playbook_on_play_start":
            self.current_play = data.get("play", "")
        elif kind in ("playbook_on_task_start", "playbook_on_handler_task_start"):
            self.current_task = data.get("task", "")
            self.task_results = 0
        elif kind.startswith("runner_on_") and kind not in ("runner_on_start", "runner_on_async_poll"):
            self._runner_event(kind, data)
        elif kind == "playbook_on_stats":
            self._stats_event(data)
        elif kind in ("verbose", "error", "warning", "system_warning"):
            self._output_line(str(event.get("stdout") or ""))

    def _output_line(self, stdout: str) -> None:
        for line in plain(stdout).splitlines():
            text = line.strip()
            if not text:
                continue
            self.last_lines.append(text[:500])
            if text.startswith(("[ERROR]", "ERROR!")):
                if len(self.errors) < _MAX_ERRORS:
                    self.errors.append(text[:500])
                    self._origin_for = len(self.errors) - 1
                continue
            if self._origin_for is not None and text.startswith("Origin:"):
                self.errors[self._origin_for] += f" ({text[:200]})"
            self._origin_for = None

    @property
    def reached_hosts(self) -> bool:
        """False when no task ran on any host (nothing matched, the playbook did not parse, ...)."""
        return bool(self.hosts) or bool(self.final_stats)

    def _runner_event(self, kind: str, data: Mapping[str, Any]) -> None:
        host = data.get("host")
        if not host:
            return
        self.task_results += 1
        stats = self._host(host)
        res = data.get("res") or {}
        task = data.get("task", "")
        if kind in ("runner_on_ok", "runner_on_async_ok"):
            stats.ok += 1
            if res.get("changed"):
                stats.changed += 1
            if data.get("task_action") in self._SET_STATS:
                self._set_stats(host, res)
        elif kind in ("runner_on_failed", "runner_on_async_failed"):
            if data.get("ignore_errors"):
                stats.ok += 1
                stats.ignored += 1
                if res.get("changed"):
                    stats.changed += 1
            else:
                stats.failed += 1
                self.failures.append(Failure(host=host, task=task, message=_message(res)))
        elif kind == "runner_on_unreachable":
            stats.unreachable += 1
            self.failures.append(Failure(host=host, task=task, message=_message(res), unreachable=True))
        elif kind == "runner_on_skipped":
            stats.skipped += 1

    def _set_stats(self, host: str, res: Mapping[str, Any]) -> None:
        stats = res.get("ansible_stats")
        if not isinstance(stats, Mapping) or not isinstance(stats.get("data"), Mapping):
            return
        data = dict(stats["data"])
        self.host_outputs.setdefault(host, {}).update(data)

    def _stats_event(self, data: Mapping[str, Any]) -> None:
        final: dict[str, HostStats] = {}
        for key, name in _STATS_KEYS.items():
            for host, count in (data.get(key) or {}).items():
                setattr(final.setdefault(host, HostStats()), name, int(count))
        for host in data.get("processed") or {}:
            final.setdefault(host, HostStats())
        self.final_stats = final
        artifact_data = data.get("artifact_data")
        if isinstance(artifact_data, Mapping):
            self.final_outputs = dict(artifact_data)

    # -- results -------------------------------------------------------------------------------------
    def stats(self) -> tuple[dict[str, HostStats], bool]:
        """The per-host stats and whether they are Ansible's own (True) or rebuilt from events."""
        if self.final_stats is not None:
            return self.final_stats, True
        return {h: dataclasses.replace(s) for h, s in self.hosts.items()}, False

    def result_outputs(self) -> dict[str, Any]:
        """set_stats values from task events (no concatenation); Ansible's recap values as a fallback.

        Hosts are merged in name order, not in the order they finished, so the same run gives the same
        outputs every time.
        """
        merged: dict[str, Any] = {}
        for host in sorted(self.host_outputs):
            merged.update(self.host_outputs[host])
        return merged if merged else dict(self.final_outputs or {})
