"""Fixtures for the audit tests: the collection on sys.path, the Ansible tools, a Debian 12 container."""

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
# Plugins import each other as ansible_collections.eightfold.devops...; the symlink under .collections
# makes the working tree importable under that name.
sys.path.insert(0, str(ROOT / ".collections"))
BIN = Path(sys.executable).parent
IMAGE = "eightfold/debian:12"


def ansible_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update(
        ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".collections"),
        ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        PATH=f"{BIN}:{env.get('PATH', '')}",
    )
    return env


def run_ansible(tool: str, *args: str, cwd: Path | None = None, timeout: int = 600):
    return subprocess.run(
        [str(BIN / tool), *args],
        cwd=cwd or ROOT,
        env=ansible_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _docker(*args: str, check: bool = True, timeout: int = 120):
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check, timeout=timeout)


@pytest.fixture(scope="session")
def container():
    """A fresh systemd container from the Debian 12 host image, removed afterwards."""
    if not shutil.which("docker") or _docker("image", "inspect", IMAGE, check=False).returncode != 0:
        pytest.skip(f"docker or the host image {IMAGE} is not available (make images)")
    name = f"eightfold-h2-test-{uuid.uuid4().hex[:8]}"
    _docker(
        "run", "-d", "--name", name, "--hostname", name,
        "--cap-add", "SYS_ADMIN", "--cap-add", "NET_ADMIN",
        "--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined",
        "--cgroupns=host", "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw",
        "--tmpfs", "/run", "--tmpfs", "/run/lock", "--stop-signal", "SIGRTMIN+3",
        IMAGE, "/lib/systemd/systemd",
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        while True:
            state = _docker("exec", name, "systemctl", "is-system-running", check=False).stdout.strip()
            if state in ("running", "degraded"):
                break
            if time.monotonic() > deadline:
                pytest.fail(f"{name} did not boot: {state}")
            time.sleep(1)
        yield name
    finally:
        _docker("rm", "-f", name, check=False)


def docker_exec(name: str, script: str) -> str:
    return _docker("exec", name, "sh", "-c", script).stdout


@pytest.fixture(scope="session")
def inventory(container, tmp_path_factory):
    path = tmp_path_factory.mktemp("inventory") / "hosts.yml"
    path.write_text(
        "all:\n  hosts:\n"
        f"    {container}:\n"
        "  vars:\n    ansible_connection: community.docker.docker\n    ansible_pipelining: true\n"
    )
    return path
