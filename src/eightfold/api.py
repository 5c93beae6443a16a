"""Run phases of eightfold.devops from Python, over ansible-runner.

    >>> from eightfold import run_phase
    >>> result = run_phase("site", inventory="inventories/lab/hosts.yml")
    >>> result.status, result.hosts["app1"].changed

Every run gets a fresh private data dir and ident under the runs directory, so no state leaks between
runs (ansible-runner reuses stats of a reused ident and extra vars of a reused private data dir). Extra
vars and secrets go to a file readable only by the user, never on the command line; the environment
ansible-runner stores with the command is reduced to its variable names; secret values are masked in
events and in the stored stdout. Runs started from several threads share nothing.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import queue
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Union

from eightfold import _procs
from eightfold._collection import NAME, NAMESPACE, Playbook, find_collection, resolve_phase
from eightfold._inventory import check_inventory_data, check_inventory_path
from eightfold.errors import EightfoldError, PhaseInputError
from eightfold.executors import POLL_INTERVAL, Executor, Job, LocalExecutor, executor_from_name
from eightfold.results import RESULT_FILE, EventAggregator, PhaseResult

Inventory = Union[str, "os.PathLike[str]", Mapping[str, Any]]
CancelSource = Callable[[], bool] | threading.Event | None
EventCallback = Callable[[dict[str, Any]], None]

_DONE = object()
_MASK = "********"
_COLLECTION_COPY_IGNORE = shutil.ignore_patterns(
    ".git", ".venv", ".collections", ".cache", "tests", "tools", "bench", "src", "extensions", "docs",
    "reports", "__pycache__", "*.pyc", ".pytest_cache", ".ruff_cache", "*.tar.gz",
)  # fmt: skip


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
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0 or value != value:
        raise PhaseInputError(parameter, f"must be a positive number of seconds, got {value!r}")
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


def _cancel_probe(cancel: CancelSource) -> Callable[[], bool] | None:
    if cancel is None:
        return None
    if isinstance(cancel, threading.Event):
        return cancel.is_set
    if callable(cancel):
        return lambda: bool(cancel())
    raise PhaseInputError("cancel", f"must be a threading.Event or a callable returning bool, got {cancel!r}")


def _secret_strings(secrets: Mapping[str, Any]) -> list[str]:
    values: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, Mapping):
            for v in value.values():
                walk(v)
        elif isinstance(value, list | tuple):
            for v in value:
                walk(v)
        elif value is not None and not isinstance(value, bool):
            text = str(value)
            if len(text) >= 4:
                values.append(text)
                dumped = json.dumps(text)[1:-1]
                if dumped != text:
                    values.append(dumped)

    walk(secrets)
    return sorted(set(values), key=len, reverse=True)


def _mask(value: Any, secrets: Sequence[str]) -> Any:
    if isinstance(value, str):
        for secret in secrets:
            if secret in value:
                value = value.replace(secret, _MASK)
        return value
    if isinstance(value, dict):
        for key, item in value.items():
            value[key] = _mask(item, secrets)
        return value
    if isinstance(value, list):
        for index, item in enumerate(value):
            value[index] = _mask(item, secrets)
    return value


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


# -- a run --------------------------------------------------------------------------------------------


class PhaseRun:
    """A phase run in progress (from ``start_phase``).

    ``events()`` yields job events as ansible-runner hands them over (through a queue, no polling),
    ``status`` tells where it is, ``cancel()`` stops it, ``wait()`` returns the PhaseResult.
    """

    def __init__(
        self,
        *,
        playbook: Playbook,
        job_args: dict[str, Any],
        executor: Executor,
        private_data_dir: Path,
        ident: str,
        secrets: Sequence[str],
        timeout: float | None,
        idle_timeout: float | None,
        on_event: EventCallback | None,
        cancel: Callable[[], bool] | None,
        stream_events: bool,
        keep_private_data: bool,
        write_events: bool,
    ) -> None:
        self.phase = playbook.name
        self.ident = ident
        self.private_data_dir = private_data_dir
        self.artifact_dir = private_data_dir / "artifacts" / ident
        self._playbook = playbook
        self._executor = executor
        self._secrets = secrets
        self._timeout = timeout
        self._idle_timeout = idle_timeout
        self._on_event = on_event
        self._user_cancel = cancel
        self._keep_private_data = keep_private_data
        self._write_events = write_events
        self._queue: queue.SimpleQueue[Any] | None = queue.SimpleQueue() if stream_events else None
        self._cancel_requested = threading.Event()
        self._done = threading.Event()
        self._stop_reason: str | None = None
        self._stop_lock = threading.Lock()
        self._callback_error: BaseException | None = None
        self._error: BaseException | None = None
        self._result: PhaseResult | None = None
        self._aggregator = EventAggregator()
        self._status = "pending"
        self._started = time.monotonic()
        self._last_event = self._started
        self._job = Job(
            ident=ident,
            private_data_dir=private_data_dir,
            event_handler=self._handle_event,
            status_handler=self._handle_status,
            should_stop=self._should_stop,
            timeout=timeout,
            **job_args,
        )
        self._thread = threading.Thread(target=self._run, name=f"eightfold-{ident[:8]}", daemon=True)

    # public ------------------------------------------------------------------------------------------
    @property
    def status(self) -> str:
        """pending, running, or the final status (successful, failed, timeout, canceled)."""
        return self._status

    @property
    def done(self) -> bool:
        return self._done.is_set()

    @property
    def progress(self) -> EventAggregator:
        """Live counters (current play and task, per-host stats so far); read-only use."""
        return self._aggregator

    def cancel(self) -> None:
        """Ask the run to stop; it ends with status canceled within about a second."""
        self._cancel_requested.set()

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
    def _start(self) -> PhaseRun:
        self._status = "running"
        self._thread.start()
        return self

    def _should_stop(self) -> bool:
        if self._stop_reason is not None:
            return True
        now = time.monotonic()
        reason = None
        if self._cancel_requested.is_set():
            reason = "canceled"
        elif self._user_cancel is not None:
            try:
                if self._user_cancel():
                    reason = "canceled"
            except Exception as exc:  # a broken cancel source cancels the run
                self._callback_error = exc
                reason = "canceled"
        if reason is None and self._timeout is not None and now - self._started > self._timeout:
            reason = "timeout"
        if reason is None and self._idle_timeout is not None and now - self._last_event > self._idle_timeout:
            reason = "timeout"
        if reason is not None:
            with self._stop_lock:
                first = self._stop_reason is None
                if first:
                    self._stop_reason = reason
            if first:
                # Ansible's workers run in sessions of their own: end the whole run now, not only the
                # process group ansible-runner kills, or the pty stays open and modules keep running.
                _procs.kill_run(self.ident, grace=0)
            return True
        return False

    def _handle_event(self, event: dict[str, Any]) -> bool:
        self._last_event = time.monotonic()
        if self._secrets:
            _mask(event, self._secrets)
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
            self._scrub_command()
        explanation = data.get("job_explanation")
        if explanation:
            self._job.explanation.append(str(explanation))

    def _scrub_command(self) -> None:
        """ansible-runner stores the whole environment with the command: keep the variable names only."""
        path = self.artifact_dir / "command"
        with contextlib.suppress(OSError, ValueError):
            data = json.loads(path.read_text(encoding="utf-8"))
            if "env" in data:
                data["env_names"] = sorted(data.pop("env") or {})
            if self._secrets:
                _mask(data, self._secrets)
            tmp = path.with_name("command.tmp")
            _write_private_replace(tmp, path, json.dumps(data))

    def _scrub_files(self) -> None:
        self._scrub_command()
        if not self._secrets:
            return
        for name in ("stdout", "stderr"):
            path = self.artifact_dir / name
            with contextlib.suppress(OSError):
                text = path.read_text(encoding="utf-8", errors="replace")
                masked = _mask(text, self._secrets)
                if masked != text:
                    _write_private_replace(path.with_name(name + ".tmp"), path, masked)
        # Events written by a streaming processor or a remote worker's artifact copy.
        events_dir = self.artifact_dir / "job_events"
        if events_dir.is_dir():
            for path in events_dir.iterdir():
                with contextlib.suppress(OSError):
                    text = path.read_text(encoding="utf-8", errors="replace")
                    if any(s in text for s in self._secrets):
                        masked_event = json.dumps(_mask(json.loads(text), self._secrets))
                        _write_private_replace(path.with_name(path.name + ".tmp"), path, masked_event)

    def _run(self) -> None:
        runner_status, rc = "failed", None
        try:
            runner_status, rc = self._executor.run(self._job)
        except BaseException as exc:
            self._error = exc if isinstance(exc, EightfoldError) else EightfoldError(f"run failed: {exc!r}")
            self._error.__cause__ = exc
        finally:
            try:
                self._finish(runner_status, rc)
            finally:
                self._done.set()
                if self._queue is not None:
                    self._queue.put(_DONE)

    def _finish(self, runner_status: str, rc: int | None) -> None:
        with contextlib.suppress(Exception):
            self._executor.cleanup(self._job)
        if self._job.control_dir is not None:
            shutil.rmtree(self._job.control_dir, ignore_errors=True)
        if self._stop_reason is not None and runner_status != "successful":
            status = self._stop_reason
        elif runner_status in ("successful", "failed", "timeout", "canceled"):
            status = runner_status
        else:
            status = "failed"
        if rc is None:
            with contextlib.suppress(OSError, ValueError):
                rc = int((self.artifact_dir / "rc").read_text().strip())
        hosts, complete = self._aggregator.stats()
        explanation = "; ".join(self._job.explanation)
        if self._callback_error is not None:
            explanation = f"on_event or cancel raised {self._callback_error!r}"
        elif status == "timeout":
            explanation = "stopped by the timeout" if self._stop_reason else explanation or "timed out"
        elif status == "canceled":
            explanation = "canceled on request" if self._stop_reason else explanation or "canceled"
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
            explanation=explanation,
        )
        self._status = status
        with contextlib.suppress(OSError):
            self._scrub_files()
        if not self._keep_private_data:
            for name in ("env", "inventory", "project"):
                shutil.rmtree(self.private_data_dir / name, ignore_errors=True)
        with contextlib.suppress(OSError):
            self.artifact_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._result.write(self.artifact_dir / RESULT_FILE)


def _write_private_replace(tmp: Path, path: Path, text: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    _write_private(tmp, text)
    tmp.replace(path)


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

    Everything is checked before anything runs; bad input raises PhaseInputError naming the parameter.
    See ``run_phase`` for the parameters; ``stream_events`` feeds ``PhaseRun.events()`` (turn it off
    when nobody reads them, so they are not buffered).
    """
    playbook = resolve_phase(name)
    extra = _check_mapping("extravars", extravars)
    secret = _check_mapping("secrets", secrets)
    overlap = sorted(set(extra) & set(secret))
    if overlap:
        raise PhaseInputError("secrets", f"variables given both as extravars and secrets: {overlap}")
    timeout_s = _check_seconds("timeout", timeout)
    idle_s = _check_seconds("idle_timeout", idle_timeout)
    forks_n = _check_forks(forks)
    limit_s = _check_text("limit", limit)
    tags_s = _check_text("tags", tags)
    skip_s = _check_text("skip_tags", skip_tags)
    probe = _cancel_probe(cancel)
    if on_event is not None and not callable(on_event):
        raise PhaseInputError("on_event", f"must be callable, got {on_event!r}")
    if executor is None:
        executor_obj: Executor = LocalExecutor()
    elif isinstance(executor, str):
        try:
            executor_obj = executor_from_name(executor)
        except EightfoldError as exc:
            raise PhaseInputError("executor", str(exc)) from None
    elif isinstance(executor, Executor):
        executor_obj = executor
    else:
        raise PhaseInputError("executor", f"must be an Executor or a name, got {executor!r}")

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
    executor_obj.check()

    runs = Path(runs_dir).expanduser() if runs_dir else default_runs_dir()
    runs.mkdir(parents=True, exist_ok=True, mode=0o700)
    ident = uuid.uuid4().hex
    pdd = runs / ident
    pdd.mkdir(mode=0o700)
    (pdd / "env").mkdir(mode=0o700)

    # Inventory
    ships = executor_obj.ships_project
    if inventory_data is not None:
        inv = pdd / "inventory" / "hosts.json"
        _write_private(inv, json.dumps(inventory_data))
    else:
        assert inventory_path is not None
        inv = inventory_path
        if ships:
            target = pdd / "inventory" / inventory_path.name
            (pdd / "inventory").mkdir(mode=0o700)
            if inventory_path.is_dir():
                shutil.copytree(inventory_path, target, symlinks=False)
            else:
                shutil.copy2(inventory_path, target)
            inv = target

    # Project
    play_path = playbook.path
    collection_root: Path | None = None
    if ships:
        project = pdd / "project"
        try:
            collection_root = find_collection()[0]
        except PhaseInputError:
            collection_root = None
        in_collection = collection_root is not None and _is_within(play_path, collection_root / "playbooks")
        if in_collection:
            assert collection_root is not None
            dest = project / "collections" / "ansible_collections" / NAMESPACE / NAME
            shutil.copytree(collection_root, dest, ignore=_COLLECTION_COPY_IGNORE, symlinks=True)
            play_path = dest / play_path.resolve().relative_to(collection_root.resolve())
        else:
            shutil.copytree(play_path.parent, project, ignore=shutil.ignore_patterns("__pycache__", ".*"))
            play_path = project / play_path.name

    # Variables: one file readable only by the user, never the command line.
    all_vars = {**extra, **secret}
    if all_vars:
        _write_private(pdd / "env" / "extravars", json.dumps(all_vars))
    _write_private(pdd / "env" / "settings", json.dumps(_settings(timeout_s)))
    cmdline: list[str] = []
    if check:
        cmdline.append("--check")
    if diff:
        cmdline.append("--diff")

    envvars: dict[str, str] = {
        # A source ansible-playbook cannot parse must fail the run, not fall back to implicit localhost.
        "ANSIBLE_INVENTORY_UNPARSED_FAILED": "True",
        # Inherited by every process of the run, so a cancel can find and end all of them.
        _procs.ENV_MARKER: ident,
    }
    if not ships:
        if playbook.collections_path is not None:
            current = os.environ.get("ANSIBLE_COLLECTIONS_PATH", "")
            parts = [str(playbook.collections_path), *[p for p in current.split(os.pathsep) if p]]
            envvars["ANSIBLE_COLLECTIONS_PATH"] = os.pathsep.join(dict.fromkeys(parts))
        if "ANSIBLE_SSH_CONTROL_PATH_DIR" not in os.environ:
            # A short per-run socket dir: its master processes are ended with the run.
            control = tempfile.mkdtemp(prefix=f"ef-{ident[:12]}-")
            envvars["ANSIBLE_SSH_CONTROL_PATH_DIR"] = control
    control = envvars.get("ANSIBLE_SSH_CONTROL_PATH_DIR")
    run = PhaseRun(
        playbook=playbook,
        job_args={
            "playbook": play_path,
            "inventory": inv,
            "limit": limit_s,
            "tags": tags_s,
            "skip_tags": skip_s,
            "forks": forks_n,
            "cmdline": cmdline,
            "envvars": envvars,
            "collection_root": collection_root,
            "control_dir": Path(control) if control else None,
        },
        executor=executor_obj,
        private_data_dir=pdd,
        ident=ident,
        secrets=_secret_strings(secret),
        timeout=timeout_s,
        idle_timeout=idle_s,
        on_event=on_event,
        cancel=probe,
        stream_events=stream_events,
        keep_private_data=keep_private_data,
        write_events=write_events,
    )
    return run._start()


