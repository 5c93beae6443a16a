"""Find and end the processes of one run (Linux /proc), so a cancel leaves nothing behind.

ansible-runner kills the process group of ansible-playbook on cancel and timeout, but Ansible's worker
processes start their own sessions (so a module and what it runs, say ``sleep``, survive that kill), and
an SSH control master (ControlPersist) lives outside the group too. Every process of a run inherits the
environment variable ``EIGHTFOLD_RUN_ID=<ident>``; that is what is matched here (in /proc/<pid>/environ,
which also finds processes that were re-parented after their parent died).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

ENV_MARKER = "EIGHTFOLD_RUN_ID"


def env_marker(ident: str) -> str:
    return f"{ENV_MARKER}={ident}"


def pids_matching(marker: str, source: str = "cmdline") -> list[int]:
    """PIDs (other than this process) whose ``source`` (cmdline or environ) contains ``marker``."""
    found: list[int] = []
    needle = marker.encode()
    me = os.getpid()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            cmdline = (entry / source).read_bytes()
        except OSError:
            continue
        if needle in cmdline:
            found.append(int(entry.name))
    return found


def kill_matching(marker: str, grace: float = 1.0, source: str = "cmdline") -> list[int]:
    """SIGTERM then SIGKILL every process whose cmdline/environ contains ``marker``; return their PIDs."""
    pids = pids_matching(marker, source)
    for pid in pids:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while pids and time.monotonic() < deadline:
        pids_alive = [p for p in pids if _alive(p)]
        if not pids_alive:
            return pids
        time.sleep(0.05)
    for pid in pids_matching(marker, source):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    return pids


def kill_run(ident: str, grace: float = 1.0) -> list[int]:
    """End every process that carries this run's environment marker."""
    return kill_matching(env_marker(ident), grace=grace, source="environ")


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def interpreter_bin() -> Path | None:
    """The directory of this interpreter when it holds ansible-playbook (a venv's bin), else None."""
    directory = Path(sys.executable).parent
    return directory if (directory / "ansible-playbook").is_file() else None


def search_path(path: str | None) -> str:
    """``path`` (a PATH value) with this interpreter's bin directory first when it holds ansible-playbook:
    ``.venv/bin/eightfold`` finds the ansible-playbook beside it without the venv on PATH."""
    parts = [p for p in (path or os.defpath).split(os.pathsep) if p]
    directory = interpreter_bin()
    if directory is not None:
        parts = [str(directory), *[p for p in parts if p != str(directory)]]
    return os.pathsep.join(parts)


def child_environment(base: Mapping[str, str], secret_values: Sequence[str]) -> dict[str, str]:
    """``base`` without the variables whose value holds a secret (``--secret NAME=ENVVAR`` reads one from
    the environment: it must not be inherited by ansible-playbook, where facts would store it)."""
    return {k: v for k, v in base.items() if not any(s in v for s in secret_values)}


def wipe_environment(names: Sequence[str]) -> None:
    """Remove these variables from this process's environment, their values overwritten first.

    /proc/<pid>/environ shows the environment block a process started with, whatever ``os.environ`` says
    since, and a child forked before it executes a program shows the same block: removing a variable that
    holds a secret is not enough. Its value is zeroed in place (libc's ``environ``), then removed."""
    prefixes = [name.encode() + b"=" for name in names]
    try:
        environ = ctypes.POINTER(ctypes.c_char_p).in_dll(ctypes.CDLL(None), "environ")
        addresses = ctypes.cast(environ, ctypes.POINTER(ctypes.c_void_p))
    except (OSError, ValueError, AttributeError):  # no libc environ to reach: removing is all there is
        addresses = None
    index = 0
    while addresses is not None and addresses[index]:
        entry = ctypes.string_at(addresses[index])
        for prefix in prefixes:
            if entry.startswith(prefix):
                ctypes.memset(addresses[index] + len(prefix), 0, len(entry) - len(prefix))
        index += 1
    for name in names:
        os.environ.pop(name, None)
