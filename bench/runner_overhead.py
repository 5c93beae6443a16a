"""Overhead of eightfold.run_phase over plain ansible-playbook, and the caller's memory over long runs.

Runs the same playbook alternately with ansible-playbook (default callback, output to a pipe) and with
run_phase (events streamed to an on_event callback and stored as artifacts), N times each, and prints
the medians and their ratio. Then, for each count in EVENTS (comma-separated), runs a playbook that emits
that many job events in a fresh process, samples that process's resident memory every 500 events and
prints its peak, and the ratio of the last count's peak to the first's.
Usage: python bench/runner_overhead.py [N] [EVENTS]   (default: 5 3000,30000)
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PLAYBOOKS = ROOT / "tests" / "playbooks"
INVENTORY = PLAYBOOKS / "inventory" / "hosts.yml"
BIN = Path(sys.executable).parent


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> int:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    events_arg = sys.argv[2] if len(sys.argv) > 2 else "3000,30000"
    os.environ.setdefault("ANSIBLE_COLLECTIONS_PATH", str(ROOT / ".collections"))
    runs_dir = tempfile.mkdtemp(prefix="eightfold-bench-")
    os.environ["EIGHTFOLD_RUNS_DIR"] = runs_dir
    try:
        return bench(runs, events_arg)
    finally:
        shutil.rmtree(runs_dir, ignore_errors=True)


def bench(runs: int, events_arg: str) -> int:
    from eightfold import run_phase

    book = PLAYBOOKS / "mixed.yml"
    plain: list[float] = []
    api: list[float] = []
    count = 0

    def on_event(event: dict) -> None:
        nonlocal count
        count += 1

    run_phase(str(book), inventory=str(INVENTORY))  # warm up imports and caches
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(
            [str(BIN / "ansible-playbook"), "-i", str(INVENTORY), str(book)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            check=False,
        )
        plain.append(time.perf_counter() - start)
        start = time.perf_counter()
        run_phase(str(book), inventory=str(INVENTORY), on_event=on_event)
        api.append(time.perf_counter() - start)
    p, a = statistics.median(plain), statistics.median(api)
    print(
        f"playbook: {book.relative_to(ROOT)} ({count // runs} events per run), {runs} runs each, alternating"
    )
    print(f"ansible-playbook  median {p:.2f} s  runs {' '.join(f'{x:.2f}' for x in plain)}")
    print(f"run_phase         median {a:.2f} s  runs {' '.join(f'{x:.2f}' for x in api)}")
    print(f"overhead          {100 * (a / p - 1):+.1f} % (median ratio {a / p:.3f})")

    counts = [int(c) for c in events_arg.split(",") if c]
    peaks = []
    events_book = str(PLAYBOOKS / "events.yml")
    for events_total in counts:
        out = subprocess.run(
            [sys.executable, "-c", _MEASURE, events_book, str(INVENTORY), str(events_total)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        data = json.loads(out)
        peaks.append(data["peak"])
        samples = data["samples"]
        print(
            f"memory over {data['events']} events ({data['status']}, {data['seconds']:.0f} s): "
            f"start {data['start']:.1f} MiB, peak {data['peak']:.1f} MiB, end {data['end']:.1f} MiB"
        )
        shown = samples[:: max(1, len(samples) // 10)]
        print("  samples (events: MiB): " + ", ".join(f"{n}: {r:.1f}" for n, r in shown))
    if len(peaks) > 1:
        print(f"peak at {counts[-1]} events / peak at {counts[0]} events: {peaks[-1] / peaks[0]:.3f}")
    return 0


# A fresh process per count, so one run's memory does not carry over into the next one's figures.
_MEASURE = """
import json, sys, time
from pathlib import Path
from eightfold import run_phase

def rss():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0

seen, samples = 0, []
def sample(event):
    global seen
    seen += 1
    if seen % 500 == 0:
        samples.append((seen, rss()))

start, began = rss(), time.perf_counter()
extravars = {"events_count": int(sys.argv[3])}
result = run_phase(sys.argv[1], inventory=sys.argv[2], extravars=extravars, on_event=sample)
took = time.perf_counter() - began
print(json.dumps({"status": result.status, "events": seen, "seconds": took, "start": start,
                  "peak": max(r for _, r in samples), "end": rss(), "samples": samples}))
"""


if __name__ == "__main__":
    raise SystemExit(main())
