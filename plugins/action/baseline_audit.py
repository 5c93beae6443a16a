# Copyright: eightfold.devops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for eightfold.devops.baseline_audit.

On the controller: load and validate the control catalogue, select the controls (roles, skip), check the
waivers, then call the module once with the selected controls, the waivers and today's date.
"""

from __future__ import annotations

import datetime

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible_collections.eightfold.devops.plugins.plugin_utils._catalogue import (
    ROLES,
    CatalogueError,
    load,
    parse_date,
    select,
    validate_waivers,
)

MODULE = "eightfold.devops.baseline_audit"
ARGS = {"roles", "skip", "waivers", "today", "fail_on", "catalogue"}


def _str_list(value, name):
    if value is None or value == "":
        return []
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise AnsibleActionFail(f"{name} must be a list of strings, got {value!r}")
    return list(value)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(ARGS | {"controls"})
    _requires_connection = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = dict(self._task.args)
        if "controls" in args:
            raise AnsibleActionFail(
                "controls is set by the action plugin; select controls with roles and skip"
            )
        unknown = sorted(set(args) - ARGS)
        if unknown:
            raise AnsibleActionFail(f"unsupported parameter(s): {', '.join(unknown)}")

        roles = _str_list(args.get("roles"), "roles")
        bad_roles = [r for r in roles if r not in ROLES]
        if bad_roles:
            raise AnsibleActionFail(f"roles: unknown role {', '.join(bad_roles)} (known: {', '.join(ROLES)})")
        skip = _str_list(args.get("skip"), "skip")
        fail_on = args.get("fail_on") or "none"
        if fail_on not in ("none", "fail"):
            raise AnsibleActionFail(f"fail_on must be none or fail, got {fail_on!r}")
        try:
            catalogue = load(args.get("catalogue") or None)
            ids = [c["id"] for c in catalogue]
            unknown_skip = [s for s in skip if s not in ids]
            if unknown_skip:
                raise CatalogueError(f"skip: {', '.join(unknown_skip)} is not a control in the catalogue")
            waivers = validate_waivers(args.get("waivers") or [], ids)
            today = args.get("today")
            today = parse_date(today, "today").isoformat() if today else datetime.date.today().isoformat()
            controls = select(catalogue, role=roles or None)
        except CatalogueError as exc:
            raise AnsibleActionFail(str(exc)) from None
        if not controls:
            raise AnsibleActionFail("no control selected: check roles")

        module_args = {
            "controls": controls,
            "waivers": waivers,
            "skip": skip,
            "today": today,
            "fail_on": fail_on,
        }
        result.update(self._execute_module(module_name=MODULE, module_args=module_args, task_vars=task_vars))
        result["changed"] = False
        return result
