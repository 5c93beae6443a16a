"""A run killed anywhere converges on the next.

The roles every host of site.yml gets (tests/playbooks/crash_site.yml) run on real hosts (systemd containers
of the lab image) and ansible-playbook is killed with SIGKILL at known points: during a package transaction
(with dpkg itself killed too, as a dropped connection can, or held by an apt hook), after a task in the
middle of a first run, and between the write of a daemon's configuration and its restart or reload
(systemctl held on the host until the kill). After each: one run to completion, then a second run changes
nothing, no unit failed, every daemon runs the configuration on disk (its process start or its last reload
in systemd's journal is later than its files' modification time) and the audit passes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from ansible_tools import ROOT, ansible_env
from systemd_host import docker, systemd_container

pytestmark = pytest.mark.slow

PLAYBOOK = ROOT / "tests" / "playbooks" / "crash_site.yml"
CALLBACKS = ROOT / "tests" / "plugins" / "callback"
RUN_TIMEOUT = 900

SETTINGS = {
    "ansible_connection": "community.docker.docker",
    "ansible_python_interpreter": "/usr/bin/python3",
    "ansible_pipelining": True,
    # Offline: chrony reads its configuration, sends nothing.
    "base_timesync_pools": [],
    "base_timesync_servers": ["127.0.0.1"],
    # No monitoring server on this host to register with.
    "node_exporter_register": False,
}

# What each daemon runs on: its last start or reload must be later than the newest of these.
DAEMONS = {
    "ssh.service": ["/etc/ssh/sshd_config"],
    "nftables.service": ["/etc/nftables.conf"],
    "fail2ban.service": ["/etc/fail2ban/jail.local"],
    "chrony.service": [
        "/etc/chrony/chrony.conf",
        "/etc/default/chrony",
        "/etc/systemd/system/chrony.service.d/50-eightfold-container.conf",
    ],
    "systemd-journald.service": ["/etc/systemd/journald.conf.d/50-eightfold.conf"],
    "prometheus-node-exporter.service": [
        "/etc/default/prometheus-node-exporter",
        "/etc/systemd/system/prometheus-node-exporter.service.d/50-eightfold-hardening.conf",
    ],
}

# On a converged host: a change that makes one daemon's file differ, killed between the write and the restart.
RESTART_POINTS = [
    ("ssh.service", {"ssh_hardening_login_grace_time": 25}),
    ("nftables.service", {"firewall_allow": [{"name": "web", "port": 8080}]}),
    ("fail2ban.service", {"os_hardening_fail2ban_bantime": "2h"}),
    ("chrony.service", {"base_timesync_servers": ["127.0.0.2"]}),
    ("systemd-journald.service", {"base_journald_system_max_use": "400M"}),
    ("prometheus-node-exporter.service", {"node_exporter_collectors_enabled": ["systemd", "processes"]}),
]

# Holds every restart and reload until the run is killed; everything else passes to systemctl.
HOLD = """#!/bin/sh
case " $* " in
  *" restart "*|*" reload "*|*" try-restart "*|*" reload-or-restart "*)
    touch /run/eightfold-crash-held; exec sleep 3600;;
esac
exec /usr/bin/systemctl "$@"
"""

# Runs in the host: per daemon, the newest modification time of its files and when it last took them up -
# the start of its process or its activation (systemd's record) or the last reload systemd logged.
APPLIED = r"""
import datetime, json, os, subprocess, sys

def moment(text):
    fields = text.split()
    if len(fields) != 4:
        return 0.0
    return datetime.datetime.fromisoformat(f"{fields[1]} {fields[2]}+00:00").timestamp()

