# Copyright: eightfold.devops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action for eightfold.devops.config_files: render every template on the controller, then one module call -
or none, when an earlier host_state read (option current) shows every file already as wanted."""

from __future__ import annotations

import hashlib
import os

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase
from ansible.template import generate_ansible_template_vars
from ansible_collections.eightfold.devops.plugins.modules.config_files import EntryError, check_entries

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
        current = args.pop("current", None)
        if current is not None and not isinstance(current, dict):
            return fail(
                "current must be the files of an eightfold.devops.host_state read (a dictionary of path to "
                f"state), not {type(current).__name__}"
            )

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

        checked = entries_as_read(rendered, current) if current else None
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


def entries_as_read(entries, current):
    """The entries as the module checks them when the host_state read `current` (path -> file state) proves
    that none would change anything, else None.

    Conservative: whatever the read cannot prove (a path it did not read, a symbolic mode, a symlink, a file
    it could not hash, input the module would reject) sends the call to the module, which decides on the host.
    """
    try:
        checked = check_entries(entries)
    except EntryError:
        return None  # the module names the bad entry
    return checked if all(entry_as_read(entry, current.get(entry["dest"])) for entry in checked) else None


def entry_as_read(entry, read):
    if not isinstance(read, dict) or "exists" not in read:
        return False
    if entry["state"] == "absent":
        return not read["exists"]
    if not read["exists"]:
        return entry["state"] == "file" and entry["content"] is None and entry["missing_ok"]
    if read.get("type") != ("directory" if entry["state"] == "directory" else "file"):
        return False
    if entry["content"] is not None and read.get("sha256") != hashlib.sha256(entry["content"]).hexdigest():
        return False
    mode = entry["mode"]
    if mode is not None and not (mode.isdigit() and int(mode, 8) == int(read.get("mode", "-1"), 8)):
        return False
    return all(entry[name] is None or entry[name] == read.get(name) for name in ("owner", "group"))
