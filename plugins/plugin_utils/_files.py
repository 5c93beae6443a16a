# Copyright: eightfold.devops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the config_files and converge actions share: rendering config_files entries on the controller, and
proving from a host_state read that they would change nothing."""

from __future__ import annotations

import hashlib
import os

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.template import generate_ansible_template_vars
from ansible_collections.eightfold.devops.plugins.modules.config_files import EntryError, check_entries

try:  # ansible-core 2.19+: file contents are untrusted until marked as a template
    from ansible.template import trust_as_template
except ImportError:  # older cores trust every string

    def trust_as_template(value):
        return value


# The same Jinja settings ansible.builtin.template uses by default.
OVERRIDES = dict(trim_blocks=True, lstrip_blocks=False, newline_sequence="\n")
MASK = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"  # what Ansible shows for a no_log value


class FilesError(Exception):
    """Bad files input; the message names the entry."""


def render_entries(action, files, task_vars):
    """The entries with every template rendered into content, like ansible.builtin.template renders src."""
    if not isinstance(files, list):
        raise FilesError("files must be a list of entries (dest, content or template, ...)")
    rendered = []
    for index, entry in enumerate(files):
        if not isinstance(entry, dict):
            raise FilesError(f"files[{index}]: {entry!r} is not a dictionary")
        entry = dict(entry)
        template = entry.get("template")
        if template is not None:
            label = f"files[{index}] ({entry.get('dest')})"
            if entry.get("content") is not None:
                raise FilesError(f"{label}: give either content or template, not both")
            if entry.get("state", "file") != "file":
                raise FilesError(f"{label}: template applies to state file, not {entry['state']}")
            try:
                entry["content"] = render(action, template, entry.get("dest"), task_vars)
            except AnsibleError as exc:
                raise FilesError(f"{label}: template {template}: {to_text(exc)}") from None
            del entry["template"]
        rendered.append(entry)
    return rendered


def render(action, template, dest, task_vars):
    source = action._find_needle("templates", template)
    data = trust_as_template(action._loader.get_text_file_contents(source))

    # Includes and imports: the role's and playbook's templates/ directories, then the template's own.
    searchpath = list(task_vars.get("ansible_search_path", []))
    searchpath.extend([action._loader._basedir, os.path.dirname(source)])
    searchpath = [p for base in searchpath for p in (os.path.join(base, "templates"), base)]

    template_vars = generate_ansible_template_vars(template, fullpath=source, dest_path=dest)
    if "ansible_managed" in task_vars:  # a user's ansible_managed wins, as with ansible.builtin.template
        template_vars.pop("ansible_managed", None)
    variables = dict(task_vars)
    variables.update(template_vars)

    templar = action._templar.copy_with_new_env(searchpath=searchpath, available_variables=variables)
    text = templar.template(data, escape_backslashes=False, overrides=OVERRIDES)
    if text is None:
        return ""
    return text if isinstance(text, str) else to_text(text)


def shown_entries(files):
    """The task's own entries for the result's invocation, without the content of secret entries."""
    return [
        dict(e, content=MASK) if isinstance(e, dict) and e.get("secret") and "content" in e else e
        for e in files
    ]


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


def read_paths(entries, content=True):
    """dest of each entry that writes content (host_state's `files`, read with their hash); with
    content=False, the others (host_state's `file_attributes`)."""
    paths = []
    for entry in entries:
        writes_content = entry.get("content") is not None or entry.get("template") is not None
        if writes_content == bool(content):
            paths.append(entry["dest"])
    return paths
