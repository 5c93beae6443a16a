#!/usr/bin/python
# Copyright: eightfold.devops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# ruff: noqa: E402 - Ansible modules import after DOCUMENTATION, EXAMPLES and RETURN

from __future__ import annotations

DOCUMENTATION = r"""
---
module: units
short_description: Bring systemd units to their state in one call, restarting what runs an old configuration
version_added: 0.1.0
description:
  - Enables, disables, starts and stops a list of systemd units, reloads systemd when a unit file changed, and
    clears the failed state of units that are meant to be stopped - one module call for all of them.
  - "Restarts are decided from the host's state, not from handlers: a running unit whose O(units[].watch)
    files were modified after it last took up its configuration (its activation, or a reload this module
    made and recorded under C(/var/lib/eightfold/units)) is reloaded or restarted (O(units[].on_change)).
    So a run that wrote a file and then failed or was killed before the restart is completed by the next
    run, whatever changed since."
  - Container-aware - a unit with O(units[].in_container=defer) is stopped, disabled and its failure cleared
    in a container (where it cannot run), and returned in RV(deferred).
author: eightfold.devops maintainers (@eightfold)
options:
  units:
    description: The units, handled in list order (starts and restarts in that order).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The unit with its suffix (C(ssh.service), C(aide-check.timer)).
        type: str
        required: true
      enabled:
        description: Enabled at boot (V(true)), disabled (V(false)), or left as it is (unset).
        type: bool
      state:
        description:
          - V(started) and V(stopped) as in M(ansible.builtin.systemd_service); V(restarted) and V(reloaded)
            always act (a caller that knows the running configuration is old, such as PostgreSQL's
            C(pending_restart)). Unset - left as it is, apart from O(units[].watch).
        type: str
        choices: [started, stopped, restarted, reloaded]
      watch:
        description:
          - Files the running unit reads at start or reload. Modified after the unit took them up, they make
            the module apply O(units[].on_change).
        type: list
        elements: path
        default: []
      on_change:
        description:
          - What takes up a changed O(units[].watch) file - V(reload) (falls back to a restart when the unit
            cannot reload) or V(restart).
        type: str
        choices: [reload, restart]
        default: restart
      reload_command:
        description:
          - A command that takes up the changed files instead of C(systemctl reload) (for example
            C([augenrules, --load]) for audit rules). Recorded like a reload.
        type: list
        elements: str
      in_container:
        description: V(run), or V(defer) for a unit a container cannot run (stopped and disabled there).
        type: str
        choices: [run, defer]
        default: run
  commands:
    description:
      - Commands that apply files to the running system (C(pam-auth-update --package) for PAM profiles,
        C(augenrules --load) for audit rules), run after the units when one of their O(commands[].watch)
        files changed since the command last ran successfully (recorded under C(/var/lib/eightfold/applied)).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: A name for the record - letters, digits, C(-) and C(_).
        type: str
        required: true
      argv:
        description: The command and its arguments.
        type: list
        elements: str
        required: true
      watch:
        description: The files the command applies.
        type: list
        elements: path
        required: true
  changed_files:
    description:
      - Paths this run changed (or would change, in check mode) - taken as newer than any unit watching them,
        whatever their modification time says.
    type: list
    elements: path
    default: []
attributes:
  check_mode:
    support: full
    description: Reports what would be done. A unit that does not exist yet (its package would have been
      installed) is reported as started.
  diff_mode:
    support: full
    description: One entry per unit that changes, before and after.
notes:
  - A unit that fails to start, restart or reload fails the task with the tail of its journal; the actions
    done before are returned in RV(actions).
seealso:
  - module: ansible.builtin.systemd_service
  - module: eightfold.devops.converge
"""

EXAMPLES = r"""
- name: Run sshd and nftables on the configuration on disk
  eightfold.devops.units:
    units:
      - name: ssh.service
        enabled: true
        state: started
        watch: [/etc/ssh/sshd_config]
        on_change: reload
      - name: nftables.service
        enabled: true
        state: started
        watch: [/etc/nftables.conf]
        on_change: reload
      - name: auditd.service
        enabled: true
        state: started
        in_container: defer
"""

