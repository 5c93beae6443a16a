"""The remote executor over SSH: ansible-runner worker runs in a lab container of this test
(eightfold-h3-worker-*), reached with ssh; the result is the same as a local run, and a cancel leaves no
process behind on the worker. Slow (a container boots): marked slow, bounded to about a minute."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import INVENTORY, ROOT, playbook
from systemd_host import address, authorize_root_key, docker, systemd_container

from eightfold import RemoteExecutor, run_phase, start_phase

pytestmark = pytest.mark.slow

IMAGE = "eightfold/debian:12"
WORKER_LIB = "/opt/eightfold-worker"


def _worker_lib() -> Path:
    """ansible-core and ansible-runner for the worker (pinned by constraints.txt), cached under .cache/."""
    target = ROOT / ".cache" / f"eightfold-worker-py{sys.version_info.major}{sys.version_info.minor}"
    if not (target / ".complete").exists():
        shutil.rmtree(target, ignore_errors=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--target", str(target),
             "-c", str(ROOT / "constraints.txt"), "ansible-core", "ansible-runner"],
            check=True, timeout=300,
        )  # fmt: skip
        for script in (target / "bin").iterdir():
            text = script.read_text(errors="replace")
            if text.startswith("#!"):
                script.write_text("#!/usr/bin/python3\n" + text.split("\n", 1)[1])
        (target / ".complete").touch()
    return target


@pytest.fixture(scope="module")
def worker_host(tmp_path_factory):
    lib = _worker_lib()
    keydir = tmp_path_factory.mktemp("ssh")
    key = keydir / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    with systemd_container("eightfold-h3-worker", IMAGE, hostname="worker") as name:
        docker("cp", str(lib), f"{name}:{WORKER_LIB}")
        docker("exec", name, "chown", "-R", "root:root", WORKER_LIB)
        authorize_root_key(name, key.with_suffix(".pub"))
        yield {"name": name, "address": address(name), "key": key}


def _executor(host) -> RemoteExecutor:
    return RemoteExecutor.ssh(
        host["address"],
        user="root",
        identity_file=host["key"],
        options={"StrictHostKeyChecking": "no", "UserKnownHostsFile": "/dev/null", "LogLevel": "ERROR"},
        worker=("env", f"PYTHONPATH={WORKER_LIB}", f"PATH={WORKER_LIB}/bin:/usr/bin:/bin",
                "python3", "-m", "ansible_runner", "worker"),
    )  # fmt: skip


def _comparable(result):
    data = result.to_dict()
    for key in ("ident", "duration", "artifact_dir", "executor", "started", "ended"):
        data.pop(key)
    return data


def test_remote_over_ssh_matches_local_and_cancels_cleanly(runs_dir, worker_host):
    local = run_phase(playbook("mixed"), inventory=str(INVENTORY))
    remote = run_phase(playbook("mixed"), inventory=str(INVENTORY), executor=_executor(worker_host))
    assert remote.executor == "remote"
    assert _comparable(remote) == _comparable(local), remote.explanation
    stdout = (remote.artifact_dir / "stdout").read_text()
    assert "h2 refuses" in stdout

    run = start_phase(playbook("slow"), inventory=str(INVENTORY), executor=_executor(worker_host))
    for event in run.events(timeout=60):
        if event["event"] == "runner_on_start" and event["event_data"]["task"] == "Sleep":
            run.cancel()
    result = run.wait(60)
    assert result.status == "canceled"
    assert {h: s.ok for h, s in result.hosts.items()} == {"h1": 1, "h2": 1}
    time.sleep(0.5)
    left = docker("exec", worker_host["name"], "pgrep", "-af", "ansible|sleep 60", check=False).stdout
    assert left.strip() == "", left
    gone = docker("exec", worker_host["name"], "ls", "/tmp", check=False).stdout
    assert f"eightfold-worker-{result.ident}" not in gone

    # A secret reaches the worker vault-encrypted (the password on the worker's pty) and comes back masked.
    secret = "ssh-worker-s3cret-value"
    masked = run_phase(
        playbook("ok"),
        inventory=str(INVENTORY),
        limit="h1",
        extravars={"ok_show_token": True},
        secrets={"eightfold_test_token": secret},
        executor=_executor(worker_host),
    )
    assert masked.status == "successful", masked.explanation
    assert "token is ********" in (masked.artifact_dir / "stdout").read_text()
    for path in (runs_dir / masked.ident).rglob("*"):
        assert not path.is_file() or secret not in path.read_text(errors="replace"), path
