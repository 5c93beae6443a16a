# Copyright: eightfold.devops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# ruff: noqa: E402 - plugins import after DOCUMENTATION

from __future__ import annotations

DOCUMENTATION = r"""
---
name: change_plan
type: notification
short_description: Record what a check-mode run would change, per host and role, as JSON
version_added: "0.1.0"
description:
  - Records, for every host, the tasks that reported a change (in check mode - what would change), grouped
    by the role they belong to, with their diffs (truncated), and the tasks that failed, and writes them
    with the run's statistics as one JSON document when the playbook ends.
  - Made for the plan phase (playbooks/plan.yml), which runs site.yml with C(--check --diff) and this callback
    enabled, then summarises the file into plan.json and plan.md. Tasks with C(no_log) keep their names but
    not their diffs.
  - Enable it with C(ANSIBLE_CALLBACKS_ENABLED=eightfold.devops.change_plan) and name the output file with
    C(EIGHTFOLD_CHANGE_PLAN).
requirements:
  - the output file's directory must exist
options:
  path:
    description: The JSON file to write; nothing is written without it.
    type: path
    env:
      - name: EIGHTFOLD_CHANGE_PLAN
    ini:
      - section: callback_change_plan
        key: path
  diff_max:
    description: At most this many characters of each task's diff are kept (the rest is cut with a note).
    type: int
    default: 2000
    env:
      - name: EIGHTFOLD_CHANGE_PLAN_DIFF_MAX
    ini:
      - section: callback_change_plan
        key: diff_max
"""

import json
import os
import tempfile
from datetime import UTC, datetime

from ansible import context
from ansible.plugins.callback import CallbackBase

OUTSIDE_ROLES = "(play tasks)"


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "notification"
    CALLBACK_NAME = "eightfold.devops.change_plan"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, display=None):
        super().__init__(display=display)
        self._hosts = {}
        self._playbook = None
        self._check_mode = None
        self._diff_mode = None
        self._play = None
        self._started = datetime.now(UTC)

    # -- helpers -----------------------------------------------------------------------------------------
    def _host(self, name):
        return self._hosts.setdefault(name, {"roles": {}, "failures": [], "unreachable": None})

    @staticmethod
    def _role(task):
        role = getattr(task, "_role", None)
        if role is None:
            return OUTSIDE_ROLES
        try:
            return role.get_name()
        except Exception:  # a role object without its name: still count the task
            return str(role)

    def _diff_text(self, result, no_log=False):
        if no_log or result.get("_ansible_no_log") or "censored" in result:
            return "(no_log: diff hidden)"
        diffs = result.get("diff")
        if not diffs:
            return ""
        if isinstance(diffs, dict):
            diffs = [diffs]
        text = "".join(self._get_diff(d) for d in diffs if isinstance(d, dict)) if diffs else ""
        limit = max(0, int(self.get_option("diff_max")))
        if len(text) > limit:
            text = text[:limit] + f"\n... (diff cut: {len(text) - limit} more characters)\n"
        return text

    def _record_change(self, result, item=None):
        task = result._task
        host = self._host(result._host.get_name())
        role = self._role(task)
        name = task.get_name()
        if name.startswith(f"{role} : "):
            name = name[len(role) + 3 :]
        entry = {
            "task": name,
            "action": task.action,
            "play": self._play,
            "diff": self._diff_text(result._result, no_log=bool(task.no_log)),
        }
        if item is not None:
            entry["item"] = self._item_label(result._result)
        host["roles"].setdefault(role, []).append(entry)

    def _item_label(self, res):
        if res.get("_ansible_no_log"):
            return "(censored)"
        label = res.get("_ansible_item_label", res.get("item"))
        text = label if isinstance(label, str) else json.dumps(label, sort_keys=True, default=str)
        return text[:200]

    # -- events --------------------------------------------------------------------------------------------
    def v2_playbook_on_start(self, playbook):
        self._playbook = os.path.abspath(playbook._file_name)
        self._check_mode = bool(context.CLIARGS.get("check", False))
        self._diff_mode = bool(context.CLIARGS.get("diff", False))

    def v2_playbook_on_play_start(self, play):
        self._play = play.get_name()

    def v2_runner_on_ok(self, result):
        # A loop reports its items one by one (v2_runner_item_on_ok); its summary result has changed set too.
        if result._result.get("changed") and not result._result.get("results"):
            self._record_change(result)

    def v2_runner_item_on_ok(self, result):
        if result._result.get("changed"):
            self._record_change(result, item=True)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        if ignore_errors:
            return
        res = result._result
        message = "(no_log: message hidden)" if res.get("_ansible_no_log") else str(res.get("msg", ""))
        if not message and res.get("results"):
            message = "; ".join(str(r.get("msg", "")) for r in res["results"] if r.get("failed"))
        self._host(result._host.get_name())["failures"].append(
            {"task": result._task.get_name(), "role": self._role(result._task), "msg": message[:500]}
        )

    def v2_runner_on_unreachable(self, result):
        self._host(result._host.get_name())["unreachable"] = str(result._result.get("msg", ""))[:500]

    def v2_playbook_on_stats(self, stats):
        path = self.get_option("path")
        if not path:
            self._display.warning("change_plan: EIGHTFOLD_CHANGE_PLAN is not set; no change plan written")
            return
        hosts = {}
        for name in sorted(set(stats.processed) | set(self._hosts)):
            counts = stats.summarize(name)
            seen = self._hosts.get(name, {"roles": {}, "failures": [], "unreachable": None})
            hosts[name] = {
                "stats": counts,
                "changed_tasks": sum(len(t) for t in seen["roles"].values()),
                "roles": {role: seen["roles"][role] for role in sorted(seen["roles"])},
                "failures": seen["failures"],
                "unreachable": seen["unreachable"],
            }
        document = {
            "playbook": self._playbook,
            "check_mode": self._check_mode,
            "diff_mode": self._diff_mode,
            "started_at": self._started.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "finished_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "hosts": hosts,
        }
        directory = os.path.dirname(os.path.abspath(path))
        try:
            fd, temp = tempfile.mkstemp(dir=directory, prefix=".change_plan.")
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(document, handle, indent=2, sort_keys=True, default=str)
                handle.write("\n")
            os.replace(temp, path)
        except OSError as exc:
            self._display.warning(f"change_plan: cannot write {path}: {exc}")
