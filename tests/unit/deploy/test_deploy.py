"""Role notes and the deploy, rollback playbooks on two real app hosts behind HAProxy (Debian 12 containers).

app1 also runs PostgreSQL (Debian's package) for both; lb1 runs HAProxy (role load_balancer) and, during
the deploys, tools/loadgen.py against it: no request may fail. Artifacts are built here from samples/notes
like the build phase does, into a temporary release store (lifecycle_dir). The tests run in order on the
same hosts: converge, deploy 1.0.0, deploy 1.1.0 under load, the same again (no change), a broken 1.2.0
under load (rolled back, app2 untouched), rollback.yml under load (back to 1.0.0).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import subprocess
import tarfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
from ansible_tools import ROOT, ansible_env
from systemd_host import address, docker, systemd_container

PREFIX = "eightfold-h-dp"
PASSWORD = "n0tes/pass word%"  # a "/" and a "%": the role must encode it in DATABASE_URL
SOURCE = ROOT / "samples" / "notes" / "src" / "notes"
BROKEN_HEALTHZ = (
    "    def healthz(self) -> Response:\n",
    "    def healthz(self) -> Response:\n"
    '        return json_response(503, {"status": "broken on purpose", "version": self.version})\n',
)

POSTGRES = f"""set -e
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends postgresql >/dev/null
conf=$(ls -d /etc/postgresql/*/main)
echo "listen_addresses = '*'" > "$conf/conf.d/listen.conf"
echo "host all all 0.0.0.0/0 scram-sha-256" >> "$conf/pg_hba.conf"
systemctl restart postgresql
until su postgres -c 'psql -XAtc "select 1"' >/dev/null 2>&1; do sleep 0.5; done
su postgres -c "psql -Xqc \\"CREATE ROLE notes LOGIN PASSWORD '{PASSWORD}'\\""
su postgres -c "psql -Xqc 'CREATE DATABASE notes OWNER notes'"
"""


def build_artifact(store: Path, version: str, broken: bool = False) -> None:
    """notes-<version>.tar.gz (package at top level, VERSION written, reproducible) and its manifest."""
    release = store / "releases" / version
    release.mkdir(parents=True)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        files = sorted(p for p in SOURCE.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
        for path in files:
            name = "notes/" + path.relative_to(SOURCE).as_posix()
            data = path.read_bytes()
            if name == "notes/VERSION":
                data = f"{version}\n".encode()
            if broken and name == "notes/app.py":
                assert BROKEN_HEALTHZ[0].encode() in data
                data = data.replace(BROKEN_HEALTHZ[0].encode(), BROKEN_HEALTHZ[1].encode())
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 1_700_000_000
            tar.addfile(info, io.BytesIO(data))
    artifact = release / f"notes-{version}.tar.gz"
    artifact.write_bytes(gzip.compress(buffer.getvalue(), mtime=0))
    sha256 = hashlib.sha256(artifact.read_bytes()).hexdigest()
    manifest = {
        "name": "notes",
        "version": version,
        "commit": "0" * 40,
        "sha256": sha256,
        "built_at": "2026-01-01T00:00:00Z",
        "dependencies": {"debian": ["python3-psycopg2"]},
    }
    (release / "manifest.json").write_text(json.dumps(manifest, indent=2))


class Lab:
    def __init__(self, tmp: Path, hosts: dict[str, str], lb: str):
        self.tmp = tmp
        self.hosts = hosts
        self.lb = lb
        self.store = tmp / "lifecycle"
        self.inventory = tmp / "hosts.yml"
        app = {
            name: {"ansible_host": container, "notes_address": address(container)}
            for name, container in hosts.items()
        }
        self.inventory.write_text(
            json.dumps(
                {
                    "all": {
                        "vars": {
                            "ansible_python_interpreter": "/usr/bin/python3",
                            "ansible_connection": "community.docker.docker",
                            "ansible_pipelining": True,
                            "notes_database_host": address(hosts["app1"]),
                            "notes_database_password": PASSWORD,
                            "notes_shutdown_delay": 0.5,
                        },
                        "children": {
                            "app": {"hosts": app},
                            "lb": {"hosts": {"lb1": {"ansible_host": lb, "load_balancer_register": False}}},
                        },
                    }
                }
            )
        )

    def play(self, playbook: str, *extra: str) -> tuple[int, dict]:
        run = subprocess.run(
            ["ansible-playbook", "-i", str(self.inventory), playbook, *extra],
            cwd=ROOT,
            env=ansible_env(EIGHTFOLD_LIFECYCLE_DIR=str(self.store), ANSIBLE_SHOW_CUSTOM_STATS="1"),
            capture_output=True,
            text=True,
            timeout=600,
        )
        try:
            return run.returncode, json.loads(run.stdout)
        except json.JSONDecodeError:
            pytest.fail(
                f"{playbook}: no JSON output (rc {run.returncode}): {run.stdout[-3000:]} {run.stderr[-3000:]}"
            )

    def get(self, host: str, path: str) -> tuple[int, str]:
        """GET on the host itself (port 8000), or through HAProxy on lb1 (port 80) for host lb1."""
        port = 80 if host == "lb1" else 8000
        container = self.lb if host == "lb1" else self.hosts[host]
        code = (
            "import urllib.request, urllib.error, sys\n"
            "try:\n"
            f"    r = urllib.request.urlopen('http://127.0.0.1:{port}{path}', timeout=5)\n"
            "    print(r.status, r.read().decode())\n"
            "except urllib.error.HTTPError as e:\n"
            "    print(e.code, e.read().decode())\n"
        )
        out = docker("exec", container, "python3", "-c", code).stdout.strip()
        status, _, body = out.partition(" ")
        return int(status), body

    def current(self, host: str) -> str:
        return docker("exec", self.hosts[host], "readlink", "/srv/notes/current", check=False).stdout.strip()

    def haproxy_status(self) -> dict[str, str]:
        """{server: status} of backend notes, from HAProxy's admin socket."""
        stat = docker(
            "exec", self.lb, "sh", "-c", "echo 'show stat' | socat stdio /run/haproxy/admin.sock"
        ).stdout
        rows = [line.split(",") for line in stat.splitlines() if line.startswith("notes,")]
        return {row[1]: row[17] for row in rows if row[1] in self.hosts}

    @contextmanager
    def load(self) -> Iterator[dict]:
        """tools/loadgen.py on lb1 against HAProxy while the block runs; the dict gets its result."""
        result: dict = {}
        docker("exec", self.lb, "rm", "-f", "/tmp/loadgen.stop", "/tmp/loadgen.json")
        docker(
            "exec", "-d", self.lb, "python3", "/root/loadgen.py", "http://127.0.0.1/", "--workers", "4",
            "--rate", "40", "--duration", "300", "--post-every", "10", "--stop-file", "/tmp/loadgen.stop",
            "--output", "/tmp/loadgen.json",
        )  # fmt: skip
        time.sleep(1)
        try:
            yield result
        finally:
            docker("exec", self.lb, "touch", "/tmp/loadgen.stop")
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                read = docker("exec", self.lb, "cat", "/tmp/loadgen.json", check=False)
                if read.returncode == 0:
                    result.update(json.loads(read.stdout))
                    break
                time.sleep(0.5)

    def releases(self, host: str) -> list[str]:
        return docker("exec", self.hosts[host], "ls", "/srv/notes/releases").stdout.split()


def failures(result: dict) -> dict[str, str]:
    """{host: msg} of the failed tasks in ansible's JSON output."""
    found = {}
    for play in result["plays"]:
        for task in play["tasks"]:
            for host, outcome in task["hosts"].items():
                if outcome.get("failed") and not outcome.get("ignore_errors"):
                    found[host] = outcome.get("msg", "")
    return found


def changed(result: dict) -> dict[str, int]:
    return {host: stats["changed"] for host, stats in result["stats"].items()}


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("deploy")
    with (
        systemd_container(PREFIX + "-app1", hostname="app1") as app1,
        systemd_container(PREFIX + "-app2", hostname="app2") as app2,
        systemd_container(PREFIX + "-lb1", hostname="lb1") as lb1,
    ):
        lab = Lab(tmp, {"app1": app1, "app2": app2}, lb1)
        docker("cp", str(ROOT / "tools" / "loadgen.py"), f"{lb1}:/root/loadgen.py")
        with ThreadPoolExecutor() as pool:
            database = pool.submit(docker, "exec", app1, "sh", "-c", POSTGRES, timeout=600)
            for version, broken in (("1.0.0", False), ("1.1.0", False), ("1.2.0", True)):
                build_artifact(lab.store, version, broken)
            # app1's apt is busy with PostgreSQL: the others converge meanwhile, app1 after it.
            rc, result = lab.play("tests/unit/deploy/converge.yml", "--limit", "all:!app1")
            assert rc == 0, failures(result)
            database.result()
        rc, result_app1 = lab.play("tests/unit/deploy/converge.yml", "--limit", "app1")
        assert rc == 0, failures(result_app1)
        lab.first_converge = [result, result_app1]
        yield lab


def test_role_converges_idempotent_and_waits_for_a_release(lab):
    rc, result = lab.play("tests/unit/deploy/converge.yml")
    assert rc == 0, failures(result)
    assert changed(result) == {"app1": 0, "app2": 0, "lb1": 0}
    rc, checked = lab.play("tests/unit/deploy/converge.yml", "--check", "--diff")
    assert rc == 0 and changed(checked) == {"app1": 0, "app2": 0, "lb1": 0}, failures(checked)
    for host in lab.hosts.values():
        enabled = docker("exec", host, "systemctl", "is-enabled", "notes.service", check=False).stdout.strip()
        active = docker("exec", host, "systemctl", "is-active", "notes.service", check=False).stdout.strip()
        assert (enabled, active) == ("enabled", "inactive")  # nothing to run before the first deploy
        mode = docker("exec", host, "stat", "-c", "%a %U %G", "/etc/notes/notes.env").stdout.split()
        assert mode == ["640", "root", "notes"]
    # The password is in the file (encoded), never in Ansible's output.
    assert all(PASSWORD not in json.dumps(out) for out in [*lab.first_converge, result, checked])


def test_first_deploy_then_a_new_version_under_load(lab):
    # The first deploy has nothing in rotation to protect: both hosts in one batch (deploy_serial).
    rc, result = lab.play("playbooks/deploy.yml", "-e", "lifecycle_version=1.0.0", "-e", "deploy_serial=2")
    assert rc == 0, failures(result)
    assert result["global_custom_stats"]["lifecycle_deployed"] == {"app1": "1.0.0", "app2": "1.0.0"}
    assert lab.haproxy_status() == {"app1": "UP", "app2": "UP"}
    with lab.load() as load:
        rc, result = lab.play("playbooks/deploy.yml", "-e", "lifecycle_version=1.1.0")
    assert rc == 0, failures(result)
    assert load["total"] > 100 and load["failed"] == 0, load
    assert set(load["versions"]) == {"1.0.0", "1.1.0"}, load
    assert lab.get("lb1", "/version") == (200, '{"version": "1.1.0"}')
    assert lab.haproxy_status() == {"app1": "UP", "app2": "UP"}
    for host in lab.hosts:
        assert lab.get(host, "/version") == (200, '{"version": "1.1.0"}')
        status, body = lab.get(host, "/healthz")
        assert status == 200 and json.loads(body)["database"] == "ok"
        assert lab.current(host) == "releases/1.1.0"
    report = json.loads((lab.store / "reports" / "deploy-1.1.0.json").read_text())
    assert report["hosts"]["app1"]["before"] == "1.0.0" and report["hosts"]["app2"]["switched"]


def test_the_same_deploy_again_changes_nothing(lab):
    started = {
        h: docker("exec", c, "systemctl", "show", "-P", "MainPID", "notes").stdout
        for h, c in lab.hosts.items()
    }
    rc, result = lab.play("playbooks/deploy.yml", "-e", "lifecycle_version=1.1.0")
    assert rc == 0, failures(result)
    assert changed(result)["app1"] == 0 and changed(result)["app2"] == 0
    # Check mode of the next version says what it would do and does nothing.
    rc, result = lab.play("playbooks/deploy.yml", "-e", "lifecycle_version=1.0.0", "--check")
    assert rc == 0, failures(result)
    said = [
        h["msg"]
        for p in result["plays"]
        for t in p["tasks"]
        for h in t["hosts"].values()
        if "would switch" in str(h.get("msg"))
    ]
    assert sorted(said) == ["app1: would switch 1.1.0 -> 1.0.0", "app2: would switch 1.1.0 -> 1.0.0"]
    assert started == {
        h: docker("exec", c, "systemctl", "show", "-P", "MainPID", "notes").stdout
        for h, c in lab.hosts.items()
    }


def test_a_broken_version_is_rolled_back_on_the_canary_only(lab):
    rc, result = lab.play(
        "playbooks/deploy.yml", "-e", "lifecycle_version=1.2.0", "-e", "deploy_health_timeout=8"
    )
    assert rc != 0
    message = failures(result)["app1"]
    assert message.startswith("app1: /healthz answered 503 after 8 s:"), message
    assert "broken on purpose" in message and message.endswith("rolled back to 1.1.0"), message
    assert lab.get("app1", "/version") == (200, '{"version": "1.1.0"}')
    assert lab.get("app1", "/healthz")[0] == 200
    # The other host was never touched: not even unpacked.
    assert lab.current("app2") == "releases/1.1.0" and "1.2.0" not in lab.releases("app2")
    assert "app2" not in failures(result)


def test_rollback_returns_to_the_previous_version(lab):
    with lab.load() as load:
        rc, result = lab.play("playbooks/rollback.yml")
    assert rc == 0, failures(result)
    assert load["failed"] == 0 and set(load["versions"]) == {"1.0.0", "1.1.0"}, load
    for host in lab.hosts:
        assert lab.get(host, "/version") == (200, '{"version": "1.0.0"}')
        assert lab.current(host) == "releases/1.0.0"
    assert result["global_custom_stats"]["lifecycle_deployed"] == {"app1": "1.0.0", "app2": "1.0.0"}
    rc, result = lab.play("playbooks/rollback.yml", "-e", "rollback_version=1.0.0")
    assert rc == 0, failures(result)
    assert changed(result)["app1"] == 0 and changed(result)["app2"] == 0


def test_patching_an_app_host_loses_no_request(lab):
    # Whether Debian's mirror has upgrades for the image decides how much runs; either way no request fails
    # and the host ends in rotation, healthy.
    with lab.load() as load:
        rc, result = lab.play("playbooks/patch.yml", "-e", "patch_hosts=app2")
    assert rc == 0, failures(result)
    assert load["failed"] == 0, load
    assert lab.get("app2", "/healthz")[0] == 200
    assert lab.haproxy_status() == {"app1": "UP", "app2": "UP"}
