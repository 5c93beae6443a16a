# Copyright: eightfold.devops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action for eightfold.devops.config_files: render every template on the controller, then one module call -
or none, when an earlier host_state read (option current) shows every file already as wanted."""

from __future__ import annotations

from ansible.plugins.action import ActionBase
from ansible_collections.eightfold.devops.plugins.plugin_utils._files import (
    FilesError,
    entries_as_read,
    render_entries,
    shown_entries,
)

MODULE = "eightfold.devops.config_files"


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = True

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        del tmp

        args = dict(self._task.args)
        current = args.pop("current", None)
        if current is not None and not isinstance(current, dict):
            return dict(
                result,
                failed=True,
                msg="current must be the files of an eightfold.devops.host_state read (a dictionary of path "
                f"to state), not {type(current).__name__}",
            )
        try:
            args["files"] = render_entries(self, args.get("files"), task_vars)
        except FilesError as exc:
            return dict(result, failed=True, msg=str(exc))

        checked = entries_as_read(args["files"], current) if current else None
        if checked is not None:
            unchanged = [dict(dest=e["dest"], state=e["state"], changed=False) for e in checked]
            module_result = dict(
                changed=False,
                files=unchanged,
                changed_files=[],
                diff=[],
                skipped_module_call=True,
                invocation={},
            )
        else:
            module_result = self._execute_module(
                module_name=MODULE, module_args=args, task_vars=task_vars, wrap_async=self._task.async_val
            )
        # The rendered contents are large and may be sensitive: show the task's own arguments instead,
        # without the content of secret entries.
        if isinstance(module_result.get("invocation"), dict):
            files = self._task.args.get("files")
            shown = shown_entries(files) if isinstance(files, list) else files
            module_result["invocation"] = dict(module_args=dict(self._task.args, files=shown))
        result.update(module_result)
        return result