RETURN = r"""
units:
  description: Per unit, its state after the call (C(enabled), C(active)) and the C(actions) taken on it.
  returned: always
  type: dict
  sample: {ssh.service: {enabled: enabled, active: active, actions: [reload], stale: [/etc/ssh/sshd_config]}}
actions:
  description: The commands run (or that would run, in check mode), in order.
  returned: always
  type: list
  elements: str
  sample: ["systemctl daemon-reload", "systemctl reload ssh.service"]
deferred:
  description: Units a container cannot run, stopped and disabled there.
  returned: always
  type: list
  elements: str
commands:
  description: The commands that ran, each with the changed files that made it run.
  returned: always
  type: dict
  sample: {pam-auth-update: [/usr/share/pam-configs/eightfold-faillock]}
"""

import os
import re
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.eightfold.devops.plugins.module_utils._host import (
    command_record,
    in_container,
    plan_unit,
    stale_command,
    stale_files,
    unit_record,
    unit_states,
)

UNIT_FILE_DIRS = ("/etc/systemd/", "/run/systemd/", "/lib/systemd/", "/usr/lib/systemd/")
SETTLE_SECONDS = 1.0
COMMAND_NAME = re.compile(r"^[A-Za-z0-9_-]+$")


class Units:
    def __init__(self, module):
        self.module = module
        self.systemctl = module.get_bin_path("systemctl", required=True)
        self.actions = []

    def run(self, argv, unit=None, tolerate=()):
        self.actions.append(" ".join(argv))
        if self.module.check_mode:
            return
        rc, out, err = self.module.run_command(argv, environ_update={"LC_ALL": "C"})
        if rc != 0 and not any(text in err for text in tolerate):
            detail = (err or out).strip()
            journal = self.journal(unit) if unit else ""
            self.module.fail_json(
                msg=f"{' '.join(argv)} failed (rc {rc}): {detail}"
                + (f"; its journal ends: {journal}" if journal else ""),
                actions=self.actions,
                rc=rc,
                stdout=out,
                stderr=err,
            )

    def journal(self, unit):
        journalctl = self.module.get_bin_path("journalctl")
        if not journalctl:
            return ""
        _rc, out, _err = self.module.run_command(
            [journalctl, "--no-pager", "-q", "-o", "cat", "-n", "8", "-u", unit],
            environ_update={"LC_ALL": "C"},
        )
        return " | ".join(line.strip() for line in out.splitlines() if line.strip())

    def record(self, path):
        """Touch a record: its modification time says when the files were last applied."""
        if self.module.check_mode:
            return
        os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
        with open(path, "a", encoding="utf-8"):
            pass
        os.utime(path)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            units=dict(
                type="list",
                elements="dict",
                default=[],
                options=dict(
                    name=dict(type="str", required=True),
                    enabled=dict(type="bool"),
                    state=dict(type="str", choices=["started", "stopped", "restarted", "reloaded"]),
                    watch=dict(type="list", elements="path", default=[]),
                    on_change=dict(type="str", choices=["reload", "restart"], default="restart"),
                    reload_command=dict(type="list", elements="str"),
                    in_container=dict(type="str", choices=["run", "defer"], default="run"),
                ),
            ),
            commands=dict(
                type="list",
                elements="dict",
                default=[],
                options=dict(
                    name=dict(type="str", required=True),
                    argv=dict(type="list", elements="str", required=True),
                    watch=dict(type="list", elements="path", required=True),
                ),
            ),
            changed_files=dict(type="list", elements="path", default=[]),
        ),
        supports_check_mode=True,
    )
    specs = module.params["units"]
    names = [spec["name"] for spec in specs]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        module.fail_json(msg=f"units: {', '.join(duplicates)} listed more than once")
    bad = [name for name in names if "/" in name or "." not in name]
    if bad:
        module.fail_json(msg=f"units: {', '.join(bad)} is not a unit name with its suffix (ssh.service)")

    bad = [
        command["name"] for command in module.params["commands"] if not COMMAND_NAME.match(command["name"])
    ]
    if bad:
        module.fail_json(msg=f"commands: {', '.join(bad)} is not a name of letters, digits, - and _")

    units = Units(module)
    container = in_container()
    changed_files = set(module.params["changed_files"])
    states = unit_states(module, names)

    # systemd first reads unit files that changed (or are new): starts and restarts then use them. Its own
    # NeedDaemonReload may lag a new drop-in by seconds, so a changed or stale file under a unit directory
    # counts too.
    unit_files = [
        path
        for spec in specs
        for path in spec["watch"] + sorted(changed_files)
        if path.startswith(UNIT_FILE_DIRS)
        and (path in changed_files or stale_files(states[spec["name"]], [path]))
    ]
    if unit_files or any(states[name]["need_daemon_reload"] for name in names):
        units.run([units.systemctl, "daemon-reload"])
        if not module.check_mode:
            states = unit_states(module, names)

    plans = {}
    for spec in specs:
        name, state = spec["name"], states[spec["name"]]
        if state["loaded"] == "not-found":
            deferred = container and spec["in_container"] == "defer"
            wanted = spec["enabled"] or spec["state"] in ("started", "restarted", "reloaded")
            if wanted and not module.check_mode and not deferred:
                module.fail_json(
                    msg=f"unit {name} does not exist on this host (is the package that brings it installed?)",
                    actions=units.actions,
                )
            # Nothing runs there to defer: a unit of another release (Debian 13's audit-rules) or package.
            plans[name] = (["start"] if wanted and module.check_mode and not deferred else [], [], False)
            continue
        plans[name] = plan_unit(spec, state, container, changed_files)

    # Enablement of all units in two calls, then starts, stops and restarts unit by unit in list order.
    for verb in ("disable", "enable"):
        todo = [name for name in names if verb in plans[name][0]]
        if todo:
            units.run([units.systemctl, verb, "--", *todo])
    for spec in specs:
        name = spec["name"]
        for action in plans[name][0]:
            if action in ("enable", "disable"):
                continue
            if action == "reload" and spec["reload_command"]:
                units.run(list(spec["reload_command"]), name)
                units.record(unit_record(name))
            elif action == "reload" and not states[name]["can_reload"]:
                units.run([units.systemctl, "restart", "--", name], name)
            elif action == "reload":
                units.run([units.systemctl, "reload", "--", name], name)
                units.record(unit_record(name))
            elif action == "reset-failed":
                # systemd may have unloaded the unit since the read: nothing left to clear.
                units.run([units.systemctl, action, "--", name], name, tolerate=("not loaded",))
            else:
                units.run([units.systemctl, action, "--", name], name)

    commands = {}
    for command in module.params["commands"]:
        stale = stale_command(command, changed_files)
        if stale:
            units.run(list(command["argv"]))
            units.record(command_record(command["name"]))
            commands[command["name"]] = stale

    if not module.check_mode and any(
        a in ("start", "restart") for actions, _s, _d in plans.values() for a in actions
    ):
        # A simple service counts as started when its process is forked: one that dies at once (a bad
        # argument, a sandbox denial) shows only a moment later.
        time.sleep(SETTLE_SECONDS)
    after = states if module.check_mode else unit_states(module, names)
    report, diffs = {}, []
    for spec in specs:
        name = spec["name"]
        actions, stale, _deferred = plans[name]
        report[name] = dict(enabled=after[name]["enabled"], active=after[name]["active"], actions=actions)
        if stale:
            report[name]["stale"] = stale
        if actions:
            diffs.append(
                dict(
                    before_header=name,
                    after_header=name,
                    before=f"enabled: {states[name]['enabled']}\nactive: {states[name]['active']}\n",
                    after=f"actions: {', '.join(actions)}\n",
                )
            )
        wanted_running = spec["state"] in ("started", "restarted", "reloaded") and not plans[name][2]
        if not module.check_mode and wanted_running and after[name]["active"] not in ("active", "reloading"):
            module.fail_json(
                msg=f"unit {name} is {after[name]['active']} after {', '.join(actions) or 'the call'}; "
                f"its journal ends: {units.journal(name)}",
                actions=units.actions,
                units=report,
            )
    module.exit_json(
        changed=bool(units.actions),
        units=report,
        actions=units.actions,
        deferred=[name for name in names if plans[name][2]],
        commands=commands,
        diff=diffs if module._diff else [],
    )


if __name__ == "__main__":
    main()
