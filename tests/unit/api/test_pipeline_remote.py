"""run_pipeline hands set_stats on and rolls back; the remote executor (ansible-runner streaming through a
local worker process) returns what the local executor returns."""

from __future__ import annotations

import time

from conftest import INVENTORY, playbook, run_processes

from eightfold import RemoteExecutor, run_phase, run_pipeline, start_phase


def test_pipeline_passes_outputs_on_and_stops_at_a_failure_then_rolls_back(runs_dir):
    results = run_pipeline(
        [playbook("mixed"), playbook("ok")],
        inventory=str(INVENTORY),
        limit="h1",
        extravars={"ok_release": "r9"},
    )
    assert [r.status for r in results] == ["successful", "successful"]
    assert results[1].outputs["ok_seen_input"] == "1.2.3", "mixed's output reached the next phase"

    seen = []
    results = run_pipeline(
        [playbook("ok"), playbook("fail"), playbook("ok")],
        inventory=str(INVENTORY),
        extravars={"ok_release": "r5"},
        on_failure=playbook("rollback"),
        on_result=seen.append,
    )
    assert [r.phase for r in results] == ["ok", "fail", "rollback"]
    assert [r.status for r in results] == ["successful", "failed", "successful"]
    assert results[2].outputs == {"rolled_back": "fail", "rolled_back_release": "r5"}
    assert seen == results


def _comparable(result):
    data = result.to_dict()
    for key in ("ident", "duration", "artifact_dir", "executor", "started", "ended"):
        data.pop(key)
    return data


def test_remote_executor_through_a_pipe_matches_local(runs_dir):
    local = run_phase(playbook("mixed"), inventory=str(INVENTORY))
    remote = run_phase(playbook("mixed"), inventory=str(INVENTORY), executor=RemoteExecutor.pipe())
    assert remote.executor == "remote"
    assert _comparable(remote) == _comparable(local)
    assert (remote.artifact_dir / "stdout").read_text().count("h2 refuses") >= 1


def test_remote_cancel_leaves_no_worker_behind(runs_dir):
    run = start_phase(playbook("slow"), inventory=str(INVENTORY), executor="pipe")
    for event in run.events(timeout=60):
        if event["event"] == "runner_on_start" and event["event_data"]["task"] == "Sleep":
            run.cancel()
    result = run.wait(30)
    assert result.status == "canceled"
    assert {h: s.ok for h, s in result.hosts.items()} == {"h1": 1, "h2": 1}
    time.sleep(0.2)
    assert run_processes(result.ident) == []
