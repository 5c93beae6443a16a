"""Run phases of eightfold.devops from Python, over ansible-runner.

    >>> from eightfold import run_phase
    >>> result = run_phase("site", inventory="inventories/lab/hosts.yml")
    >>> result.status, result.hosts["app1"].changed

Every run gets a fresh private data dir and ident under the runs directory, so no state leaks between
runs (ansible-runner reuses stats of a reused ident and extra vars of a reused private data dir). Input
is checked before anything is written. Extra vars go to a file readable only by the user, never on the
command line; with secrets that file is vault-encrypted and its password travels on the run's pty
(see ``eightfold._secrets``). The environment ansible-runner stores with the command is reduced to its
variable names; secret values, and the forms derived from them, are masked in events and artifacts.
A run whose caller dies is finished by its reaper process; runs started from several threads share
nothing.
"""

from __future__ import annotations

import atexit
import contextlib
import copy
import json
import math
import os
import queue
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import IO, Any, Union

from eightfold import _procs, _runs, _secrets
from eightfold._collection import NAME, NAMESPACE, Playbook, find_collection, resolve_phase
from eightfold._inventory import check_inventory_data, check_inventory_path
from eightfold._secrets import Masker
from eightfold.errors import EightfoldError, PhaseInputError
from eightfold.executors import (
    POLL_INTERVAL,
    ContainerExecutor,
    Executor,
    Job,
    LocalExecutor,
    RemoteExecutor,
    executor_from_name,
)
from eightfold.results import RESULT_FILE, EventAggregator, PhaseResult, RunOptions

Inventory = Union[str, "os.PathLike[str]", Mapping[str, Any]]
#: A threading.Event, or a callable that returns true to cancel (a non-empty string: the reason).
CancelSource = Callable[[], bool | str] | threading.Event | None
EventCallback = Callable[[dict[str, Any]], None]
VaultPassword = str | Mapping[str, str] | None

_DONE = object()
_COLLECTION_COPY_IGNORE = shutil.ignore_patterns(
    ".git", ".venv", ".collections", ".cache", "tests", "tools", "bench", "src", "extensions", "docs",
    "reports", "__pycache__", "*.pyc", ".pytest_cache", ".ruff_cache", "*.tar.gz",
)  # fmt: skip
_SET_STATS = {"set_stats", "ansible.builtin.set_stats", "ansible.legacy.set_stats"}
_MAX_VERBOSITY = 4
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def default_runs_dir() -> Path:
    """Where runs are kept: ``$EIGHTFOLD_RUNS_DIR``, else ``$XDG_STATE_HOME/eightfold/runs``."""
    env = os.environ.get("EIGHTFOLD_RUNS_DIR")
    if env:
        return Path(env).expanduser()
    state = os.environ.get("XDG_STATE_HOME") or str(Path("~/.local/state").expanduser())
    return Path(state) / "eightfold" / "runs"


# -- input checks -------------------------------------------------------------------------------------


def _check_mapping(parameter: str, value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        kind = type(value).__name__
        raise PhaseInputError(parameter, f"must be a mapping of variable names to values, got {kind}")
    for key in value:
        if not isinstance(key, str) or not key.isidentifier():
            raise PhaseInputError(parameter, f"variable name {key!r} is not a valid identifier")
    try:
        json.dumps(dict(value))
    except (TypeError, ValueError) as exc:
        raise PhaseInputError(parameter, f"values must be JSON-serialisable: {exc}") from None
    return dict(value)


def _check_seconds(parameter: str, value: Any) -> float | None:
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not value > 0
    ):
        raise PhaseInputError(parameter, f"must be a finite positive number of seconds, got {value!r}")
    return float(value)


