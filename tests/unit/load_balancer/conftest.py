"""Fixtures for the load_balancer tests: a Debian 12 systemd container for HAProxy, a second container with
two tiny HTTP backends (python3 -m http.server serving /healthz and /whoami), and the role run on them."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from ansible_tools import ansible_env
from systemd_host import address, docker, systemd_container

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT / ".collections") not in sys.path:
    sys.path.insert(0, str(ROOT / ".collections"))
BIN = Path(sys.executable).parent
IMAGE = "eightfold/debian:12"
PREFIX = "eightfold-h-lb"
PORTS = {"app1": 8001, "app2": 8002}


class Backends:
    """Two HTTP servers in one plain container; each serves /healthz (200) and /whoami (its name)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.ip = address(name)

    def start(self, app: str) -> None:
        port = PORTS[app]
        docker(
            "exec", self.name, "sh", "-c",
            f"mkdir -p /srv/{app} && echo ok > /srv/{app}/healthz && echo {app} > /srv/{app}/whoami",
        )  # fmt: skip
        docker(
            "exec", "-d", self.name, "sh", "-c",
            f"cd /srv/{app} && echo $$ > /tmp/{app}.pid && exec python3 -m http.server {port}",
        )  # fmt: skip
        probe = f"import urllib.request as u; u.urlopen('http://127.0.0.1:{port}/healthz')"
        self.sh(f'for i in $(seq 50); do python3 -c "{probe}" 2>/dev/null && exit 0; sleep 0.1; done; exit 1')

    def stop(self, app: str) -> None:
        """Stops that server by the process id it wrote."""
        self.sh(f"kill $(cat /tmp/{app}.pid)")

    def sh(self, script: str) -> str:
        return docker("exec", self.name, "sh", "-c", script).stdout

    def get(self, url: str, count: int = 1) -> list[str]:
        """count GET requests from this container (not from the controller, whose proxy would answer);
        each answer's body, or ERROR <reason>."""
        script = (
            "import json, sys, urllib.request as u\n"
            "out = []\n"
            f"for _ in range({count}):\n"
            "    try:\n"
            f"        out.append(u.urlopen({url!r}, timeout=10).read().decode().strip())\n"
            "    except Exception as e:\n"
            "        out.append(f'ERROR {e}')\n"
            "print(json.dumps(out))\n"
        )
        return json.loads(docker("exec", self.name, "python3", "-c", script).stdout)


@pytest.fixture(scope="module")
def backends():
    name = f"{PREFIX}-bk-{uuid.uuid4().hex[:8]}"
    docker("run", "-d", "--name", name, IMAGE, "sleep", "infinity")
    try:
        b = Backends(name)
        for app in PORTS:
            b.start(app)
        yield b
    finally:
        docker("rm", "-f", name, check=False)


@pytest.fixture(scope="module")
def lb():
    with systemd_container(f"{PREFIX}-test", IMAGE) as name:
        yield name


@pytest.fixture(scope="module")
def inventory(lb, backends, tmp_path_factory):
    """lb in group lb, app1 and app2 (never contacted: only their variables are read) in group app, and a
    monitoring host that is the lb container itself, so the registration has somewhere to go."""
    path = tmp_path_factory.mktemp("inventory") / "hosts.yml"
    apps = {app: {"notes_address": backends.ip, "notes_port": port} for app, port in PORTS.items()}
    data = {
        "all": {
            "vars": {"ansible_connection": "community.docker.docker", "ansible_pipelining": True},
            "children": {
                "lb": {"hosts": {lb: {}}},
                "app": {"hosts": apps},
                "monitoring": {"hosts": {"mon": {"ansible_host": lb}}},
            },
        }
    }
    path.write_text(json.dumps(data))
    return path


def run_plays(inventory: Path, plays: list, *args: str) -> tuple[int, dict]:
    """ansible-playbook with the json callback; (return code, parsed output)."""
    playbook = inventory.parent / f"play-{uuid.uuid4().hex[:6]}.yml"
    playbook.write_text(json.dumps(plays))
    proc = subprocess.run(
        [str(BIN / "ansible-playbook"), "-i", str(inventory), str(playbook), *args],
        capture_output=True,
        text=True,
        env=ansible_env(),
        cwd=ROOT,
        timeout=600,
        check=False,
    )
    try:
        return proc.returncode, json.loads(proc.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"ansible-playbook printed no JSON:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")


def run_role(inventory: Path, *args: str, extra: dict | None = None) -> tuple[int, dict]:
    play = {"hosts": "lb", "gather_facts": False, "roles": ["eightfold.devops.load_balancer"]}
    if extra:
        args = (*args, "-e", json.dumps(extra))
    return run_plays(inventory, [play], *args)


def failures(output: dict) -> list[str]:
    return [
        str(result.get("msg"))
        for play in output["plays"]
        for task in play["tasks"]
        for result in task["hosts"].values()
        if result.get("failed")
    ]


def lb_sh(lb: str, script: str) -> str:
    return docker("exec", lb, "sh", "-c", script).stdout


def server_status(lb: str, backend: str = "notes") -> dict[str, str]:
    """Status of each server of the backend (show stat through the admin socket)."""
    csv = lb_sh(lb, "echo 'show stat' | socat stdio unix-connect:/run/haproxy/admin.sock")
    lines = [line.split(",") for line in csv.splitlines() if line and not line.startswith("#")]
    header = csv.splitlines()[0].lstrip("# ").split(",")
    status = header.index("status")
    return {f[1]: f[status] for f in lines if f[0] == backend and f[1] not in ("FRONTEND", "BACKEND")}
