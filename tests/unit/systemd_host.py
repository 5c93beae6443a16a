"""Systemd containers of the lab's host images, for tests that need a real Debian host.

A container gets the rights systemd needs as PID 1, the same ones roles/lab/tasks/present.yml gives lab hosts.
Without a Docker engine the test is skipped; with one but without the image it fails (make images).
"""

from __future__ import annotations

import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

RUN_FLAGS = (
    "--cap-add", "SYS_ADMIN", "--cap-add", "NET_ADMIN",
    "--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined",
    "--cgroupns=host", "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw",
    "--tmpfs", "/run", "--tmpfs", "/run/lock", "--stop-signal", "SIGRTMIN+3",
)  # fmt: skip
BOOTED = ("systemctl", "is-system-running", "--wait")


def docker(*args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check, timeout=timeout)


@contextmanager
def systemd_container(
    prefix: str, image: str = "eightfold/debian:12", hostname: str | None = None
) -> Iterator[str]:
    """A fresh container named <prefix>-<random>, booted (systemd running or degraded); removed afterwards."""
    if shutil.which("docker") is None or docker("version", check=False).returncode:
        pytest.skip("needs a Docker engine (tools/prereqs.sh)")
    if docker("image", "inspect", image, check=False).returncode:
        pytest.fail(f"the host image {image} is missing (make images)")
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    docker(
        "run", "-d", "--name", name, "--hostname", hostname or name, *RUN_FLAGS, image, "/lib/systemd/systemd"
    )
    try:
        # Right after start systemctl fails at once until the system bus is up: ask again until it answers.
        deadline = time.monotonic() + 120
        while True:
            wait = docker(
                "exec", name, "timeout", "60", "systemctl", "is-system-running", "--wait", check=False
            )
            state = wait.stdout.strip()
            if state in ("running", "degraded"):
                break
            if time.monotonic() > deadline:
                pytest.fail(f"{name} did not boot: {state} {wait.stderr}")
            time.sleep(0.5)
        yield name
    finally:
        docker("rm", "-f", name, check=False)


def address(name: str) -> str:
    """The container's IPv4 address on its network."""
    return docker(
        "inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", name
    ).stdout.strip()


def authorize_root_key(name: str, public_key: Path) -> None:
    """Let the key log in as root over SSH, and start sshd."""
    docker("exec", name, "mkdir", "-p", "-m", "700", "/root/.ssh")
    docker("cp", str(public_key), f"{name}:/root/.ssh/authorized_keys")
    docker("exec", name, "chown", "-R", "root:root", "/root/.ssh")
    docker("exec", name, "systemctl", "start", "ssh")