def _check_text(parameter: str, value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
    elif isinstance(value, Iterable):
        items = list(value)
        if not all(isinstance(i, str) and i.strip() for i in items):
            raise PhaseInputError(parameter, f"must be a string or a list of strings, got {value!r}")
        text = ",".join(i.strip() for i in items)
    else:
        raise PhaseInputError(parameter, f"must be a string or a list of strings, got {value!r}")
    if not text:
        raise PhaseInputError(parameter, "must not be empty")
    return text


def _check_forks(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise PhaseInputError("forks", f"must be a positive integer, got {value!r}")
    return value


def _check_verbosity(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _MAX_VERBOSITY:
        raise PhaseInputError("verbosity", f"must be an integer from 0 to {_MAX_VERBOSITY}, got {value!r}")
    return value


def _check_envvars(value: Any, secret_values: Sequence[str]) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise PhaseInputError("envvars", f"must be a mapping of names to strings, got {type(value).__name__}")
    checked: dict[str, str] = {}
    for key, item in value.items():
        if not isinstance(key, str) or not _ENV_NAME.match(key):
            raise PhaseInputError("envvars", f"{key!r} is not an environment variable name")
        if key == _procs.ENV_MARKER:
            raise PhaseInputError("envvars", f"{key} is set by eightfold itself")
        if not isinstance(item, str):
            raise PhaseInputError("envvars", f"{key}: values must be strings, got {type(item).__name__}")
        if any(s in item for s in secret_values):
            raise PhaseInputError(
                "envvars",
                f"{key} holds a secret's value: every process of the run would inherit it; "
                "pass it as a secret",
            )
        checked[key] = item
    return checked


def _check_vault(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if isinstance(value, str):
        value = {"default": value}
    if not isinstance(value, Mapping) or not value:
        raise PhaseInputError(
            "vault_password", "must be a password or a non-empty mapping of vault ids to passwords"
        )
    checked: dict[str, str] = {}
    for label, password in value.items():
        _secrets.check_vault_label("vault_password", label)
        if not isinstance(password, str) or not password or "\n" in password.rstrip("\n"):
            raise PhaseInputError(
                "vault_password", f"the password of vault id {label} must be one line of text"
            )
        checked[label] = password.rstrip("\n")
    return checked


def _check_ssh_key(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or "PRIVATE KEY-----" not in value:
        raise PhaseInputError(
            "ssh_key", "must be the text of a private key (-----BEGIN ... PRIVATE KEY-----)"
        )
    try:
        from cryptography.hazmat.primitives import serialization
    except ImportError:  # pragma: no cover - cryptography comes with ansible-core
        return value
    data = value.encode()
    loaders = (serialization.load_ssh_private_key, serialization.load_pem_private_key)
    for loader in loaders:
        try:
            loader(data, password=None)
        except TypeError:
            raise PhaseInputError(
                "ssh_key", "the key is protected by a passphrase; give it unprotected"
            ) from None
        except Exception:  # every other loader error means "not this format"
            continue
        return value if value.endswith("\n") else value + "\n"
    raise PhaseInputError("ssh_key", "is not a private key that ssh-add can read (OpenSSH or PEM format)")


def _check_file(parameter: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str | os.PathLike) or not str(value):
        raise PhaseInputError(parameter, f"must be a path, got {value!r}")
    path = Path(value).expanduser().resolve()
    if not path.is_file() or not os.access(path, os.R_OK):
        raise PhaseInputError(parameter, f"{path} is not a readable file")
    return str(path)


def _cancel_probe(cancel: CancelSource) -> Callable[[], bool | str] | None:
    if cancel is None:
        return None
    if isinstance(cancel, threading.Event):
        return cancel.is_set
    if callable(cancel):
        return cancel
    raise PhaseInputError("cancel", f"must be a threading.Event or a callable returning bool, got {cancel!r}")


def _write_private(path: Path, data: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data.encode() if isinstance(data, str) else data)


def _write_private_replace(tmp: Path, path: Path, text: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    _write_private(tmp, text)
    tmp.replace(path)


# -- runs still going when the program ends -----------------------------------------------------------

_LIVE: set[PhaseRun] = set()
_LIVE_LOCK = threading.Lock()


@atexit.register
def _finish_live_runs() -> None:
    """A program that exits without waiting for its runs cancels them and waits until they are finished
    (processes ended, result written, private data removed)."""
    with _LIVE_LOCK:
        live = list(_LIVE)
    for run in live:
        run.cancel("the program that started the run exited before it ended")
    for run in live:
        run._done.wait(60)


# -- a run --------------------------------------------------------------------------------------------


class PhaseRun:
    """A phase run in progress (from ``start_phase``).

    ``events()`` yields job events as ansible-runner hands them over (through a queue, no polling),
    ``status`` tells where it is, ``cancel()`` stops it, ``wait()`` returns the PhaseResult. Used as a
    context manager, leaving the ``with`` block cancels the run if it is still going and waits until it
    is finished; a program that exits without waiting does the same.
    """

    def __init__(
        self,
        *,
        playbook: Playbook,
        job: Job,
        executor: Executor,
        ident: str,
        masker: Masker,
        timeout: float | None,
        idle_timeout: float | None,
        on_event: EventCallback | None,
        cancel: Callable[[], bool | str] | None,
        stream_events: bool,
        keep_private_data: bool,
        write_events: bool,
        options: RunOptions,
        scratch_dir: Path | None,
        remote_tmp: str | None,
        ssh_key: str | None,
        keep_raw_outputs: bool,
    ) -> None:
        self.phase = playbook.name
        self.ident = ident
        self.private_data_dir = job.private_data_dir
        self.artifact_dir = job.private_data_dir / "artifacts" / ident
        self.options = options
        self._playbook = playbook
        self._job = job
        self._executor = executor
        self._masker = masker
        self._timeout = timeout
        self._idle_timeout = idle_timeout
        self._on_event = on_event
        self._user_cancel = cancel
        self._keep_private_data = keep_private_data
        self._write_events = write_events
        self._scratch_dir = scratch_dir
        self._remote_tmp = remote_tmp
        self._ssh_key = ssh_key
        self._keep_raw = keep_raw_outputs
        self._raw_host_outputs: dict[str, dict[str, Any]] = {}
        self._raw_final_outputs: dict[str, Any] = {}
        self._queue: queue.SimpleQueue[Any] | None = queue.SimpleQueue() if stream_events else None
        self._cancel_requested = threading.Event()
        self._cancel_reason: str | None = None
        self._done = threading.Event()
        self._stop_reason: str | None = None
        self._stop_lock = threading.Lock()
        self._callback_error: BaseException | None = None
        self._error: BaseException | None = None
        self._result: PhaseResult | None = None
        self._aggregator = EventAggregator()
        self._status = "pending"
        self._started_at = _runs.now()
        self._started = time.monotonic()
        self._last_event = self._started
        self._stdout: IO[str] | None = None
        self._reaper: subprocess.Popen[bytes] | None = None
        job.event_handler = self._handle_event
        job.status_handler = self._handle_status
        job.should_stop = self._should_stop
        self._thread = threading.Thread(target=self._run, name=f"eightfold-{ident[:8]}", daemon=True)

    # public ------------------------------------------------------------------------------------------
    @property
    def status(self) -> str:
        """pending, running, or the final status (successful, failed, error, timeout, canceled)."""
        return self._status

    @property
    def done(self) -> bool:
        return self._done.is_set()

    @property
    def progress(self) -> EventAggregator:
        """Live counters (current play and task, per-host stats so far); read-only use."""
        return self._aggregator

    def cancel(self, reason: str | None = None) -> None:
        """Ask the run to stop; it ends with status canceled within about a second. ``reason`` goes into
        the result's explanation."""
        if self._cancel_reason is None:
            self._cancel_reason = reason
        self._cancel_requested.set()

    def close(self, timeout: float | None = 60) -> None:
        """Cancel the run if it is still going and wait (at most ``timeout`` seconds) until it is
        finished: its processes ended, its result written, its private data removed."""
        if not self._done.is_set():
            self.cancel("the caller closed the run before it ended")
        self._done.wait(timeout)

    def __enter__(self) -> PhaseRun:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def events(self, timeout: float | None = None) -> Iterator[dict[str, Any]]:
        """Yield every job event until the run ends. ``timeout``: seconds to wait for the next event
        (raises TimeoutError). Only one consumer; needs ``stream_events=True`` (the default)."""
        if self._queue is None:
            raise EightfoldError("this run was started with stream_events=False")
        while True:
            try:
                item = self._queue.get(timeout=timeout)
            except queue.Empty:
                raise TimeoutError(f"no event within {timeout} s") from None
            if item is _DONE:
                self._queue.put(_DONE)  # a second iteration ends at once
                return
            yield item

    def wait(self, timeout: float | None = None) -> PhaseResult:
        """Block until the run ends (at most ``timeout`` seconds, else TimeoutError) and return its result."""
        if not self._done.wait(timeout):
            raise TimeoutError(f"phase {self.phase} ({self.ident}) still running after {timeout} s")
        if self._error is not None:
            raise self._error
        if self._callback_error is not None:
            raise EightfoldError(f"on_event raised {self._callback_error!r}") from self._callback_error
        assert self._result is not None
        return self._result

    @property
    def result(self) -> PhaseResult | None:
        return self._result

    # internals ---------------------------------------------------------------------------------------
    def _start(self, reaper: subprocess.Popen[bytes] | None) -> PhaseRun:
        self._reaper = reaper
        self._status = "running"
        with _LIVE_LOCK:
            _LIVE.add(self)
        self._thread.start()
        return self

    def _raw_outputs(self) -> dict[str, Any]:
        """The set_stats values as the phase published them (unmasked; kept in memory only)."""
        merged: dict[str, Any] = {}
        for host in sorted(self._raw_host_outputs):
            merged.update(self._raw_host_outputs[host])
        return merged if merged else dict(self._raw_final_outputs)

    def _should_stop(self) -> bool:
        if self._stop_reason is not None:
            return True
        now = time.monotonic()
        reason = None
        if self._cancel_requested.is_set():
            reason = "canceled"
        elif self._user_cancel is not None:
            try:
                said = self._user_cancel()
                if said:
                    reason = "canceled"
                    if isinstance(said, str) and self._cancel_reason is None:
                        self._cancel_reason = said
            except Exception as exc:  # a broken cancel source cancels the run
                self._callback_error = exc
                reason = "canceled"
        if reason is None and self._timeout is not None and now - self._started > self._timeout:
            reason = "timeout"
        if reason is None and self._idle_timeout is not None and now - self._last_event > self._idle_timeout:
            reason = "idle_timeout"
        if reason is not None:
            with self._stop_lock:
                first = self._stop_reason is None
                if first:
                    self._stop_reason = reason
            if first:
                # Ansible's workers run in sessions of their own: end the whole run now, not only the
                # process group ansible-runner kills, or the pty stays open and modules keep running.
                self._job.killed.update(_procs.kill_run(self.ident, grace=0))
            return True
        return False

    def _keep_raw_outputs(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        data = event.get("event_data") or {}
        if kind in ("runner_on_ok", "runner_on_async_ok") and data.get("task_action") in _SET_STATS:
            stats = (data.get("res") or {}).get("ansible_stats")
            if isinstance(stats, Mapping) and isinstance(stats.get("data"), Mapping) and data.get("host"):
                self._raw_host_outputs.setdefault(data["host"], {}).update(copy.deepcopy(dict(stats["data"])))
        elif kind == "playbook_on_stats" and isinstance(data.get("artifact_data"), Mapping):
            self._raw_final_outputs = copy.deepcopy(dict(data["artifact_data"]))

    def _write_stdout(self, event: dict[str, Any]) -> None:
        """The run's stdout artifact, written from the (masked) events: ansible-runner's own file would
        hold Ansible's output in clear until the run ends."""
        if "stdout" not in event:
            return
        text = str(event.get("stdout") or "")
        if not text and event.get("event") != "verbose":
            return
        if self._stdout is None:
            self.artifact_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(self.artifact_dir / "stdout", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            self._stdout = os.fdopen(fd, "w", encoding="utf-8", errors="replace")
        self._stdout.write(text + "\n")
        self._stdout.flush()

    def _handle_event(self, event: dict[str, Any]) -> bool:
        self._last_event = time.monotonic()
        if self._masker:
            if self._keep_raw:
                self._keep_raw_outputs(event)
            self._masker.mask(event)
        with contextlib.suppress(OSError):
            self._write_stdout(event)
        self._aggregator.feed(event)
        if self._on_event is not None and self._callback_error is None:
            try:
                self._on_event(event)
            except Exception as exc:
                self._callback_error = exc
                self._cancel_requested.set()
        if self._queue is not None:
            self._queue.put(event)
        return self._write_events

    def _handle_status(self, data: dict[str, Any], runner_config: Any = None) -> None:
        if data.get("status") == "running":
            _runs.scrub_command(self.artifact_dir)
        explanation = data.get("job_explanation")
        if explanation:
            self._job.explanation.append(self._masker.text(str(explanation)))

    def _scrub_events(self) -> None:
        """Mask what a remote worker said on stderr and the events its artifact copy may bring back
        (every other event file is written by the event handler, masked)."""
        if not self._masker or not isinstance(self._executor, RemoteExecutor):
            return
        stderr = self.private_data_dir / "worker.stderr"
        with contextlib.suppress(OSError):
            text = stderr.read_text(encoding="utf-8", errors="replace")
            if self._masker.contains(text):
                _write_private_replace(stderr.with_name("worker.stderr.tmp"), stderr, self._masker.text(text))
        events_dir = self.artifact_dir / "job_events"
        if not events_dir.is_dir():
            return
        for path in events_dir.iterdir():
            with contextlib.suppress(OSError, ValueError):
                text = path.read_text(encoding="utf-8", errors="replace")
                if self._masker.contains(text):
                    masked = json.dumps(self._masker.mask(json.loads(text)))
                    _write_private_replace(path.with_name(path.name + ".tmp"), path, masked)

    def _start_agent(self) -> None:
        """An ssh-agent for this run holding ``ssh_key`` (handed to ssh-add on a pipe, never a file)."""
        assert self._scratch_dir is not None and self._ssh_key is not None
        socket = self._scratch_dir / "agent"
        env = {**_procs.child_environment(os.environ, self._job.secret_values), _procs.ENV_MARKER: self.ident}
        env.pop("SSH_AUTH_SOCK", None)
        started = subprocess.run(
            ["ssh-agent", "-a", str(socket)], env=env, capture_output=True, text=True, check=False, timeout=30
        )
        if started.returncode != 0:
            raise EightfoldError(f"ssh_key: ssh-agent did not start: {started.stderr.strip()[:200]}")
        added = subprocess.run(
            ["ssh-add", "-q", "-"],
            input=self._ssh_key,
            env={**env, "SSH_AUTH_SOCK": str(socket)},
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
        if added.returncode != 0:
            raise EightfoldError(f"ssh_key: ssh-add refused the key: {added.stderr.strip()[:200]}")
        self._job.envvars["SSH_AUTH_SOCK"] = str(socket)

    def _run(self) -> None:
        runner_status, rc = "failed", None
        try:
            if self._ssh_key is not None:
                self._start_agent()
            runner_status, rc = self._executor.run(self._job)
        except EightfoldError as exc:
            runner_status = "error"
            self._job.explanation.append(self._masker.text(str(exc)))
        except BaseException as exc:
            self._error = EightfoldError(f"run failed: {self._masker.text(repr(exc))}")
            self._error.__cause__ = exc
            runner_status = "error"
        finally:
            try:
                self._finish(runner_status, rc)
            finally:
                self._done.set()
                with _LIVE_LOCK:
                    _LIVE.discard(self)
                if self._queue is not None:
                    self._queue.put(_DONE)
                self._release_reaper()

    def _release_reaper(self) -> None:
        """Tell the reaper the run is finished; it exits (reaped later by subprocess, not waited for)."""
        reaper, self._reaper = self._reaper, None
        if reaper is None:
            return
        with contextlib.suppress(OSError):
            assert reaper.stdin is not None
            reaper.stdin.write(b"done")
            reaper.stdin.close()
        reaper.poll()

    def _status_of(self, runner_status: str) -> str:
        if self._stop_reason is not None and runner_status != "successful":
            return "timeout" if self._stop_reason == "idle_timeout" else self._stop_reason
        if runner_status in ("successful", "timeout", "canceled"):
            return runner_status
        if runner_status == "error" or not self._aggregator.reached_hosts:
            return "error"
        return "failed"

    def _explanation(self, status: str, rc: int | None) -> str:
        errors = self._aggregator.errors
        job = self._masker.text("; ".join(self._job.explanation))
        if self._callback_error is not None:
            return f"on_event or cancel raised {self._masker.text(repr(self._callback_error))}"
        if status == "timeout":
            if self._stop_reason == "idle_timeout":
                return f"stopped: no event for {self._idle_timeout:g} s (idle_timeout)"
            if self._stop_reason == "timeout":
                return f"stopped by the timeout of {self._timeout:g} s"
            return job or "timed out"
        if status == "canceled":
            if self._stop_reason is not None:
                return f"canceled: {self._cancel_reason}" if self._cancel_reason else "canceled on request"
            return job or "canceled"
        if status == "error":
            if errors:
                return "; ".join(errors)
            if job:
                return job
            last = self._aggregator.last_lines[-1] if self._aggregator.last_lines else ""
            return last or f"ansible-playbook ended with rc {rc} before reaching a host"
        if status == "failed":
            return "; ".join(errors) if errors else job
        return ""

    def _finish(self, runner_status: str, rc: int | None) -> None:
        with contextlib.suppress(Exception):
            self._executor.cleanup(self._job)
        if self._stdout is not None:
            with contextlib.suppress(OSError):
                self._stdout.close()
        if self._scratch_dir is not None:
            shutil.rmtree(self._scratch_dir, ignore_errors=True)
        if self._executor.on_this_machine:
            _runs.remove_remote_tmp(self._job.killed, self._remote_tmp)
        status = self._status_of(runner_status)
        if rc is None:
            with contextlib.suppress(OSError, ValueError):
                rc = int((self.artifact_dir / "rc").read_text().strip())
        hosts, complete = self._aggregator.stats()
        ended = _runs.now()
        self._result = PhaseResult(
            phase=self.phase,
            ident=self.ident,
            status=status,  # type: ignore[arg-type]
            rc=rc,
            hosts=hosts,
            outputs=self._aggregator.result_outputs(),
            host_outputs=self._aggregator.host_outputs,
            failures=list(self._aggregator.failures),
            duration=time.monotonic() - self._started,
            artifact_dir=self.artifact_dir,
            playbook=str(self._playbook.path),
            executor=self._executor.name,
            stats_complete=complete,
            explanation=self._explanation(status, rc),
            started=self._started_at,
            ended=ended,
            options=self.options,
            errors=list(self._aggregator.errors),
        )
        self._status = status
        with contextlib.suppress(OSError):
            self._scrub_events()
            _runs.scrub_command(self.artifact_dir)
        if self._keep_private_data:
            shutil.rmtree(self.private_data_dir / "tmp", ignore_errors=True)
        else:
            _runs.remove_private(self.private_data_dir, self.artifact_dir)
        with contextlib.suppress(OSError):
            self.artifact_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._result.write(self.artifact_dir / RESULT_FILE)


# -- starting a run -----------------------------------------------------------------------------------


@dataclass
class _Plan:
    """A run's input, checked."""

    playbook: Playbook
    executor: Executor
    extra: dict[str, Any]
    secrets: dict[str, Any]
    handoff: dict[str, Any]
    inventory_path: Path | None
    inventory_data: dict[str, Any] | None
    limit: str | None
    tags: str | None
    skip_tags: str | None
    check: bool
    diff: bool
    forks: int | None
    verbosity: int
    envvars: dict[str, str]
    vault: dict[str, str]
    ssh_key: str | None
    private_key_file: str | None
    timeout: float | None
    idle_timeout: float | None
    on_event: EventCallback | None
    cancel: Callable[[], bool | str] | None
    runs_dir: Path
    keep_private_data: bool
    stream_events: bool
    write_events: bool
    keep_raw_outputs: bool = False
    secret_values: list[str] = field(default_factory=list)

    def options(self) -> RunOptions:
        return RunOptions(
            inventory=str(self.inventory_path) if self.inventory_path else "(mapping)",
            limit=self.limit,
            tags=self.tags,
            skip_tags=self.skip_tags,
            check=self.check,
            diff=self.diff,
            forks=self.forks,
            verbosity=self.verbosity,
            timeout=self.timeout,
            idle_timeout=self.idle_timeout,
            extravars=tuple(sorted(self.extra)),
            secrets=tuple(sorted({*self.secrets, *self.handoff})),
            envvars=tuple(sorted(self.envvars)),
            vault_ids=tuple(sorted(self.vault)),
            ssh_key=self.ssh_key is not None,
            private_key_file=self.private_key_file,
        )


def _check_executor(executor: Executor | str | None) -> Executor:
    if executor is None:
        return LocalExecutor()
    if isinstance(executor, str):
        try:
            return executor_from_name(executor)
        except EightfoldError as exc:
            raise PhaseInputError("executor", str(exc)) from None
    if isinstance(executor, Executor):
        return executor
    raise PhaseInputError("executor", f"must be an Executor or a name, got {executor!r}")


def _plan(
    name: str,
    *,
    inventory: Inventory,
    extravars: Mapping[str, Any] | None,
    secrets: Mapping[str, Any] | None,
    limit: str | Sequence[str] | None,
    tags: str | Sequence[str] | None,
    skip_tags: str | Sequence[str] | None,
    check: bool,
    diff: bool,
    forks: int | None,
    verbosity: int,
    envvars: Mapping[str, str] | None,
    vault_password: VaultPassword,
    ssh_key: str | None,
    private_key_file: str | os.PathLike[str] | None,
    timeout: float | None,
    idle_timeout: float | None,
    on_event: EventCallback | None,
    cancel: CancelSource,
    executor: Executor | str | None,
    runs_dir: str | os.PathLike[str] | None,
    keep_private_data: bool,
    stream_events: bool,
    write_events: bool,
    handoff: Mapping[str, Any] | None = None,
) -> _Plan:
    """Check every input; raise PhaseInputError naming the first bad one. Nothing is written."""
    playbook = resolve_phase(name)
    extra = _check_mapping("extravars", extravars)
    secret = _check_mapping("secrets", secrets)
    _secrets.check_lengths("secrets", secret)
    passed = dict(handoff or {})
    overlap = sorted(set(extra) & (set(secret) | set(passed)))
    if overlap:
        raise PhaseInputError("secrets", f"variables given both as extravars and secrets: {overlap}")
    vault = _check_vault(vault_password)
    key = _check_ssh_key(ssh_key)
    values = [text for _, text in _secrets.leaves({**secret, **passed}) if len(text) >= _secrets.MIN_LENGTH]
    values += [v for v in vault.values() if len(v) >= _secrets.MIN_LENGTH]
    plan_env = _check_envvars(envvars, values)
    executor_obj = _check_executor(executor)
    if key is not None and isinstance(executor_obj, RemoteExecutor) and executor_obj.shell:
        raise PhaseInputError("ssh_key", "the run's ssh-agent is on this machine: not for a worker over SSH")
    inventory_path: Path | None = None
    inventory_data: dict[str, Any] | None = None
    if isinstance(inventory, Mapping):
        check_inventory_data(inventory, "inventory")
        try:
            inventory_data = json.loads(json.dumps(dict(inventory)))
        except (TypeError, ValueError) as exc:
            raise PhaseInputError("inventory", f"must be JSON-serialisable: {exc}") from None
    elif isinstance(inventory, str | os.PathLike) and str(inventory):
        inventory_path = Path(inventory).expanduser().resolve()
        check_inventory_path(inventory_path)
    else:
        raise PhaseInputError("inventory", f"must be a path or a mapping, got {inventory!r}")
    probe = _cancel_probe(cancel)
    if on_event is not None and not callable(on_event):
        raise PhaseInputError("on_event", f"must be callable, got {on_event!r}")
    runs = Path(runs_dir).expanduser() if runs_dir else default_runs_dir()
    if runs.exists() and not runs.is_dir():
        raise PhaseInputError("runs_dir", f"{runs} is not a directory")
    plan = _Plan(
        playbook=playbook,
        executor=executor_obj,
        extra=extra,
        secrets=secret,
        handoff=passed,
        inventory_path=inventory_path,
        inventory_data=inventory_data,
        limit=_check_text("limit", limit),
        tags=_check_text("tags", tags),
        skip_tags=_check_text("skip_tags", skip_tags),
        check=bool(check),
        diff=bool(diff),
        forks=_check_forks(forks),
        verbosity=_check_verbosity(verbosity),
        envvars=plan_env,
        vault=vault,
        ssh_key=key,
        private_key_file=_check_file("private_key_file", private_key_file),
        timeout=_check_seconds("timeout", timeout),
        idle_timeout=_check_seconds("idle_timeout", idle_timeout),
        on_event=on_event,
        cancel=probe,
        runs_dir=runs,
        keep_private_data=bool(keep_private_data),
        stream_events=bool(stream_events),
        write_events=bool(write_events),
        secret_values=values,
    )
    executor_obj.check()
    return plan


def _spawn_reaper(run_dir: Path, secret_values: Sequence[str]) -> subprocess.Popen[bytes] | None:
    env = _procs.child_environment(os.environ, secret_values)
    env.pop(_procs.ENV_MARKER, None)
    package_parent = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join([package_parent, *filter(None, [env.get("PYTHONPATH")])])
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "eightfold._reaper", str(run_dir)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            env=env,
        )
    except OSError:
        return None


def _launch(plan: _Plan) -> PhaseRun:
    try:
        plan.runs_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        ident = uuid.uuid4().hex
        pdd = plan.runs_dir / ident
        pdd.mkdir(mode=0o700)
    except OSError as exc:
        raise PhaseInputError("runs_dir", f"{plan.runs_dir}: {exc.strerror or exc}") from None
    reaper: subprocess.Popen[bytes] | None = None
    scratch: Path | None = None
    try:
        executor = plan.executor
        ships = executor.ships_project
        local = executor.on_this_machine
        needs_scratch = plan.ssh_key is not None or (
            not ships and "ANSIBLE_SSH_CONTROL_PATH_DIR" not in os.environ
        )
        if needs_scratch:
            # A short per-run directory: SSH control sockets and the agent's socket (length-limited).
            scratch = Path(tempfile.mkdtemp(prefix=f"ef-{ident[:12]}-"))
        envvars: dict[str, str] = {
            # A source ansible-playbook cannot parse must fail the run, not fall back to implicit localhost.
            "ANSIBLE_INVENTORY_UNPARSED_FAILED": "True",
            # Inherited by every process of the run, so a cancel can find and end all of them.
            _procs.ENV_MARKER: ident,
        }
        if "ANSIBLE_PIPELINING" not in os.environ and "ANSIBLE_PIPELINING" not in plan.envvars:
            # Modules travel on stdin instead of as files (with their arguments) in the remote temp dir.
            envvars["ANSIBLE_PIPELINING"] = "True"
        has_secrets = bool(plan.secrets or plan.handoff)
        if has_secrets:
            envvars.update(
                {
                    "ANSIBLE_CACHE_PLUGIN": "memory",  # facts (ansible_env, cacheable set_fact) not stored
                    "ANSIBLE_LOG_PATH": os.devnull,  # Ansible's own log is not masked
                    "ANSIBLE_KEEP_REMOTE_FILES": "False",
                }
            )
        if not ships:
            # Ansible's controller files, and what modules on this machine put in the system temp dir (a
            # killed module leaves its AnsiballZ payload there): in the run's own, removed afterwards.
            (pdd / "tmp").mkdir(mode=0o700)
            envvars["ANSIBLE_LOCAL_TEMP"] = str(pdd / "tmp")
            envvars["TMPDIR"] = str(pdd / "tmp")
            if plan.playbook.collections_path is not None:
                current = os.environ.get("ANSIBLE_COLLECTIONS_PATH", "")
                parts = [str(plan.playbook.collections_path), *[p for p in current.split(os.pathsep) if p]]
                envvars["ANSIBLE_COLLECTIONS_PATH"] = os.pathsep.join(dict.fromkeys(parts))
            if scratch is not None and "ANSIBLE_SSH_CONTROL_PATH_DIR" not in os.environ:
                envvars["ANSIBLE_SSH_CONTROL_PATH_DIR"] = str(scratch)
        user_env = {k: v for k, v in plan.envvars.items() if not (has_secrets and k in envvars)}
        envvars = {**envvars, **user_env, _procs.ENV_MARKER: ident}
        remote_tmp = envvars.get("ANSIBLE_REMOTE_TMP", os.environ.get("ANSIBLE_REMOTE_TMP"))
        options = plan.options()
        meta: dict[str, Any] = {
            "ident": ident,
            "phase": plan.playbook.name,
            "playbook": str(plan.playbook.path),
            "executor": executor.name,
            "started": _runs.now().isoformat(timespec="milliseconds"),
            "scratch_dir": str(scratch) if scratch else None,
            "local": local,
            "remote_tmp": remote_tmp,
            "options": options.to_dict(),
        }
        if isinstance(executor, ContainerExecutor):
            with contextlib.suppress(EightfoldError):
                meta["container"] = {"engine": executor.engine_name(), "name": f"ansible_runner_{ident}"}
        _runs.write_meta(pdd, meta)
        reaper = _spawn_reaper(pdd, plan.secret_values)

        # Inventory
        if plan.inventory_data is not None:
            inv = pdd / "inventory" / "hosts.json"
            _write_private(inv, json.dumps(plan.inventory_data))
        else:
            assert plan.inventory_path is not None
            inv = plan.inventory_path
            if ships:
                target = pdd / "inventory" / inv.name
                (pdd / "inventory").mkdir(mode=0o700)
                if inv.is_dir():
                    shutil.copytree(inv, target, symlinks=False)
                else:
                    shutil.copy2(inv, target)
                inv = target

        # Project
        play_path = plan.playbook.path
        collection_root: Path | None = None
        if ships:
            project = pdd / "project"
            try:
                collection_root = find_collection()[0]
            except PhaseInputError:
                collection_root = None
            if collection_root is not None and _is_within(play_path, collection_root / "playbooks"):
                dest = project / "collections" / "ansible_collections" / NAMESPACE / NAME
                shutil.copytree(collection_root, dest, ignore=_COLLECTION_COPY_IGNORE, symlinks=True)
                play_path = dest / play_path.resolve().relative_to(collection_root.resolve())
            else:
                shutil.copytree(play_path.parent, project, ignore=shutil.ignore_patterns("__pycache__", ".*"))
                play_path = project / play_path.name

        # Variables: one file readable only by the user, never the command line; vault-encrypted under a
        # password that only this process and ansible-playbook's memory ever hold when there are secrets.
        (pdd / "env").mkdir(mode=0o700, exist_ok=True)
        all_vars = {**plan.extra, **plan.secrets, **plan.handoff}
        cmdline: list[str] = []
        passwords: dict[str, str | None] = {}
        if has_secrets:
            encrypted, password = _secrets.encrypt(all_vars)
            _write_private(pdd / "env" / "extravars", encrypted)
            cmdline += ["--vault-id", f"{_secrets.VAULT_ID}@prompt"]
            passwords[_secrets.vault_prompt(_secrets.VAULT_ID)] = password
        elif all_vars:
            _write_private(pdd / "env" / "extravars", json.dumps(all_vars))
        for label, vault_password in plan.vault.items():
            cmdline += ["--vault-id", f"{label}@prompt"]
            passwords[_secrets.vault_prompt(label)] = vault_password
        _write_private(pdd / "env" / "settings", json.dumps(_settings(plan.timeout)))
        if plan.check:
            cmdline.append("--check")
        if plan.diff:
            cmdline.append("--diff")
        if plan.private_key_file:
            cmdline += ["--private-key", plan.private_key_file]

        handed_on = [text for _, text in _secrets.leaves(plan.handoff)]
        masker = Masker([*plan.secret_values, *handed_on, *([plan.ssh_key] if plan.ssh_key else [])])
        job = Job(
            ident=ident,
            private_data_dir=pdd,
            playbook=play_path,
            inventory=inv,
            limit=plan.limit,
            tags=plan.tags,
            skip_tags=plan.skip_tags,
            forks=plan.forks,
            cmdline=cmdline,
            envvars=envvars,
            timeout=plan.timeout,
            event_handler=lambda event: True,
            status_handler=lambda data, config=None: None,
            should_stop=lambda: False,
            collection_root=collection_root,
            control_dir=scratch,
            passwords=passwords,
            verbosity=plan.verbosity,
            secret_values=tuple(plan.secret_values),
        )
        run = PhaseRun(
            playbook=plan.playbook,
            job=job,
            executor=executor,
            ident=ident,
            masker=masker,
            timeout=plan.timeout,
            idle_timeout=plan.idle_timeout,
            on_event=plan.on_event,
            cancel=plan.cancel,
            stream_events=plan.stream_events,
            keep_private_data=plan.keep_private_data,
            write_events=plan.write_events,
            options=options,
            scratch_dir=scratch,
            remote_tmp=remote_tmp,
            ssh_key=plan.ssh_key,
            keep_raw_outputs=plan.keep_raw_outputs,
        )
    except BaseException as exc:
        # Nothing ran: leave nothing behind.
        if reaper is not None:
            with contextlib.suppress(OSError):
                assert reaper.stdin is not None
                reaper.stdin.write(b"done")
                reaper.stdin.close()
            with contextlib.suppress(subprocess.TimeoutExpired):
                reaper.wait(timeout=10)
        shutil.rmtree(pdd, ignore_errors=True)
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
        if isinstance(exc, OSError):
            raise EightfoldError(f"could not prepare the run in {pdd}: {exc}") from exc
        raise
    return run._start(reaper)


def _settings(timeout: float | None) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "pexpect_timeout": POLL_INTERVAL,
        "suppress_ansible_output": True,
        # The stdout artifact is written by the API from masked events.
        "suppress_output_file": True,
    }
    if timeout:
        # A backstop only: the API enforces the exact timeout through should_stop.
        settings["job_timeout"] = math.ceil(timeout) + 5
    return settings


def _is_within(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True


# -- the public functions -----------------------------------------------------------------------------


def start_phase(
    name: str,
    *,
    inventory: Inventory,
    extravars: Mapping[str, Any] | None = None,
    secrets: Mapping[str, Any] | None = None,
    limit: str | Sequence[str] | None = None,
    tags: str | Sequence[str] | None = None,
    skip_tags: str | Sequence[str] | None = None,
    check: bool = False,
    diff: bool = False,
    forks: int | None = None,
    verbosity: int = 0,
    envvars: Mapping[str, str] | None = None,
    vault_password: VaultPassword = None,
    ssh_key: str | None = None,
    private_key_file: str | os.PathLike[str] | None = None,
    timeout: float | None = None,
    idle_timeout: float | None = None,
    on_event: EventCallback | None = None,
    cancel: CancelSource = None,
    executor: Executor | str | None = None,
    runs_dir: str | os.PathLike[str] | None = None,
    keep_private_data: bool = False,
    stream_events: bool = True,
    write_events: bool = True,
) -> PhaseRun:
    """Start a phase in the background and return its PhaseRun at once.

    Everything is checked before anything is written; bad input raises PhaseInputError naming the
    parameter. See ``run_phase`` for the parameters; ``stream_events`` feeds ``PhaseRun.events()`` (turn
    it off when nobody reads them, so they are not buffered).
    """
    plan = _plan(
        name,
        inventory=inventory,
        extravars=extravars,
        secrets=secrets,
        limit=limit,
        tags=tags,
        skip_tags=skip_tags,
        check=check,
        diff=diff,
        forks=forks,
        verbosity=verbosity,
        envvars=envvars,
        vault_password=vault_password,
        ssh_key=ssh_key,
        private_key_file=private_key_file,
        timeout=timeout,
        idle_timeout=idle_timeout,
        on_event=on_event,
        cancel=cancel,
        executor=executor,
        runs_dir=runs_dir,
        keep_private_data=keep_private_data,
        stream_events=stream_events,
        write_events=write_events,
    )
    return _launch(plan)


def _wait(run: PhaseRun) -> PhaseResult:
    try:
        return run.wait()
    except KeyboardInterrupt:
        run.cancel("interrupted (KeyboardInterrupt)")
        run._done.wait(60)
        raise


def run_phase(
    name: str,
    *,
    inventory: Inventory,
    extravars: Mapping[str, Any] | None = None,
    secrets: Mapping[str, Any] | None = None,
    limit: str | Sequence[str] | None = None,
    tags: str | Sequence[str] | None = None,
    skip_tags: str | Sequence[str] | None = None,
    check: bool = False,
    diff: bool = False,
    forks: int | None = None,
    verbosity: int = 0,
    envvars: Mapping[str, str] | None = None,
    vault_password: VaultPassword = None,
    ssh_key: str | None = None,
    private_key_file: str | os.PathLike[str] | None = None,
    timeout: float | None = None,
    idle_timeout: float | None = None,
    on_event: EventCallback | None = None,
    cancel: CancelSource = None,
    executor: Executor | str | None = None,
    runs_dir: str | os.PathLike[str] | None = None,
    keep_private_data: bool = False,
    write_events: bool = True,
) -> PhaseResult:
    """Run a phase (or any playbook of the collection, or a playbook file) and return its PhaseResult.

    name: ``site``, ``eightfold.devops.site`` or a path to a playbook. inventory: a path (file or
    directory) or a mapping in the YAML inventory format. extravars: passed as extra vars. secrets:
    extra vars that reach Ansible vault-encrypted, whose values (at least 8 characters each) and derived
    forms are masked in events and artifacts (use no_log in tasks that touch them). limit, tags,
    skip_tags: a string or a list. check/diff: ``--check``/``--diff``. forks: parallelism. verbosity:
    0-4 (``-v`` ... ``-vvvv``). envvars: environment variables for ansible-playbook (never a secret).
    vault_password: the password of the inventory's vault, or a mapping of vault ids to passwords
    (answered on the run's pty). ssh_key: the text of a private key, loaded into an ssh-agent of the
    run (never written). private_key_file: ``--private-key``. timeout: seconds for the whole run;
    idle_timeout: seconds without an event; both end the run with status timeout. on_event: called with
    every job event (in the run's thread). cancel: a threading.Event or a callable; when set/true the
    run ends with status canceled. executor: LocalExecutor (default), ContainerExecutor,
    RemoteExecutor, or "local"/"container"/"pipe". runs_dir: where the run's directory goes (default
    ``default_runs_dir()``). keep_private_data: keep the variables file (encrypted when there are
    secrets), inventory copy and project copy after the run. write_events: also store each event under
    ``artifacts/<ident>/job_events``.
    """
    run = start_phase(
        name,
        inventory=inventory,
        extravars=extravars,
        secrets=secrets,
        limit=limit,
        tags=tags,
        skip_tags=skip_tags,
        check=check,
        diff=diff,
        forks=forks,
        verbosity=verbosity,
        envvars=envvars,
        vault_password=vault_password,
        ssh_key=ssh_key,
        private_key_file=private_key_file,
        timeout=timeout,
        idle_timeout=idle_timeout,
        on_event=on_event,
        cancel=cancel,
        executor=executor,
        runs_dir=runs_dir,
        keep_private_data=keep_private_data,
        stream_events=False,
        write_events=write_events,
    )
    return _wait(run)


def run_pipeline(
    phases: Sequence[str],
    *,
    inventory: Inventory,
    extravars: Mapping[str, Any] | None = None,
    secrets: Mapping[str, Any] | None = None,
    on_failure: str | None = None,
    on_result: Callable[[PhaseResult], None] | None = None,
    **options: Any,
) -> list[PhaseResult]:
    """Run phases one after the other, the way an AWX workflow does.

    The outputs of each phase (its ``set_stats`` values) are added to the extra vars of the next one.
    An output that holds a secret's value, or that is named like a secret, is handed on as a secret:
    its real value, vault-encrypted like every secret, never written in clear and masked in results.
    The pipeline stops at the first phase that is not successful; when it failed or timed out (not
    when it was canceled) ``on_failure`` (a phase, for example a rollback) runs with the outputs so far
    plus ``eightfold_failed_phase`` (its name) and ``eightfold_failed_result`` (its result as a dict).
    Returns the results in order, on_failure's last. ``options`` are passed to every ``run_phase``
    (limit, check, timeout, executor, cancel, on_event, ...); they are all checked, with every phase
    name, before the first phase starts.
    """
    if isinstance(phases, str) or not isinstance(phases, Sequence) or not phases:
        raise PhaseInputError("phases", f"must be a non-empty list of phase names, got {phases!r}")
    if "stream_events" in options:
        raise PhaseInputError("stream_events", "not an option of run_pipeline")
    unknown = sorted(set(options) - _PIPELINE_OPTIONS)
    if unknown:
        raise PhaseInputError(unknown[0], "not an option of run_phase")
    kwargs: dict[str, Any] = {k: options.get(k, v) for k, v in _PIPELINE_DEFAULTS.items()}
    names = [*phases, *([on_failure] if on_failure is not None else [])]
    for phase in names:
        _plan(phase, inventory=inventory, extravars=extravars, secrets=secrets, **kwargs)
    carried = _check_mapping("extravars", extravars)
    handoff: dict[str, Any] = {}
    secret_names = set(_check_mapping("secrets", secrets))
    results: list[PhaseResult] = []

    def run(phase: str, extra: dict[str, Any]) -> PhaseRun:
        plan = _plan(phase, inventory=inventory, extravars=extra, secrets=secrets, handoff=handoff, **kwargs)
        plan.keep_raw_outputs = True
        plan.stream_events = False
        return _launch(plan)

    for phase in phases:
        current = run(phase, carried)
        result = _wait(current)
        results.append(result)
        if on_result is not None:
            on_result(result)
        if not result.ok:
            if on_failure is not None and result.status != "canceled":
                rollback_vars = {
                    **carried,
                    "eightfold_failed_phase": result.phase,
                    "eightfold_failed_result": result.to_dict(),
                }
                rollback = _wait(run(on_failure, rollback_vars))
                results.append(rollback)
                if on_result is not None:
                    on_result(rollback)
            break
        raw = current._raw_outputs() if current._keep_raw and current._masker else dict(result.outputs)
        for key, value in raw.items():
            if key in secret_names or result.outputs.get(key) != value:
                handoff[key] = value  # holds a secret (its masked form differs) or is named like one
                carried.pop(key, None)
            else:
                carried[key] = value
                handoff.pop(key, None)
    return results


_PIPELINE_DEFAULTS: dict[str, Any] = {
    "limit": None,
    "tags": None,
    "skip_tags": None,
    "check": False,
    "diff": False,
    "forks": None,
    "verbosity": 0,
    "envvars": None,
    "vault_password": None,
    "ssh_key": None,
    "private_key_file": None,
    "timeout": None,
    "idle_timeout": None,
    "on_event": None,
    "cancel": None,
    "executor": None,
    "runs_dir": None,
    "keep_private_data": False,
    "stream_events": False,
    "write_events": True,
}
_PIPELINE_OPTIONS = set(_PIPELINE_DEFAULTS) - {"stream_events"}


def load_result(run: str | os.PathLike[str], runs_dir: str | os.PathLike[str] | None = None) -> PhaseResult:
    """Load the PhaseResult of an earlier run: its ident (or a prefix that only it starts with), its run
    directory or its artifact directory. A prefix of several runs is refused with the candidates."""
    text = str(run).strip()
    if not text:
        raise PhaseInputError("run", "must not be empty")
    base = Path(runs_dir).expanduser() if runs_dir else default_runs_dir()
    path = Path(text).expanduser()
    if "/" not in text and not path.exists():
        if (base / text).is_dir():
            path = base / text
        else:
            matches = sorted(p for p in _runs.run_dirs(base) if p.name.startswith(text.lower()))
            if len(matches) > 1:
                shown = ", ".join(p.name[:12] for p in matches[:8]) + (" ..." if len(matches) > 8 else "")
                raise PhaseInputError(
                    "run", f"{text!r} is the start of {len(matches)} runs ({shown}): give more characters"
                )
            if not matches:
                raise PhaseInputError("run", f"no run {text!r} (looked in {base})")
            path = matches[0]
    for candidate in (path / RESULT_FILE, path / "artifacts" / path.name / RESULT_FILE, path):
        if candidate.is_file() and candidate.name == RESULT_FILE:
            try:
                return PhaseResult.from_dict(json.loads(candidate.read_text(encoding="utf-8")))
            except (ValueError, KeyError, TypeError) as exc:
                raise PhaseInputError("run", f"{candidate} is not a result file: {exc}") from None
    if path.is_dir() and _runs.read_meta(path) is not None:
        raise PhaseInputError(
            "run", f"run {path.name} has no result yet (still running, or see eightfold runs prune)"
        )
    raise PhaseInputError("run", f"no run {text!r} (looked in {base})")


def list_runs(runs_dir: str | os.PathLike[str] | None = None) -> list[_runs.RunInfo]:
    """The runs of a runs directory, oldest first: ident, phase, status (the result's, or ``running``,
    or ``abandoned`` when the caller died before the run ended), start and end, changed."""
    return _runs.list_runs(Path(runs_dir).expanduser() if runs_dir else default_runs_dir())


def prune_runs(
    runs_dir: str | os.PathLike[str] | None = None, older_than: timedelta | float | None = None
) -> _runs.PruneReport:
    """Finish every abandoned run (end its processes, remove its private data, write its result, status
    canceled) and, with ``older_than`` (a timedelta or seconds), remove the runs that ended before then."""
    if older_than is not None and not isinstance(older_than, timedelta):
        seconds = _check_seconds("older_than", older_than)
        older_than = timedelta(seconds=seconds or 0)
    return _runs.prune_runs(Path(runs_dir).expanduser() if runs_dir else default_runs_dir(), older_than)
