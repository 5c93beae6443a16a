# Copyright: eightfold.devops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action for eightfold.devops.config_files: render every template on the controller, then one module call."""

from __future__ import annotations

import os

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase
from ansible.template import generate_ansible_template_vars

try:  # ansible-core 2.19+: file contents are untrusted until marked as a template
    from ansible.template import trust_as_template
except ImportError:  # older cores trust every string

    def trust_as_template(value):
        return value


MODULE = "eightfold.devops.config_files"
# The same Jinja settings ansible.builtin.template uses by default.
OVERRIDES = dict(trim_blocks=True, lstrip_blocks=False, newline_sequence="\n")
MASK = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"  # what Ansible shows for a no_log value


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = True

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        del tmp

        def fail(msg):
            return dict(result, failed=True, msg=msg)

        args = dict(self._task.args)
        files = args.get("files")
        if not isinstance(files, list):
            return fail("files must be a list of entries (dest, content or template, ...)")

        rendered = []
        for index, entry in enumerate(files):
            if not isinstance(entry, dict):
                return fail(f"files[{index}]: {entry!r} is not a dictionary")
            entry = dict(entry)
            template = entry.get("template")
            if template is not None:
                label = f"files[{index}] ({entry.get('dest')})"
                if entry.get("content") is not None:
                    return fail(f"{label}: give either content or template, not both")
                if entry.get("state", "file") != "file":
                    return fail(f"{label}: template applies to state file, not {entry['state']}")
                try:
                    entry["content"] = self._render(template, entry.get("dest"), task_vars)
                except AnsibleError as exc:
                    return fail(f"{label}: template {template}: {to_text(exc)}")
                del entry["template"]
            rendered.append(entry)
        args["files"] = rendered

        module_result = self._execute_module(
            module_name=MODULE, module_args=args, task_vars=task_vars, wrap_async=self._task.async_val
        )
        # The rendered contents are large and may be sensitive: show the task's own arguments instead,
        # without the content of secret entries.
        if isinstance(module_result.get("invocation"), dict):
            shown = [dict(e, content=MASK) if e.get("secret") and "content" in e else e for e in files]
            module_result["invocation"] = dict(module_args=dict(self._task.args, files=shown))
        result.update(module_result)
        return result

    def _render(self, template, dest, task_vars):
        """The template rendered like ansible.builtin.template renders src (search path, variables)."""
        source = self._find_needle("templates", template)
        data = trust_as_template(self._loader.get_text_file_contents(source))

        # Includes and imports: the role's and playbook's templates/ directories, then the template's own.
        searchpath = list(task_vars.get("ansible_search_path", []))
        searchpath.extend([self._loader._basedir, os.path.dirname(source)])
        searchpath = [p for base in searchpath for p in (os.path.join(base, "templates"), base)]

        template_vars = generate_ansible_template_vars(template, fullpath=source, dest_path=dest)
        if "ansible_managed" in task_vars:  # a user's ansible_managed wins, as with ansible.builtin.template
            template_vars.pop("ansible_managed", None)
        variables = dict(task_vars)
        variables.update(template_vars)

        templar = self._templar.copy_with_new_env(searchpath=searchpath, available_variables=variables)
        text = templar.template(data, escape_backslashes=False, overrides=OVERRIDES)
        if text is None:
            return ""
        return text if isinstance(text, str) else to_text(text)