report = {}
for unit, files in json.loads(sys.argv[1]).items():
    newest = max((os.stat(f).st_mtime for f in files if os.path.exists(f)), default=0.0)
    shown = subprocess.run(["systemctl", "show", "--timestamp=us+utc", "--value",
                            "-p", "ExecMainStartTimestamp", "-p", "ActiveEnterTimestamp", unit],
                           capture_output=True, text=True).stdout.splitlines()
    applied = max([moment(line) for line in shown] + [0.0])
    lines = subprocess.run(["journalctl", "-q", "-u", unit, "-o", "json", "--output-fields=MESSAGE,_PID"],
                           capture_output=True, text=True).stdout.splitlines()
    for line in lines:
        entry = json.loads(line)
        message = entry.get("MESSAGE")
        if entry.get("_PID") == "1" and isinstance(message, str) and message.startswith("Reloaded "):
            applied = max(applied, int(entry["__REALTIME_TIMESTAMP"]) / 1e6)
    report[unit] = {"files": newest, "applied": applied}
print(json.dumps(report))
"""


class Host:
    """One host under test and the settings of the runs on it."""

    def __init__(self, name: str, tmp_path: Path):
        self.name = name
        self.settings = dict(SETTINGS)
        self.vars_file = tmp_path / f"{name}-vars.yml"

    def start(self, kill_after: str = "", output=subprocess.PIPE) -> subprocess.Popen:
        self.vars_file.write_text(yaml.safe_dump(self.settings))
        env = ansible_env(ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json")
        if kill_after:  # ansible-core refuses an empty list of callbacks
            env.update(
                ANSIBLE_CALLBACK_PLUGINS=str(CALLBACKS),
                ANSIBLE_CALLBACKS_ENABLED="kill_after",
                EIGHTFOLD_KILL_AFTER=kill_after,
            )
        return subprocess.Popen(
            [
                str(Path(sys.executable).parent / "ansible-playbook"),
                *("-i", f"{self.name},", "-e", f"@{self.vars_file}", str(PLAYBOOK)),
            ],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT if output is not subprocess.PIPE else subprocess.PIPE,
            text=True,
            start_new_session=True,
        )

    def run(self) -> dict:
        proc = self.start()
        out, err = proc.communicate(timeout=RUN_TIMEOUT)
        try:
            data = json.loads(out)
        except json.JSONDecodeError:
            pytest.fail(
                f"ansible-playbook printed no JSON (rc {proc.returncode}):\n{out[-3000:]}\n{err[-3000:]}"
            )
        failures = [
            f"{task['task']['name']}: {result.get('msg')}"
            for play in data["plays"]
            for task in play["tasks"]
            for result in task["hosts"].values()
            if result.get("failed") and not result.get("ignore_errors")
        ]
        assert proc.returncode == 0, f"the run failed: {failures or err[-3000:]}"
        return data

    def killed_when(self, condition, what: str, kill_after: str = "") -> None:
        """Start a run and SIGKILL it (its whole process group) once condition() holds on the host."""
        # The output goes to a file: a pipe nobody reads while the run goes on would block it when full.
        log = self.vars_file.with_suffix(".log")
        with log.open("w") as output:
            proc = self.start(kill_after, output)
        deadline = time.monotonic() + RUN_TIMEOUT
        while proc.poll() is None and not condition():
            assert time.monotonic() < deadline, f"{what}: the kill point never came"
            time.sleep(0.2)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        assert proc.returncode == -signal.SIGKILL, (
            f"{what}: the run ended (rc {proc.returncode}) before the kill: {log.read_text()[-3000:]}"
        )

    def sh(self, command: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return docker("exec", self.name, "sh", "-c", command, check=check)

    def converges(self, point: str) -> None:
        """After a kill: one run to completion, then everything a converged host must show."""
        self.run()
        again = self.run()
        changed = [
            (task["task"]["name"], result.get("changed_files") or result.get("actions") or result.get("msg"))
            for play in again["plays"]
            for task in play["tasks"]
            for result in task["hosts"].values()
            if result.get("changed")
        ]
        assert not changed, f"{point}: the run after the completing one changed {changed}"
        failed = self.sh("systemctl list-units --state=failed --plain --no-legend").stdout.strip()
        assert not failed, f"{point}: failed units: {failed}"
        report = json.loads(docker("exec", self.name, "python3", "-c", APPLIED, json.dumps(DAEMONS)).stdout)
        stale = {unit: times for unit, times in report.items() if times["applied"] < times["files"]}
        assert not stale, f"{point}: daemons run an older configuration than their files: {stale}"
        self.audit_passes(point)

    def audit_passes(self, point: str) -> None:
        # The first AIDE database is built in the background; the audit checks that it exists.
        self.sh("timeout 600 sh -c 'until test -e /var/lib/aide/aide.db; do sleep 2; done'")
        proc = subprocess.run(
            [str(Path(sys.executable).parent / "ansible"), "all", "-i", f"{self.name},", "-m",
             "eightfold.devops.baseline_audit", "-e", json.dumps(SETTINGS), "-o"],
            env=ansible_env(),
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )  # fmt: skip
        result = json.loads(proc.stdout.split("=>", 1)[1])
        failing = [(r["id"], r.get("evidence")) for r in result.get("results", []) if r["status"] == "fail"]
        assert proc.returncode == 0 and not failing, (
            f"{point}: the audit fails: {failing or proc.stdout[-2000:]}"
        )


def held(host: Host) -> bool:
    return host.sh("test -e /run/eightfold-crash-held", check=False).returncode == 0


def dpkg_runs(host: Host) -> bool:
    return host.sh("pgrep -x dpkg >/dev/null", check=False).returncode == 0


@pytest.fixture
def fresh(tmp_path):
    def make(tag: str):
        return systemd_container(f"eightfold-crash-{tag}", "eightfold/debian:12")

    return make


def test_killed_in_a_package_transaction_and_between_every_write_and_its_restart(fresh, tmp_path):
    with fresh("apt") as name:
        host = Host(name, tmp_path)
        # A dropped connection can take dpkg down with it: the next run finds an interrupted dpkg.
        host.killed_when(lambda: dpkg_runs(host), "base's package transaction")
        host.sh("pkill -KILL -x dpkg; pkill -KILL -x apt-get; true")
        host.converges("killed during base's package transaction")

        for unit, change in RESTART_POINTS:
            point = f"killed between the write of {unit}'s configuration and its restart"
            host.settings.update(change)
            host.sh(
                f"cat > /usr/local/sbin/systemctl <<'EOF'\n{HOLD}EOF\nchmod 0755 /usr/local/sbin/systemctl"
            )
            try:
                host.killed_when(lambda: held(host), point)
            finally:
                host.sh(RELEASE)
            host.converges(point)


# apt runs this hook with the packages it is about to hand to dpkg: for node_exporter's, it holds the
# transaction until the run is killed.
APT_HOLD = (
    "DPkg::Pre-Install-Pkgs {\"/bin/sh -c 'if grep -q prometheus-node-exporter; then"
    " touch /run/eightfold-crash-held; exec sleep 3600; fi'\";};\n"
)
# Ends a hold: the wrappers and hooks go, the held command is killed.
RELEASE = (
    "rm -f /usr/local/sbin/systemctl /etc/apt/apt.conf.d/00eightfold-crash /run/eightfold-crash-held;"
    " pkill -f '[s]leep 3600'; true"
)


@pytest.mark.parametrize(
    "kill_after",
    [
        "os_hardening : Install the packages, write the configuration files",
        "ssh_hardening : Read sshd",
        "",
    ],
    ids=["after-os-hardening-converge", "after-ssh-read", "in-node-exporter-package-transaction"],
)
def test_killed_in_the_middle_of_a_first_run(fresh, tmp_path, kill_after):
    with fresh("first") as name:
        host = Host(name, tmp_path)
        if kill_after:
            point = f"killed after {kill_after}"
            host.killed_when(lambda: False, point, kill_after=kill_after)
        else:
            point = "killed in node_exporter's package transaction"
            host.sh(f"cat > /etc/apt/apt.conf.d/00eightfold-crash <<'EOF'\n{APT_HOLD}EOF")
            try:
                host.killed_when(lambda: held(host), point)
            finally:
                host.sh(RELEASE)
        host.converges(point)
