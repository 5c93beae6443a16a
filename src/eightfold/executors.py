"""Where a phase runs: here (local), in an execution-environment container, or on a remote worker.

All three drive ansible-runner and hand every job event to the same handler, so a PhaseResult means the
same thing whichever executor produced it.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from eightfold import _procs
from eightfold.errors import ExecutorError

#: How often (seconds) ansible-runner checks for cancel and timeouts while ansible-playbook runs.
POLL_INTERVAL = 0.2


@dataclass
class Job:
    """Everything an executor needs for one run (built and validated by the API before it runs)."""

    ident: str
    private_data_dir: Path
    playbook: Path
    inventory: Path
    limit: str | None
    tags: str | None
    skip_tags: str | None
    forks: int | None
    cmdline: list[str]
    envvars: dict[str, str]
    timeout: float | None
    event_handler: Callable[[dict[str, Any]], bool]
    status_handler: Callable[[dict[str, Any], Any], None]
    should_stop: Callable[[], bool]
    collection_root: Path | None = None
    control_dir: Path | None = None
    #: ansible-runner's ``passwords``: prompt patterns and what to answer on the pty (vault passwords).
    passwords: dict[str, str | None] = field(default_factory=dict)
    verbosity: int = 0
    #: Whole secret values: a variable of the caller's environment that holds one is not passed on.
    secret_values: tuple[str, ...] = ()
    explanation: list[str] = field(default_factory=list)
    #: PIDs of the run's processes that were killed (their Ansible temp directories are removed).
    killed: set[int] = field(default_factory=set)

    @property
    def artifact_dir(self) -> Path:
        return self.private_data_dir / "artifacts" / self.ident


class Executor:
    """Base class. ``run`` returns ansible-runner's (status, rc)."""

    name: ClassVar[str] = "executor"
    #: True when the job's playbook and inventory must be copied into the private data dir.
    ships_project: ClassVar[bool] = False

    @property
    def on_this_machine(self) -> bool:
        """True when ansible-playbook and its modules for ``connection: local`` run on this machine."""
        return not self.ships_project

    def check(self) -> None:
        """Raise ExecutorError when this executor cannot work here (called before anything runs)."""

    def run(self, job: Job) -> tuple[str, int | None]:
        raise NotImplementedError

    def cleanup(self, job: Job) -> None:
        """End whatever of the run is still alive."""
        job.killed.update(_procs.kill_run(job.ident))


def _runner_kwargs(job: Job, *, shipped: bool) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "ident": job.ident,
        "limit": job.limit,
        "tags": job.tags,
        "skip_tags": job.skip_tags,
        "forks": job.forks,
        "cmdline": shlex.join(job.cmdline) if job.cmdline else None,
        "verbosity": job.verbosity or None,
        "quiet": True,
        # Facts (their ansible_env included) are not written to the artifact directory.
        "fact_cache_type": "memory",
        # The vault passwords, answered on the pty. The pattern without an answer makes pexpect start a
        # new buffer at every line: ansible-runner's loop otherwise keeps the whole output in memory.
        "passwords": {**job.passwords, r"\n": None},
    }
    if shipped:
        kwargs["playbook"] = str(job.playbook.relative_to(job.private_data_dir / "project"))
        kwargs["inventory"] = str(job.inventory.relative_to(job.private_data_dir))
    else:
        kwargs["playbook"] = str(job.playbook)
        kwargs["inventory"] = str(job.inventory)
    return {k: v for k, v in kwargs.items() if v is not None}


class LocalExecutor(Executor):
    """Run ansible-playbook on this machine (the default)."""

    name = "local"

    def run(self, job: Job) -> tuple[str, int | None]:
        from ansible_runner.config.runner import RunnerConfig
        from ansible_runner.runner import Runner

        config = RunnerConfig(
            private_data_dir=str(job.private_data_dir),
            project_dir=str(job.playbook.parent),
            envvars=job.envvars,
            **_runner_kwargs(job, shipped=False),
        )
        config.prepare()
        env = _procs.child_environment(config.env, job.secret_values)
        env.update(job.envvars)
        if "PATH" not in job.envvars:
            env["PATH"] = _procs.search_path(env.get("PATH"))
        config.env = env
        runner = Runner(
            config,
            event_handler=job.event_handler,
            status_handler=job.status_handler,
            cancel_callback=job.should_stop,
        )
        return runner.run()


