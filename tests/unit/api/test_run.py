"""run_phase / start_phase against localhost playbooks: results match ansible-playbook, cancel and
timeout leave per-host stats and no process behind, concurrent runs stay apart, secrets stay out."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import INVENTORY, playbook, run_processes

from eightfold import EightfoldError, HostStats, run_phase, start_phase
from eightfold.results import RESULT_FILE, EventAggregator

RECAP = re.compile(
    r"^(\S+)\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)\s+"
    r"rescued=(\d+)\s+ignored=(\d+)",
    re.M,
)


def ansible_playbook_recap(name: str) -> dict[str, HostStats]:
    # make exports ANSIBLE_FORCE_COLOR=1 for Molecule; the recap is parsed, so no colour at all.
    env = {
        **os.environ,
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_STDOUT_CALLBACK": "default",
    }
    bin_dir = Path(sys.executable).parent
    out = subprocess.run(
        [str(bin_dir / "ansible-playbook"), "-i", str(INVENTORY), playbook(name)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    ).stdout
    recap = {}
    for host, ok, changed, unreachable, failed, skipped, rescued, ignored in RECAP.findall(out):
        recap[host] = HostStats(
            ok=int(ok),
            changed=int(changed),
            failed=int(failed),
            unreachable=int(unreachable),
            skipped=int(skipped),
            rescued=int(rescued),
            ignored=int(ignored),
        )
    assert recap, out
    return recap


def test_result_matches_ansible_playbook_and_events_rebuild_the_same_stats(runs_dir):
    rebuilt = EventAggregator()
    events: list[dict] = []

    def on_event(event):
        events.append(event)
        if event["event"] != "playbook_on_stats":
            rebuilt.feed(event)

    result = run_phase(playbook("mixed"), inventory=str(INVENTORY), on_event=on_event)
    assert result.status == "failed"
    assert result.rc == 2
    assert result.stats_complete
    assert result.hosts == ansible_playbook_recap("mixed")
    # Counting from runner_on_* events gives Ansible's own numbers (what a cancel relies on).
    assert rebuilt.stats()[0] == result.hosts
    assert [(f.host, f.task, f.message) for f in result.failures] == [("h2", "Fail on h2", "h2 refuses")]
    # set_stats from two hosts: per host, and never concatenated.
    assert result.host_outputs == {"h1": {"mixed_version": "1.2.3"}, "h2": {"mixed_version": "1.2.4"}}
    assert result.outputs["mixed_version"] in ("1.2.3", "1.2.4")
    assert result.failed_hosts == ["h2"]
    counters = [e["counter"] for e in events]
    assert counters == sorted(counters) and events[-1]["event"] == "playbook_on_stats"
    # to_dict is JSON and is what the result file holds.
    stored = json.loads((result.artifact_dir / RESULT_FILE).read_text())
    assert stored == json.loads(json.dumps(result.to_dict()))


def test_every_run_is_fresh_no_extra_vars_leak(runs_dir):
    first = run_phase(playbook("ok"), inventory=str(INVENTORY), extravars={"ok_release": "one"})
    second = run_phase(playbook("ok"), inventory=str(INVENTORY))
    assert first.ident != second.ident
    assert first.artifact_dir.parent != second.artifact_dir.parent
    assert first.outputs["ok_release"] == "one"
    assert second.outputs["ok_release"] == "r1", "extra vars of the first run leaked into the second"
    # Private data (variables, inventory copies) is removed after a run unless kept.
    assert not (runs_dir / first.ident / "env").exists()


def test_events_stream_through_an_iterator_and_cancel_stops_the_run(runs_dir):
    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    run = start_phase(playbook("slow"), inventory={"all": {"hosts": {"h1": None, "h2": None}, "vars": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}})  # fmt: skip
    seen = []
    for event in run.events(timeout=60):
        seen.append(event["event"])
        if event["event"] == "runner_on_start" and event["event_data"]["task"] == "Sleep":
            assert run.status == "running"
            started = time.monotonic()
            run.cancel()
    result = run.wait(timeout=30)
    assert time.monotonic() - started < 5
    assert result.status == "canceled" == run.status
    assert not result.stats_complete
    assert {h: s.ok for h, s in result.hosts.items()} == {"h1": 1, "h2": 1}
    assert "playbook_on_stats" not in seen
    assert run_processes(result.ident) == []
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before


def test_timeout_and_idle_timeout(runs_dir):
    started = time.monotonic()
    result = run_phase(playbook("slow"), inventory=str(INVENTORY), timeout=4)
    assert result.status == "timeout"
    assert 3.5 < time.monotonic() - started < 10
    assert run_processes(result.ident) == []
    idle = run_phase(playbook("slow"), inventory=str(INVENTORY), idle_timeout=3.5)
    assert idle.status == "timeout"
    assert {h: s.ok for h, s in idle.hosts.items()} == {"h1": 1, "h2": 1}
    assert run_processes(idle.ident) == []


def test_cancel_from_an_event_and_a_broken_callback(runs_dir):
    stop = threading.Event()
    result = run_phase(
        playbook("slow"),
        inventory=str(INVENTORY),
        cancel=stop,
        on_event=lambda e: e["event"] == "runner_on_start" and stop.set(),
    )
    assert result.status == "canceled"

    def broken(event):
        raise RuntimeError("boom")

    with pytest.raises(EightfoldError, match="boom"):
        run_phase(playbook("slow"), inventory=str(INVENTORY), on_event=broken)


def test_eight_concurrent_runs_give_eight_separate_results(runs_dir):
    results: dict[int, object] = {}

    def one(n: int) -> None:
        results[n] = run_phase(
            playbook("ok"), inventory=str(INVENTORY), extravars={"ok_release": f"r{n}"}, limit="h1"
        )

    threads = [threading.Thread(target=one, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert sorted(results) == list(range(8))
    assert len({r.ident for r in results.values()}) == 8
    for n, result in results.items():
        assert result.status == "successful", result.to_dict()
        assert result.outputs["ok_release"] == f"r{n}"
        assert set(result.hosts) == {"h1"}


def test_a_secret_appears_nowhere(runs_dir, tmp_path):
    secret = "S3cret-value-7f1c"
    events: list[str] = []
    result = run_phase(
        playbook("ok"),
        inventory=str(INVENTORY),
        extravars={"ok_dir": str(tmp_path), "ok_show_token": True},
        secrets={"eightfold_test_token": secret},
        on_event=lambda e: events.append(json.dumps(e)),
    )
    assert result.status == "successful"
    assert (tmp_path / "token-h1").read_text() == secret, "the secret must reach the task"
    assert events and not any(secret in e for e in events)
    assert any("token is ********" in e for e in events), "a leaked secret is masked"
    for path in runs_dir.rglob("*"):
        if path.is_file():
            assert secret not in path.read_text(errors="replace"), path
    command = json.loads((result.artifact_dir / "command").read_text())
    assert "env" not in command and "PATH" in command["env_names"]
    assert not any(secret in part for part in command["command"])


def test_secrets_file_is_private_and_encrypted_while_kept(runs_dir):
    secret = "x" * 7 + "-kept-secret"
    result = run_phase(
        playbook("ok"),
        inventory=str(INVENTORY),
        extravars={"ok_release": "r3"},
        secrets={"eightfold_test_token": secret},
        keep_private_data=True,
    )
    assert result.status == "successful", result.explanation
    assert result.outputs["ok_release"] == "r3"
    path = runs_dir / result.ident / "env" / "extravars"
    assert path.stat().st_mode & 0o777 == 0o600
    text = path.read_text()
    assert text.startswith("$ANSIBLE_VAULT;1.2;AES256;eightfold"), "the variables are vault-encrypted"
    assert secret not in text and "ok_release" not in text
