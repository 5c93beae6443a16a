"""The caller's memory does not grow with a run's output: ansible-runner's pexpect loop kept every byte
ansible-playbook printed (about twice) until the run ended; the API bounds that buffer. Two runs of 2 KB
events in fresh processes, 300 and 1,500 events: the larger one may not take 1.5 MB more (the unbounded
buffer took about 2.5 MB more; bounded, the two differ by about 0.1 MB). The 3,000 / 30,000-event
figures are bench/runner_overhead.py's, in docs/performance.md."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import INVENTORY

PLAYBOOK = Path(__file__).resolve().parent / "playbooks" / "events_large.yml"

_MEASURE = """
import json, sys
from pathlib import Path
from eightfold import run_phase

def rss():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0

peak = 0.0
def sample(event):
    global peak
    peak = max(peak, rss())

start = rss()
result = run_phase(sys.argv[1], inventory=sys.argv[2], extravars={"events_count": int(sys.argv[3]),
                   "events_size": 2000}, on_event=sample, write_events=False)
print(json.dumps({"status": result.status, "events": result.hosts["localhost"].ok, "growth": peak - start}))
"""


def _growth(runs_dir: Path, events: int) -> float:
    out = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(PLAYBOOK), str(INVENTORY), str(events)],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    ).stdout
    data = json.loads(out)
    assert data["status"] == "successful"
    return data["growth"]


def test_memory_does_not_grow_with_the_output(runs_dir):
    small = _growth(runs_dir, 300)
    large = _growth(runs_dir, 1500)
    assert large - small < 1.5, (
        f"memory grew with the output: {small:.1f} MB for 300 events, {large:.1f} for 1500"
    )