#: Where the container executor's runs find collections: the collection shipped with the job (the
#: working tree's, for a phase), then what the execution environment has installed.
CONTAINER_COLLECTIONS_PATH = "/runner/project/collections:/usr/share/ansible/collections"


@dataclass
class ContainerExecutor(Executor):
    """Run ansible-playbook inside an execution-environment image (ansible-runner process isolation).

    ``image`` is built from ``meta/execution-environment.yml`` by ``tools/build-ee.sh``
    (eightfold/ee:<version>, also tagged latest). ``engine`` is ``docker`` or ``podman`` (found on PATH
    when not given; docker is the tested one). The job's private data dir is mounted at ``/runner``: the
    playbook's directory (or the collection, for a phase) is shipped in ``/runner/project``, the
    inventory in ``/runner/inventory``.

    What the container reaches: hosts with ``connection: local`` are the container itself; SSH targets
    must be reachable from the container's network (``network``: a ``--network`` for the container, for
    example the lab's network), and every file the inventory names on this machine (an SSH key) must be
    mounted at the same path with ``mounts`` (``"/path:/path:ro"``). Containers of this engine (the lab
    hosts) are reachable only with ``engine_socket=True``, which mounts the engine's socket into the EE
    (that gives the run root on this machine) and only through ``ansible_connection:
    community.docker.docker_api`` (the EE has no docker CLI, which ``community.docker.docker`` needs).
    ``options`` are extra ``run`` options.
    """

    image: str = "eightfold/ee:latest"
    engine: str | None = None
    options: Sequence[str] = ()
    mounts: Sequence[str] = ()
    network: str | None = None
    engine_socket: bool = False
    socket_path: str = "/var/run/docker.sock"

    name = "container"
    ships_project = True

    def engine_name(self) -> str:
        """The container engine's command (``engine``, else podman or docker found on PATH)."""
        return self._engine()

    def _engine(self) -> str:
        if self.engine:
            return self.engine
        for candidate in ("podman", "docker"):
            if shutil.which(candidate):
                return candidate
        raise ExecutorError("container executor: neither podman nor docker is on PATH")

    def check(self) -> None:
        engine = self._engine()
        if not shutil.which(engine):
            raise ExecutorError(f"container executor: {engine} is not on PATH")
        for mount in self.mounts:
            source = str(mount).split(":", 1)[0]
            if ":" not in str(mount) or not os.path.isabs(source):
                raise ExecutorError(
                    f"container executor: mount {mount!r} is not /host/path:/container/path[:ro]"
                )
            if not os.path.exists(source):
                raise ExecutorError(f"container executor: mount source {source} does not exist")
        if self.engine_socket and not os.path.exists(self.socket_path):
            raise ExecutorError(f"container executor: engine socket {self.socket_path} does not exist")
        probe = subprocess.run(
            [engine, "image", "inspect", self.image], capture_output=True, check=False, timeout=60
        )
        if probe.returncode != 0:
            raise ExecutorError(
                f"container executor: image {self.image} not found; build it with tools/build-ee.sh "
                "(from meta/execution-environment.yml, see docs/python-api.md)"
            )

    @staticmethod
    def container_name(job: Job) -> str:
        """The name ansible-runner gives the run's container."""
        return f"ansible_runner_{job.ident}"

    def _container_options(self, job: Job) -> list[str]:
        options = ["--label", f"eightfold.run={job.ident}"]
        if self.network:
            options.append(f"--network={self.network}")
        options.extend(self.options)
        return options

    def _volume_mounts(self, job: Job) -> list[str]:
        mounts = [str(m) for m in self.mounts]
        if self.engine_socket:
            mounts.append(f"{self.socket_path}:/var/run/docker.sock")
        agent = job.envvars.get("SSH_AUTH_SOCK")
        if agent:
            # The run's ssh-agent (ssh_key): its socket at the same path inside.
            directory = os.path.dirname(agent)
            mounts.append(f"{directory}:{directory}")
        return mounts

    def _envvars(self, job: Job) -> dict[str, str]:
        # Paths of this machine mean nothing in the container: the collection path is the EE's.
        drop = ("ANSIBLE_COLLECTIONS_PATH", "ANSIBLE_SSH_CONTROL_PATH_DIR", "ANSIBLE_CONFIG")
        env = {k: v for k, v in job.envvars.items() if not k.startswith(drop)}
        env["ANSIBLE_COLLECTIONS_PATH"] = CONTAINER_COLLECTIONS_PATH
        return env

    def _fix_inventory(self, command: list[str], job: Job) -> None:
        """ansible-runner always passes ``-i /runner/inventory`` (the directory) to a containerized run.
        Point it at the shipped file or directory instead: in directory mode Ansible skips files by
        extension (``hosts.ini``) and does not read ``group_vars`` of a subdirectory."""
        try:
            relative = job.inventory.relative_to(job.private_data_dir)
        except ValueError:
            return
        for index in range(len(command) - 1):
            if command[index] == "-i" and command[index + 1] == "/runner/inventory":
                command[index + 1] = f"/runner/{relative.as_posix()}"

    def _kill(self, job: Job) -> None:
        subprocess.run(
            [self._engine(), "kill", self.container_name(job)], capture_output=True, check=False, timeout=30
        )

    def run(self, job: Job) -> tuple[str, int | None]:
        from ansible_runner.config.runner import RunnerConfig
        from ansible_runner.runner import Runner

        config = RunnerConfig(
            private_data_dir=str(job.private_data_dir),
            process_isolation=True,
            process_isolation_executable=self._engine(),
            container_image=self.image,
            container_options=self._container_options(job),
            container_volume_mounts=self._volume_mounts(job),
            envvars=self._envvars(job),
            **_runner_kwargs(job, shipped=True),
        )
        config.prepare()
        self._fix_inventory(config.command, job)
        stopped = threading.Event()

        def should_stop() -> bool:
            # Killing the engine's client does not stop the container: kill the container itself.
            if job.should_stop():
                if not stopped.is_set():
                    stopped.set()
                    self._kill(job)
                return True
            return False

        runner = Runner(
            config,
            event_handler=job.event_handler,
            status_handler=job.status_handler,
            cancel_callback=should_stop,
        )
        try:
            return runner.run()
        finally:
            # The env file docker reads holds the job environment; it is not needed after the start.
            with contextlib.suppress(OSError):
                (job.artifact_dir / "env.list").unlink()

    def cleanup(self, job: Job) -> None:
        super().cleanup(job)
        subprocess.run(
            [self._engine(), "rm", "-f", self.container_name(job)],
            capture_output=True,
            check=False,
            timeout=60,
        )


