# Copyright: eightfold.devops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test-only callback: SIGKILL the whole ansible-playbook process group right after the first task whose
name contains EIGHTFOLD_KILL_AFTER ends on any host - a run killed at a known point (tests/unit/crash)."""

from __future__ import annotations

import os
import signal

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: kill_after
type: aggregate
short_description: Kill the run after a named task (tests only)
description: SIGKILL to ansible-playbook's process group after the task named in EIGHTFOLD_KILL_AFTER.
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "kill_after"
    CALLBACK_NEEDS_ENABLED = True

    def _maybe_kill(self, result):
        wanted = os.environ.get("EIGHTFOLD_KILL_AFTER", "")
        if wanted and wanted in result._task.get_name():
            os.killpg(os.getpgid(0), signal.SIGKILL)

    v2_runner_on_ok = _maybe_kill
    v2_runner_on_skipped = _maybe_kill