def _settings(timeout: float | None) -> dict[str, Any]:
    settings: dict[str, Any] = {"pexpect_timeout": POLL_INTERVAL, "suppress_ansible_output": True}
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
    extra vars whose values are masked in events and artifacts (use no_log in tasks that touch them).
    limit, tags, skip_tags: a string or a list. check/diff: ``--check``/``--diff``. forks: parallelism.
    timeout: seconds for the whole run; idle_timeout: seconds without an event; both end the run with
    status timeout. on_event: called with every job event (in the run's thread). cancel: a
    threading.Event or a callable; when set/true the run ends with status canceled. executor:
    LocalExecutor (default), ContainerExecutor, RemoteExecutor, or "local"/"container"/"pipe".
    runs_dir: where the run's directory goes (default ``default_runs_dir()``). keep_private_data: keep
    the variables file, inventory copy and project copy after the run (they are removed by default).
    write_events: also store each event under ``artifacts/<ident>/job_events``.
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
    try:
        return run.wait()
    except KeyboardInterrupt:
        run.cancel()
        run._done.wait(60)
        raise


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
    The pipeline stops at the first phase that is not successful; when it failed or timed out (not when
    it was canceled) ``on_failure`` (a phase, for example a rollback) runs with the outputs so far
    plus ``eightfold_failed_phase`` (its name) and ``eightfold_failed_result`` (its result as a dict).
    Returns the results in order, on_failure's last.
    ``options`` are passed to every ``run_phase`` (limit, check, timeout, executor, ...).
    """
    if isinstance(phases, str) or not isinstance(phases, Sequence) or not phases:
        raise PhaseInputError("phases", f"must be a non-empty list of phase names, got {phases!r}")
    for phase in phases:
        resolve_phase(phase)
    if on_failure is not None:
        resolve_phase(on_failure)
    carried = _check_mapping("extravars", extravars)
    _check_mapping("secrets", secrets)
    if "stream_events" in options:
        raise PhaseInputError("stream_events", "not an option of run_pipeline")
    results: list[PhaseResult] = []
    for phase in phases:
        result = run_phase(phase, inventory=inventory, extravars=carried, secrets=secrets, **options)
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
                rollback = run_phase(
                    on_failure, inventory=inventory, extravars=rollback_vars, secrets=secrets, **options
                )
                results.append(rollback)
                if on_result is not None:
                    on_result(rollback)
            break
        carried = {**carried, **result.outputs}
    return results


def load_result(run: str | os.PathLike[str], runs_dir: str | os.PathLike[str] | None = None) -> PhaseResult:
    """Load the PhaseResult of an earlier run: its ident, its run directory or its artifact directory."""
    text = str(run)
    base = Path(runs_dir).expanduser() if runs_dir else default_runs_dir()
    candidates = [Path(text).expanduser()]
    if text and "/" not in text:
        candidates.append(base / text)
        if len(text) < 32 and base.is_dir():  # an ident prefix
            candidates.extend(sorted(base.glob(f"{text}*")))
    for candidate in candidates:
        for path in (
            candidate / RESULT_FILE,
            candidate / "artifacts" / candidate.name / RESULT_FILE,
            candidate,
        ):
            if path.is_file() and path.name == RESULT_FILE:
                try:
                    return PhaseResult.from_dict(json.loads(path.read_text(encoding="utf-8")))
                except (ValueError, KeyError, TypeError) as exc:
                    raise PhaseInputError("run", f"{path} is not a result file: {exc}") from None
    raise PhaseInputError("run", f"no run {text!r} (looked in {base})")