@dataclass
class RemoteExecutor(Executor):
    """Run on a worker through ansible-runner streaming: transmit here, ``ansible-runner worker`` there,
    process here — the protocol AWX uses to send jobs to execution nodes.

    ``shell`` is the command that reaches the worker host (empty: a local pipe; ``["ssh", "host"]``:
    over SSH). The worker host needs ansible-core and ansible-runner; ``worker`` is how to start
    ``ansible-runner worker`` there. The playbook's directory (or the collection) and the inventory are
    shipped with the job; collections the playbook depends on must be installed on the worker.
    """

    shell: Sequence[str] = ()
    worker: Sequence[str] = ("ansible-runner", "worker")
    workdir: str = "/tmp"
    label: str = "remote"

    name = "remote"
    ships_project = True

    @property
    def on_this_machine(self) -> bool:
        return not self.shell

    @classmethod
    def pipe(cls, python: str | None = None) -> RemoteExecutor:
        """A worker process on this machine, fed through a pipe (for tests and for a local sandbox)."""
        worker = (python or sys.executable, "-m", "ansible_runner", "worker")
        return cls(shell=(), worker=worker, label="pipe")

    @classmethod
    def ssh(
        cls,
        host: str,
        *,
        user: str | None = None,
        port: int | None = None,
        identity_file: str | os.PathLike[str] | None = None,
        options: Mapping[str, str] | None = None,
        worker: Sequence[str] = ("ansible-runner", "worker"),
    ) -> RemoteExecutor:
        """A worker on ``host`` over SSH (BatchMode: keys or an agent, never a password prompt)."""
        command = ["ssh", "-T", "-o", "BatchMode=yes"]
        for key, value in (options or {}).items():
            command += ["-o", f"{key}={value}"]
        if user:
            command += ["-l", user]
        if port:
            command += ["-p", str(port)]
        if identity_file:
            command += ["-i", str(identity_file)]
        command.append(host)
        return cls(shell=tuple(command), worker=tuple(worker), label=f"ssh:{host}")

    def _worker_dir(self, job: Job) -> str:
        return f"{self.workdir}/eightfold-worker-{job.ident}"

    def _remote(self, command: Sequence[str]) -> list[str]:
        if not self.shell:
            return list(command)
        return [*self.shell, shlex.join(command)]

    def run(self, job: Job) -> tuple[str, int | None]:
        from ansible_runner.streaming import Processor, Transmitter

        worker_dir = self._worker_dir(job)
        marker = _procs.env_marker(job.ident)
        worker = [*self.worker, "--private-data-dir", worker_dir, "--delete"]
        command = self._remote(["env", marker, *worker] if self.shell else worker)
        stderr_path = job.private_data_dir / "worker.stderr"
        env = _procs.child_environment(os.environ, job.secret_values)
        if not self.shell:
            env["PATH"] = _procs.search_path(env.get("PATH"))
        env[_procs.ENV_MARKER] = job.ident
        with stderr_path.open("wb") as stderr:
            proc = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=stderr,
                start_new_session=True,
                env=env,
            )
        assert proc.stdin is not None and proc.stdout is not None
        done = threading.Event()
        stopped = threading.Event()

        def watchdog() -> None:
            while not done.wait(POLL_INTERVAL):
                if job.should_stop():
                    stopped.set()
                    self._stop(job, proc)
                    return

        watcher = threading.Thread(target=watchdog, name=f"eightfold-watch-{job.ident[:8]}", daemon=True)
        watcher.start()
        kwargs = _runner_kwargs(job, shipped=True)
        kwargs.pop("quiet", None)
        kwargs["envvars"] = {k: v for k, v in job.envvars.items() if k != _procs.ENV_MARKER}
        try:
            try:
                Transmitter(_output=proc.stdin, private_data_dir=str(job.private_data_dir), **kwargs).run()
                proc.stdin.close()
            except (BrokenPipeError, OSError):
                pass  # the worker is gone; the processor reports what it said
            processor = Processor(
                _input=proc.stdout,
                private_data_dir=str(job.private_data_dir),
                ident=job.ident,
                event_handler=job.event_handler,
                status_handler=job.status_handler,
                cancel_callback=job.should_stop,
                quiet=True,
            )
            status, rc = processor.run()
        finally:
            done.set()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=10)
            if proc.poll() is None:
                self._kill_local(proc)
            proc.stdout.close()
        text = stderr_path.read_text(errors="replace").strip()
        if text and status not in ("successful", "failed"):
            job.explanation.append(f"worker: {text[-2000:]}")
        if stopped.is_set():
            return "canceled", rc
        if status == "unstarted":
            status = "error"
        return status, rc

    @staticmethod
    def _kill_local(proc: subprocess.Popen[bytes]) -> None:
        with contextlib.suppress(OSError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)

    @staticmethod
    def _remote_kill_script(job: Job) -> str:
        """Shell that kills every process carrying the run's marker in its environment, as the local
        cleanup does (the worker, ansible-playbook, its workers and the modules they started)."""
        marker = shlex.quote(f"^{_procs.env_marker(job.ident)}$")
        return (
            "for f in /proc/[0-9]*/environ; do "
            f'if grep -qz {marker} "$f" 2>/dev/null; then p=${{f#/proc/}}; kill -9 "${{p%/environ}}"; fi; '
            "done 2>/dev/null"
        )

    def _stop(self, job: Job, proc: subprocess.Popen[bytes]) -> None:
        if self.shell:
            script = self._remote_kill_script(job)
            subprocess.run([*self.shell, script], capture_output=True, timeout=30, check=False)
        else:
            job.killed.update(_procs.kill_run(job.ident, grace=0.2))
        self._kill_local(proc)

    def cleanup(self, job: Job) -> None:
        super().cleanup(job)
        worker_dir = self._worker_dir(job)
        if self.shell:
            script = f"{self._remote_kill_script(job)}; rm -rf {shlex.quote(worker_dir)}"
            subprocess.run([*self.shell, script], capture_output=True, timeout=30, check=False)
        else:
            shutil.rmtree(worker_dir, ignore_errors=True)


def executor_from_name(name: str) -> Executor:
    """``local``, ``container`` or ``pipe`` (a local streaming worker)."""
    if name == "local":
        return LocalExecutor()
    if name == "container":
        return ContainerExecutor()
    if name == "pipe":
        return RemoteExecutor.pipe()
    raise ExecutorError(f"unknown executor {name!r} (local, container, pipe, or an Executor object)")
