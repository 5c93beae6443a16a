#!/usr/bin/env python3
"""`make demo`: bring the lab up, converge it with site.yml, run the life cycle, print a short summary.

The steps: lab.yml (the hosts), lab_repo.yml (the service's git repository), site.yml (every role), then
lifecycle.yml (plan, code, build, test, release, deploy, operate, monitor). Output streams to the terminal
as usual and is kept in reports/demo-*.log; the summary is read from each step's PLAY RECAP.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RECAP_LINE = re.compile(r"^(?P<host>\S+)\s+:\s+(?P<counts>(?:\w+=\d+\s*)+)$")


@dataclass
class Step:
    name: str
    rc: int
    seconds: float
    recap: dict[str, dict[str, int]]


def parse_recap(lines: list[str]) -> dict[str, dict[str, int]]:
    """Per-host counts (ok, changed, failed, ...) from the last PLAY RECAP in an ansible-playbook log."""
    recap: dict[str, dict[str, int]] = {}
    in_recap = False
    for raw in lines:
        line = re.sub(r"\x1b\[[0-9;]*m", "", raw).rstrip()
        if line.startswith("PLAY RECAP"):
            in_recap, recap = True, {}
        elif in_recap:
            match = RECAP_LINE.match(line)
            if match:
                counts = dict(part.split("=") for part in match["counts"].split())
                recap[match["host"]] = {key: int(value) for key, value in counts.items()}
            elif line:
                in_recap = False
    return recap


def run_playbook(playbook: str, log: Path) -> Step:
    start = time.monotonic()
    lines: list[str] = []
    with (
        subprocess.Popen(
            ["ansible-playbook", f"playbooks/{playbook}"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        ) as proc,
        log.open("w") as out,
    ):
        assert proc.stdout is not None
        for line in proc.stdout:
            sys.stdout.write(line)
            out.write(line)
            lines.append(line)
    return Step(playbook, proc.returncode, time.monotonic() - start, parse_recap(lines))


# The lab images have python3, not curl.
FETCH = "python3 -c 'import sys, urllib.request as u; print(u.urlopen(sys.argv[1]).read().decode())'"
STEPS = ("lab.yml", "lab_repo.yml", "site.yml", "lifecycle.yml")


def summary(steps: list[Step]) -> str:
    last = steps[-1]  # the host table shows the last step that ran
    out = ["", "eightfold.devops demo " + ("done" if all(s.rc == 0 for s in steps) else "FAILED"), ""]
    for step in steps:
        out.append(f"  {step.name:<14} {step.seconds:6.1f} s   rc={step.rc}")
    out.append(f"  {'total':<14} {sum(s.seconds for s in steps):6.1f} s")
    if last.recap:
        out += ["", f"  {'host':<8} {'ok':>4} {'changed':>8} {'failed':>7} {'unreachable':>12}"]
        for host, counts in sorted(last.recap.items()):
            out.append(
                f"  {host:<8} {counts.get('ok', 0):>4} {counts.get('changed', 0):>8} "
                f"{counts.get('failed', 0):>7} {counts.get('unreachable', 0):>12}"
            )
    out += [
        "",
        "Where to look:",
        f"  docker exec eightfold-lab-lb1 {FETCH} http://127.0.0.1/version   # the service through HAProxy",
        f"  docker exec eightfold-lab-mon1 {FETCH} http://127.0.0.1:9090/api/v1/alerts  # Prometheus",
        f"  reports: {ROOT / 'reports'} and ~/.cache/eightfold/lifecycle/reports (plan, tests)",
        "",
        "Try next:",
        "  .venv/bin/ansible all -m ping             # the lab hosts, through the Docker API",
        "  docker exec -it eightfold-lab-app1 bash   # a shell on a host",
        "  make demo                                 # again: nothing changes",
        "  make lab-down                             # remove the lab (images stay)",
        f"  logs: {ROOT / 'reports'}",
    ]
    return "\n".join(out)


def main() -> int:
    reports = ROOT / "reports"
    reports.mkdir(exist_ok=True)
    steps: list[Step] = []
    for playbook in STEPS:
        step = run_playbook(playbook, reports / f"demo-{Path(playbook).stem}.log")
        steps.append(step)
        if step.rc != 0:
            break
    print(summary(steps))
    return 0 if all(s.rc == 0 for s in steps) and len(steps) == len(STEPS) else 1


if __name__ == "__main__":
    sys.exit(main())
