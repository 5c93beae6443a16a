"""Overhead of eightfold.run_phase over plain ansible-playbook, and the caller's memory over a long run.

Runs the same playbook alternately with ansible-playbook (default callback, output to a pipe) and with
run_phase (events streamed to an on_event callback and stored as artifacts), N times each, and prints
the medians and their ratio. Then runs a playbook that emits EVENTS job events and samples the caller's
resident memory every 500 events. Usage: python bench/runner_overhead.py [N] [EVENTS]
"""

from __future__ import annotations

import os
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
    events_total = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
    os.environ.setdefault("ANSIBLE_COLLECTIONS_PATH", str(ROOT / ".collections"))
    os.environ["EIGHTFOLD_RUNS_DIR"] = tempfile.mkdtemp(prefix="eightfold-bench-")
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

    samples: list[tuple[int, float]] = []
    seen = 0

    def sample(event: dict) -> None:
        nonlocal seen
        seen += 1
        if seen % 500 == 0:
            samples.append((seen, rss_mib()))

    start_rss = rss_mib()
    start = time.perf_counter()
    result = run_phase(
        str(PLAYBOOKS / "events.yml"),
        inventory=str(INVENTORY),
        extravars={"events_count": events_total},
        on_event=sample,
    )
    took = time.perf_counter() - start
    end_rss = rss_mib()
    print(f"memory over {seen} events ({result.status}, {took:.0f} s): start {start_rss:.1f} MiB, ", end="")
    print(f"max {max(r for _, r in samples):.1f} MiB, end {end_rss:.1f} MiB")
    print(
        "  samples (events: MiB): "
        + ", ".join(f"{n}: {r:.1f}" for n, r in samples[:: max(1, len(samples) // 10)])
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
