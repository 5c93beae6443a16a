"""Fixtures: the package on sys.path, a fake store, a running server, a PostgreSQL server in a container."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
if str(SRC) not in sys.path:
    sys.path.insert(0, str(SRC))

from notes.app import App  # noqa: E402
from notes.store import MemoryStore  # noqa: E402

IMAGE = os.environ.get("NOTES_TEST_IMAGE", "eightfold/debian:12")
PASSWORD = "notes-test-password"


@pytest.fixture
def store():
    return MemoryStore()


@pytest.fixture
def app(store):
    return App(store, "1.2.3")


def _docker(*args: str, check: bool = True, timeout: int = 300):
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check, timeout=timeout)


class Postgres:
    """A PostgreSQL server in a container, reachable on a loopback port of this machine."""

    def __init__(self, name: str, port: int):
        self.name, self.port = name, port

    def environ(self, database: str = "notes") -> dict[str, str]:
        return {
            "PGHOST": "127.0.0.1",
            "PGPORT": str(self.port),
            "PGUSER": "notes",
            "PGPASSWORD": PASSWORD,
            "PGDATABASE": database,
        }

    def url(self, database: str = "notes") -> str:
        return f"postgresql://notes:{PASSWORD}@127.0.0.1:{self.port}/{database}"

    def sql(self, statement: str) -> str:
        return _docker("exec", self.name, "su", "postgres", "-c", f'psql -XAtc "{statement}"').stdout.strip()

    def create_database(self) -> str:
        """A fresh, empty database owned by notes (one per test)."""
        database = f"notes_{uuid.uuid4().hex[:10]}"
        self.sql(f"CREATE DATABASE {database} OWNER notes")
        return database

    def service(self, action: str) -> None:
        """Start or stop the cluster itself (postgresql.service is only Debian's umbrella unit)."""
        version = _docker("exec", self.name, "ls", "/etc/postgresql").stdout.split()[0]
        _docker("exec", self.name, "systemctl", action, f"postgresql@{version}-main")


@pytest.fixture(scope="session")
def postgres():
    """PostgreSQL from Debian's package in a systemd container of the host image; removed afterwards."""
    pytest.importorskip("psycopg2", reason="needs the driver (Debian python3-psycopg2, PyPI psycopg2-binary)")
    if not shutil.which("docker"):
        pytest.skip("docker is not installed: the PostgreSQL tests need a container")
    if _docker("info", check=False).returncode != 0:
        pytest.skip("the Docker engine is not running: the PostgreSQL tests need a container")
    if _docker("image", "inspect", IMAGE, check=False).returncode != 0:
        pytest.skip(f"the host image {IMAGE} is not available (make images)")
    name = f"eightfold-release-notes-pg-{uuid.uuid4().hex[:8]}"
    _docker(
        "run", "-d", "--name", name, "--hostname", name, "-p", "127.0.0.1::5432",
        "--cap-add", "SYS_ADMIN", "--cap-add", "NET_ADMIN",
        "--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined",
        "--cgroupns=host", "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw",
        "--tmpfs", "/run", "--tmpfs", "/run/lock", "--stop-signal", "SIGRTMIN+3",
        IMAGE, "/lib/systemd/systemd",
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        while _docker("exec", name, "systemctl", "is-system-running", check=False).stdout.strip() not in (
            "running",
            "degraded",
        ):
            if time.monotonic() > deadline:
                pytest.fail(f"{name} did not boot")
            time.sleep(1)
        setup = f"""set -e
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends postgresql >/dev/null
conf=$(ls -d /etc/postgresql/*/main)
echo "listen_addresses = '*'" > "$conf/conf.d/listen.conf"
echo "host all all 0.0.0.0/0 scram-sha-256" >> "$conf/pg_hba.conf"
systemctl restart postgresql
until su postgres -c 'psql -XAtc "select 1"' >/dev/null 2>&1; do sleep 0.5; done
su postgres -c "psql -Xqc \\"CREATE ROLE notes LOGIN CREATEDB PASSWORD '{PASSWORD}'\\""
su postgres -c "psql -Xqc 'CREATE DATABASE notes OWNER notes'"
"""
        _docker("exec", name, "sh", "-c", setup, timeout=600)
        port = int(_docker("port", name, "5432/tcp").stdout.splitlines()[0].rsplit(":", 1)[1])
        yield Postgres(name, port)
    finally:
        _docker("rm", "-f", name, check=False)
