# Copyright: eightfold.devops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action for eightfold.devops.sysctls: no module call when an earlier host_state read (option current) shows
the file as wanted and every parameter at its value, missing or deferred; otherwise the module decides."""

from __future__ import annotations

import hashlib

from ansible.plugins.action import ActionBase
from ansible_collections.eightfold.devops.plugins.module_utils._host import sysctl_path
from ansible_collections.eightfold.devops.plugins.modules.sysctls import (
    SysctlError,
    check_key,
    deferred_reason,
    format_value,
    normalise,
    render_file,
)

MODULE = "eightfold.devops.sysctls"


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        args = dict(self._task.args)
        current = args.pop("current", None)
        if current is not None and not isinstance(current, dict):
            return dict(
                result,
                failed=True,
                msg="current must be an eightfold.devops.host_state read (a dictionary), "
                f"not {type(current).__name__}",
            )
        as_read = result_as_read(args, current) if current else None
        if as_read is not None:
            result.update(as_read, skipped_module_call=True, invocation=dict(module_args=self._task.args))
            return result
        result.update(
            self._execute_module(
                module_name=MODULE, module_args=args, task_vars=task_vars, wrap_async=self._task.async_val
            )
        )
        return result


def result_as_read(args, read):
    """The module's result when the read proves it would change nothing; None when it cannot."""
    settings, path = args.get("settings"), args.get("path")
    runtime, container = args.get("runtime", "auto"), args.get("container", "auto")
    if not isinstance(settings, dict) or not isinstance(path, str):
        return None
    if runtime not in ("auto", "always", "never"):
        return None
    try:
        values = {}
        for key in sorted(settings, key=str):
            check_key(key)
            values[key] = format_value(key, settings[key])
    except SysctlError:
        return None  # the module names the bad key or value
    in_container = read.get("container") if container == "auto" else container == "true"
    kept = (read.get("files") or {}).get(path) or {}
    wanted = hashlib.sha256(render_file(values).encode("utf-8")).hexdigest()
    if kept.get("type") != "file" or kept.get("sha256") != wanted or kept.get("mode") != "0644":
        return None
    deferred, missing = {}, []
    for key, value in values.items():
        state = (read.get("sysctls") or {}).get(key)
        if not isinstance(state, dict) or "exists" not in state:
            return None
        if not state["exists"]:
            if not args.get("ignore_missing", False):
                return None  # the module fails naming it
            missing.append(key)
        elif runtime == "never" or ("value" in state and normalise(state["value"]) == normalise(value)):
            continue
        elif in_container and runtime == "auto" and not state.get("writable", True):
            deferred[key] = deferred_reason(sysctl_path(key))
        else:
            return None  # to be applied
    return dict(
        changed=False,
        path=path,
        file_changed=False,
        applied={},
        deferred=deferred,
        missing=missing,
        container=bool(in_container),
        diff=[],
    )
