"""Fixtures for the audit tests: the collection on sys.path, the Ansible tools, a Debian 12 container."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from systemd_host import docker as _docker
from systemd_host import systemd_container

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


@pytest.fixture(scope="session")
def container():
    """A fresh systemd container from the Debian 12 host image, removed afterwards."""
    with systemd_container("eightfold-h2-test", IMAGE) as name:
        yield name


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
