"""The container executor: runs go through ansible-runner process isolation in the execution environment
built from meta/execution-environment.yml (tools/build-ee.sh, once per session; the script skips the
build when the image is current). Results match the local executor's, secrets stay masked, a phase of the
collection resolves, a cancel leaves no container or process behind, and a systemd container of this test
(eightfold-h4-ssh-*) is reached from inside the EE over SSH and through the engine socket. Slow: marked
slow; about 45 s when the image exists, plus its build (about 4 min from scratch) when it does not."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest
from conftest import INVENTORY, ROOT, playbook, run_processes
from systemd_host import address, authorize_root_key, docker, systemd_container

from eightfold import ContainerExecutor, LocalExecutor, run_phase, start_phase
from eightfold.errors import ExecutorError

pytestmark = pytest.mark.slow

BASE_IMAGE = "eightfold/debian:12"
SECRET = "ee-s3cret-value-42"


@pytest.fixture(scope="session")
def ee_image() -> str:
    """The EE image, built by tools/build-ee.sh when missing or stale (its output goes to the test log)."""
    if shutil.which("docker") is None or docker("version", check=False).returncode != 0:
        pytest.skip("the container executor needs docker (not on PATH or its daemon is not running)")
    started = time.monotonic()
    build = subprocess.run(
        [str(ROOT / "tools" / "build-ee.sh")], capture_output=True, text=True, timeout=900, check=False
    )
    print(build.stdout, build.stderr, f"build-ee.sh: {time.monotonic() - started:.0f} s", sep="\n")
    assert build.returncode == 0, f"tools/build-ee.sh failed:\n{build.stdout[-3000:]}\n{build.stderr[-3000:]}"
    return "eightfold/ee:latest"


@pytest.fixture
def executor(ee_image: str) -> ContainerExecutor:
    return ContainerExecutor(image=ee_image, engine="docker")


def _comparable(result, *leave_out: str) -> dict:
    data = result.to_dict()
    for key in ("ident", "duration", "artifact_dir", "executor", "started", "ended", *leave_out):
        data.pop(key)
    return data


def _containers(ident: str) -> str:
    return docker("ps", "-a", "-q", "--filter", f"label=eightfold.run={ident}").stdout.strip()


def test_container_matches_local(runs_dir: Path, executor: ContainerExecutor) -> None:
    local = run_phase(playbook("mixed"), inventory=str(INVENTORY), executor=LocalExecutor())
    boxed = run_phase(playbook("mixed"), inventory=str(INVENTORY), executor=executor)
    assert boxed.executor == "container"
    assert boxed.status == "failed" and boxed.stats_complete, boxed.explanation
    # mixed.yml publishes a different value per host: the merged ``outputs`` is whichever host finished
    # last (an order the forks decide), so compare the per-host outputs and leave the merge out.
    assert _comparable(boxed, "outputs") == _comparable(local, "outputs")
    assert boxed.host_outputs == {"h1": {"mixed_version": "1.2.3"}, "h2": {"mixed_version": "1.2.4"}}
    assert boxed.outputs["mixed_version"] in ("1.2.3", "1.2.4")
    assert "h2 refuses" in (boxed.artifact_dir / "stdout").read_text()
    assert _containers(boxed.ident) == ""
    assert not (boxed.artifact_dir / "env.list").exists()


def test_container_outputs_and_secrets(runs_dir: Path, executor: ContainerExecutor) -> None:
    kwargs = {
        "inventory": str(INVENTORY),
        "extravars": {"ok_release": "r7", "ok_show_token": True},
        "secrets": {"eightfold_test_token": SECRET},
    }
    local = run_phase(playbook("ok"), **kwargs)
    boxed = run_phase(playbook("ok"), executor=executor, **kwargs)
    assert boxed.status == "successful", boxed.explanation
    assert _comparable(boxed) == _comparable(local)
    assert boxed.outputs == {"ok_release": "r7", "ok_seen_input": "none"}
    run_dir = runs_dir / boxed.ident
    leaked = [p for p in run_dir.rglob("*") if p.is_file() and SECRET in p.read_text(errors="replace")]
    assert leaked == []
    assert not (run_dir / "env" / "extravars").exists()


def test_container_runs_a_phase_of_the_collection(runs_dir: Path, executor: ContainerExecutor) -> None:
    """site.yml loads every role by FQCN: the shipped collection is found in the container. No hosts
    match, so nothing runs."""
    result = run_phase("site", inventory={"all": {"hosts": {}}}, executor=executor)
    assert result.status == "successful", (result.explanation, (result.artifact_dir / "stdout").read_text())
    assert result.hosts == {}


def test_container_cancel_leaves_nothing(runs_dir: Path, executor: ContainerExecutor) -> None:
    run = start_phase(playbook("slow"), inventory=str(INVENTORY), executor=executor)
    asked = None
    for event in run.events(timeout=120):
        if event["event"] == "runner_on_start" and event["event_data"]["task"] == "Sleep" and asked is None:
            asked = time.monotonic()
            run.cancel()
    result = run.wait(60)
    assert asked is not None
    assert result.status == "canceled"
    assert time.monotonic() - asked < 15
    assert {h: s.ok for h, s in result.hosts.items()} == {"h1": 1, "h2": 1}
    assert _containers(result.ident) == ""
    assert run_processes(result.ident) == []


def test_container_checks_its_inputs(runs_dir: Path, ee_image: str, tmp_path: Path) -> None:
    with pytest.raises(ExecutorError, match="not found; build it with tools/build-ee"):
        run_phase(
            playbook("ok"), inventory=str(INVENTORY), executor=ContainerExecutor(image="eightfold/ee:nope")
        )
    with pytest.raises(ExecutorError, match="mount source"):
        run_phase(
            playbook("ok"),
            inventory=str(INVENTORY),
            executor=ContainerExecutor(image=ee_image, mounts=[f"{tmp_path}/missing:/x"]),
        )


# -- an SSH target ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ssh_target(ee_image: str, tmp_path_factory: pytest.TempPathFactory):
    keydir = tmp_path_factory.mktemp("ssh")
    key = keydir / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    with systemd_container("eightfold-h4-ssh", BASE_IMAGE, hostname="target") as name:
        authorize_root_key(name, key.with_suffix(".pub"))
        yield {"name": name, "address": address(name), "key": key, "keydir": keydir}


def test_container_reaches_an_ssh_target(runs_dir: Path, ee_image: str, ssh_target) -> None:
    inventory = {
        "all": {
            "hosts": {
                "target": {
                    "ansible_host": ssh_target["address"],
                    "ansible_user": "root",
                    "ansible_ssh_private_key_file": str(ssh_target["key"]),
                    "ansible_ssh_common_args": "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null",
                    "ansible_python_interpreter": "/usr/bin/python3",
                }
            }
        }
    }
    # The key is named by its path on this machine: mount it at the same path, read-only.
    keydir = str(ssh_target["keydir"])
    executor = ContainerExecutor(image=ee_image, engine="docker", mounts=[f"{keydir}:{keydir}:ro"])
    # Each run writes its own file (so both count one change); the secret reaches the target intact.
    secrets = {"eightfold_test_token": SECRET}
    local = run_phase(
        playbook("ok"),
        inventory=inventory,
        extravars={"ok_dir": "/tmp", "ok_release": "ssh"},
        secrets=secrets,
    )
    boxed = run_phase(
        playbook("ok"),
        inventory=inventory,
        extravars={"ok_dir": "/root", "ok_release": "ssh"},
        secrets=secrets,
        executor=executor,
    )
    assert boxed.status == "successful", (boxed.explanation, (boxed.artifact_dir / "stdout").read_text())
    assert _comparable(boxed) == _comparable(local)
    assert boxed.hosts["target"].changed == 1
    assert docker("exec", ssh_target["name"], "cat", "/root/token-target").stdout == SECRET


def test_container_reaches_engine_containers_through_the_socket(
    runs_dir: Path, ee_image: str, ssh_target
) -> None:
    """With engine_socket=True the run reaches containers of this engine (the lab hosts) through
    community.docker.docker_api (the EE has no docker CLI for community.docker.docker)."""
    inventory = {
        "all": {
            "hosts": {
                "target": {
                    "ansible_connection": "community.docker.docker_api",
                    "ansible_host": ssh_target["name"],
                    "ansible_python_interpreter": "/usr/bin/python3",
                    # As the lab and Molecule run: the module goes in on stdin, no temporary files. Without
                    # it, the engine under load once returned an empty `id -u && id -g` (the user of a copy).
                    "ansible_pipelining": True,
                }
            }
        }
    }
    executor = ContainerExecutor(image=ee_image, engine="docker", engine_socket=True)
    result = run_phase(
        playbook("ok"),
        inventory=inventory,
        extravars={"ok_dir": "/var/tmp"},
        secrets={"eightfold_test_token": SECRET},
        executor=executor,
    )
    assert result.status == "successful", (result.explanation, (result.artifact_dir / "stdout").read_text())
    assert result.hosts["target"].changed == 1
    assert docker("exec", ssh_target["name"], "cat", "/var/tmp/token-target").stdout == SECRET
    # Without the socket the same run cannot reach the container.
    unreachable = run_phase(
        playbook("ok"),
        inventory=inventory,
        extravars={"ok_dir": "/var/tmp"},
        executor=ContainerExecutor(image=ee_image, engine="docker"),
    )
    assert unreachable.status == "failed"
    assert unreachable.unreachable_hosts == ["target"]
