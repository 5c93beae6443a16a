#!/usr/bin/python
# Copyright: eightfold.devops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# ruff: noqa: E402 - Ansible modules import after DOCUMENTATION, EXAMPLES and RETURN

from __future__ import annotations

DOCUMENTATION = r"""
---
module: config_files
short_description: Write, remove and set attributes of a set of files in one call
version_added: 0.1.0
description:
  - Brings a list of files and directories to their desired state in one round trip, which is what keeps an
    unchanged run of a role fast. Each entry writes a file (from O(files[].content) or a controller-side
    O(files[].template)), only enforces owner, group and mode of an existing file, makes a directory, or
    removes a file.
  - Templates are rendered on the controller by the action plugin with the task's variables (role
    variables, C(ansible_managed), C(template_*) variables), looked up like M(ansible.builtin.template)
    does (the role's C(templates/) directory, then the playbook's).
  - "All-or-nothing before install: every argument is checked, every changed file is written to a temporary
    file in its destination directory and validated, and only then are the files moved into place. A failed
    validation leaves every file of the call unchanged."
  - Content is replaced atomically (temporary file in the same directory, then rename).
author:
  - eightfold.devops maintainers (@eightfold)
options:
  files:
    description: The files and directories, handled in list order.
    type: list
    elements: dict
    required: true
    suboptions:
      dest:
        description:
          - Absolute path of the file or directory. Required.
          - Checked by the module rather than the argument spec, so the error names the entry.
        type: path
      state:
        description:
          - One of V(file), V(directory), V(absent); checked by the module so that the error names the entry.
          - V(file) writes O(files[].content) or O(files[].template); with neither, only owner, group and mode
            of the existing file are enforced (a missing file is an error unless O(files[].missing_ok=true)).
          - V(directory) creates the directory (not its parents) and enforces its attributes.
          - V(absent) removes a file, a link or an empty directory.
        type: str
        default: file
      content:
        description: The content of the file. Mutually exclusive with O(files[].template).
        type: str
      template:
        description:
          - A Jinja2 template on the controller, found like M(ansible.builtin.template) finds C(src).
            Rendered by the action plugin; mutually exclusive with O(files[].content).
        type: str
      mode:
        description:
          - Mode as an octal string (V('0644')) or symbolic (V(u=rw,g=r,o=r)).
          - Defaults to V('0644') for a file written from content or template and V('0755') for a directory;
            an attributes-only entry changes only what is given.
        type: raw
      owner:
        description:
          - Owner of the file. Defaults to V(root) for a written file and a directory; an attributes-only
            entry changes only what is given.
        type: str
      group:
        description:
          - Group of the file. Defaults to V(root) for a written file and a directory; an attributes-only
            entry changes only what is given.
        type: str
      validate:
        description:
          - A command that checks the new content before it is installed, with V(%s) standing for a temporary
            file in the destination directory, as in M(ansible.builtin.template). Run only when the content
            changes.
        type: str
      missing_ok:
        description: For an attributes-only entry, a missing file is fine (nothing to do) instead of an error.
        type: bool
        default: false
      secret:
        description:
          - The content is a secret (a private key, a password hash), so it is masked in the result and the
            task's arguments, and a diff shows a placeholder instead of it. The other entries of the same call
            keep their diffs, so a role needs no separate C(no_log) task for its secrets.
        type: bool
        default: false
  backup:
    description: Keep a timestamped copy of each file that is replaced or removed.
    type: bool
    default: false
  current:
    description:
      - The RV(eightfold.devops.host_state#module:files) of a read made earlier in the play that covers these
        paths. When it shows every entry already as wanted (content by SHA-256, type, mode, owner, group), the
        action returns unchanged without a module call - what makes an unchanged run fast.
      - Whatever the read cannot prove (a path it did not read, a symbolic mode, a symlink) is left to the
        module, which looks on the host.
      - Give it only when nothing that may have changed these files (a package install, an earlier task
        writing them) ran since the read.
    type: dict
attributes:
  action:
    support: full
    description: An action plugin renders templates on the controller and sends all files in one module call.
  check_mode:
    support: full
    description: Reports what would change without touching anything; validators are not run.
  diff_mode:
    support: full
    description: Returns one diff per changed file (content, attributes or state).
  platform:
    support: full
    platforms: posix
    description: Linux hosts (Debian 12 and 13 are tested).
notes:
  - A missing parent directory fails the call, naming it, unless an earlier entry of the same call creates it.
  - In check mode a missing parent directory, owner or group is reported as a change, not an error, because
    an earlier task (the package that brings them) would have created it. A real run still fails naming it.
  - "If installing fails part-way (for example a full disk after validation), the files already installed
    stay installed; the error names them."
seealso:
  - module: ansible.builtin.template
  - module: ansible.builtin.copy
  - module: ansible.builtin.file
"""

EXAMPLES = r"""
- name: Write the hardening configuration
  eightfold.devops.config_files:
    files:
      - dest: /etc/login.defs
        template: login.defs.j2
      - dest: /etc/sudoers.d/eightfold
        template: sudoers.j2
        mode: "0440"
        validate: /usr/sbin/visudo -cf %s
      - dest: /etc/cron.deny
        state: absent
      - dest: /etc/crontab
        mode: "0600"
      - dest: /etc/ssh/sshd_config.d
        state: directory
        mode: "0755"
      - dest: /etc/ssh/sshd_config.d/50-eightfold.conf
        content: |
          PermitRootLogin no
        mode: "0600"
        validate: /usr/sbin/sshd -t -f %s
  register: hardening_files

- name: Reload sshd when its configuration changed
  ansible.builtin.systemd_service:
    name: ssh
    state: reloaded
  when: "'/etc/ssh/sshd_config.d/50-eightfold.conf' in hardening_files.changed_files"
"""

RETURN = r"""
changed:
  description: Whether any file changed (or would change in check mode).
  returned: always
  type: bool
files:
  description: One entry per input entry, in order.
  returned: always
  type: list
  elements: dict
  contains:
    dest:
      description: The path.
      type: str
    state:
      description: The requested state.
      type: str
    changed:
      description: Whether this path changed.
      type: bool
    backup_file:
      description: The backup copy, when O(backup=true) and the file was replaced or removed.
      type: str
      returned: when a backup was made
  sample: [{"dest": "/etc/login.defs", "state": "file", "changed": true}]
skipped_module_call:
  description: True when O(current) proved that nothing would change, so the module did not run.
  returned: when the module call was skipped
  type: bool
changed_files:
  description: The paths that changed, in order, for follow-up tasks (C('/etc/x' in result.changed_files)).
  returned: always
  type: list
  elements: str
  sample: ["/etc/login.defs"]
diff:
  description:
    - In diff mode, one entry per change with before, after, before_header and after_header, like
      M(ansible.builtin.template) and M(ansible.builtin.file). Empty when nothing changes or diff mode is off.
  returned: always
  type: list
  elements: dict
"""

import grp
import os
import pwd
import re
import shlex
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_native, to_text
from ansible_collections.eightfold.devops.plugins.module_utils._host import mark_files_changed

MAX_DIFF_BYTES = 104448  # ansible's default MAX_FILE_SIZE_FOR_DIFF
OCTAL_MODE_RE = re.compile(r"^0?[0-7]{3,4}$")
_CLAUSE = r"[ugoa]*[-+=][rwxXstugo]*([-+=][rwxXstugo]*)*"
SYMBOLIC_MODE_RE = re.compile(rf"^{_CLAUSE}(,{_CLAUSE})*$")
SE_ARGS = dict(secontext=None, attributes=None)


class EntryError(Exception):
    pass


def check_mode_value(mode):
    """A mode as set_mode_if_different takes it, or EntryError."""
    if mode is None:
        return None
    if isinstance(mode, bool):
        raise EntryError(f"mode {mode!r} is not a mode")
    if isinstance(mode, int):
        if 0 <= mode <= 0o7777:
            return f"0{mode:o}" if mode > 0o777 else f"0{mode:03o}"
        raise EntryError(f"mode {mode!r} is out of range")
    text = to_text(mode).strip()
    if OCTAL_MODE_RE.match(text):
        return text if text.startswith("0") else "0" + text
    if SYMBOLIC_MODE_RE.match(text):
        return text
    raise EntryError(f"mode {mode!r} is not an octal mode like '0644' or a symbolic mode like 'u=rw,g=r,o=r'")


def check_entries(entries):
    """Normalised entries; EntryError naming the entry index and dest on the first bad one."""
    checked = []
    for index, entry in enumerate(entries):
        dest = entry.get("dest")
        label = f"files[{index}] ({dest})"
        try:
            if not dest:
                raise EntryError("dest is required")
            if not isinstance(dest, str) or not os.path.isabs(dest):
                raise EntryError("dest must be an absolute path")
            if dest != "/" and dest.endswith("/"):
                dest = dest.rstrip("/")
            state = entry.get("state") or "file"
            if state not in ("file", "directory", "absent"):
                raise EntryError(f"state {state!r} is not one of file, directory, absent")
            content, template = entry.get("content"), entry.get("template")
            if content is not None and template is not None:
                raise EntryError("give either content or template, not both")
            if template is not None:
                raise EntryError(
                    "template must be rendered on the controller; call the module through its action "
                    "(eightfold.devops.config_files), not with ansible.legacy or a module path"
                )
            if state != "file" and content is not None:
                raise EntryError(f"content applies to state file, not {state}")
            if entry.get("validate") and (state != "file" or content is None):
                raise EntryError("validate applies only to a file written from content or template")
            if entry.get("validate") and "%s" not in entry["validate"]:
                raise EntryError(f"validate {entry['validate']!r} must contain %s (the file to check)")
            mode = check_mode_value(entry.get("mode"))
        except EntryError as exc:
            raise EntryError(f"{label}: {exc}") from None
        owner, group = entry.get("owner"), entry.get("group")
        if state == "directory" or content is not None:
            mode = mode or ("0755" if state == "directory" else "0644")
            owner = owner or "root"
            group = group or "root"
        checked.append(
            dict(
                index=index,
                label=label,
                dest=dest,
                state=state,
                content=None if content is None else to_bytes(content, errors="surrogate_or_strict"),
                mode=mode,
                owner=owner,
                group=group,
                validate=entry.get("validate"),
                missing_ok=bool(entry.get("missing_ok")),
                secret=bool(entry.get("secret")),
            )
        )
    return checked


def read_bytes(path):
    with open(path, "rb") as handle:
        return handle.read()


def diff_text(data, secret=False, side="before"):
    if data is None:
        return ""
    if secret:
        return "(secret content, not shown)\n" if side == "before" else "(secret content, changed)\n"
    if len(data) > MAX_DIFF_BYTES:
        return f"(file larger than {MAX_DIFF_BYTES} bytes, not shown)\n"
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return "(binary content, not shown)\n"


class Run:
    def __init__(self, module):
        self.module = module
        self.entries = []
        self.planned = {}  # path -> state after the entries so far (for later entries of the same call)
        self.staged = []  # temporary files to clean up
        self.results = []
        self.diffs = []

    def fail(self, msg, **extra):
        self.cleanup()
        self.module.fail_json(msg=msg, **self.summary(), **extra)

    def cleanup(self):
        for path in self.staged:
            if os.path.lexists(path):
                os.unlink(path)
        self.staged = []

    def summary(self):
        return dict(
            changed=any(r["changed"] for r in self.results),
            files=self.results,
            changed_files=[r["dest"] for r in self.results if r["changed"]],
            diff=self.diffs if self.module._diff else [],
        )

    def exists_as(self, path):
        """'file', 'directory', 'absent', taking earlier entries of this call into account."""
        if path in self.planned:
            return self.planned[path]
        if os.path.isdir(path):
            return "directory"
        if os.path.lexists(path):
            return "file"
        return "absent"

    def existing_ancestor(self, path):
        while not os.path.isdir(path):
            path = os.path.dirname(path)
        return path

    def file_args(self, entry, path=None):
        return dict(
            path=path or entry["dest"],
            mode=entry["mode"],
            owner=entry["owner"],
            group=entry["group"],
            **SE_ARGS,
        )

    # Plan: read the current state, decide, stage and validate new content. Nothing is changed here.
    def plan(self, entry):
        dest, state = entry["dest"], entry["state"]
        parent = os.path.dirname(dest)
        current = self.exists_as(dest)
        entry["action"] = None
        if state == "absent":
            if current == "directory" and dest not in self.planned and os.listdir(dest):
                self.fail(
                    f"{entry['label']}: is a directory that is not empty; "
                    "config_files removes only files and empty directories"
                )
            entry["action"] = "remove" if current != "absent" else None
            self.planned[dest] = "absent"
            return
        # In check mode an earlier task (a package, another call) would have made the parent directory.
        if self.exists_as(parent) != "directory" and not self.module.check_mode:
            self.fail(
                f"{entry['label']}: the parent directory {parent} does not exist; "
                "create it with an earlier entry of state directory"
            )
        if state == "directory":
            if current == "file":
                self.fail(f"{entry['label']}: exists and is not a directory")
            entry["action"] = "mkdir" if current == "absent" else "attributes"
            self.planned[dest] = "directory"
            return
        # state file
        if current == "directory":
            self.fail(f"{entry['label']}: is a directory, not a file")
        if entry["content"] is None:
            if current == "absent":
                if not entry["missing_ok"]:
                    self.fail(
                        f"{entry['label']}: the file does not exist (only owner, group and mode were given; "
                        "set missing_ok: true if that is fine)"
                    )
                return
            entry["action"] = "attributes"
            return
        before = None
        if current == "file" and dest not in self.planned:
            try:
                before = read_bytes(dest) if not os.path.islink(dest) else None
            except OSError as exc:
                self.fail(f"{entry['label']}: cannot read it: {to_native(exc)}")
        self.planned[dest] = "file"
        if before == entry["content"] and not os.path.islink(dest):
            entry["action"] = "attributes"
            return
        entry["action"] = "write"
        entry["before"] = before
        if self.module.check_mode:
            return
        directory = self.existing_ancestor(parent)
        handle, tmp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(dest)}.", suffix=".tmp")
        self.staged.append(tmp)
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(entry["content"])
        except OSError as exc:
            self.fail(f"{entry['label']}: cannot write a temporary file in {directory}: {to_native(exc)}")
        entry["tmp"] = tmp
        if entry["validate"]:
            rc, out, err = self.module.run_command(entry["validate"] % tmp)
            if rc != 0:
                output = "\n".join(part.strip() for part in (out, err) if part and part.strip())
                self.fail(
                    f"{entry['label']}: validation failed, no file of this call was changed: "
                    f"{entry['validate'] % tmp} exited {rc}: {output}",
                    validate_rc=rc,
                    validate_stdout=out,
                    validate_stderr=err,
                )

    # Install: everything validated, now change the host in list order.
    def install(self, entry):
        module, dest = self.module, entry["dest"]
        changed = False
        result = dict(dest=dest, state=entry["state"], changed=False)
        action = entry["action"]
        if action == "remove":
            before_state = "directory" if os.path.isdir(dest) and not os.path.islink(dest) else "file"
            if module._diff:
                self.diffs.append(
                    dict(
                        before_header=dest,
                        after_header=dest,
                        before=dict(path=dest, state=before_state),
                        after=dict(path=dest, state="absent"),
                    )
                )
            if not module.check_mode:
                if module.params["backup"] and before_state == "file" and not os.path.islink(dest):
                    result["backup_file"] = module.backup_local(dest)
                if before_state == "directory":
                    os.rmdir(dest)
                else:
                    os.unlink(dest)
            changed = True
        elif action == "mkdir":
            if module._diff:
                self.diffs.append(
                    dict(
                        before_header=dest,
                        after_header=dest,
                        before=dict(path=dest, state="absent"),
                        after=dict(path=dest, state="directory", mode=entry["mode"]),
                    )
                )
            if not module.check_mode:
                os.mkdir(dest, 0o700)
                module.set_fs_attributes_if_different(self.file_args(entry), False)
            changed = True
        elif action == "write":
            if module._diff:
                self.diffs.append(
                    dict(
                        before_header=dest,
                        after_header=dest,
                        before=diff_text(entry["before"], entry["secret"]),
                        after=diff_text(entry["content"], entry["secret"], side="after"),
                    )
                )
            if not module.check_mode:
                if module.params["backup"] and entry["before"] is not None:
                    result["backup_file"] = module.backup_local(dest)
                module.atomic_move(entry["tmp"], dest)
                self.staged.remove(entry["tmp"])
                module.set_fs_attributes_if_different(self.file_args(entry), False)
            changed = True
        elif action == "attributes":
            attr_diff = {}
            if entry.get("unresolved"):  # check mode: owner or group not there yet
                changed = True
                attr_diff = dict(before={}, after=dict(owner=entry["owner"], group=entry["group"]))
            elif os.path.lexists(dest) or not module.check_mode:
                changed = module.set_fs_attributes_if_different(self.file_args(entry), False, diff=attr_diff)
            if changed and module._diff:
                self.diffs.append(
                    dict(
                        before_header=dest,
                        after_header=dest,
                        before=attr_diff.get("before", {}),
                        after=attr_diff.get("after", {}),
                    )
                )
        result["changed"] = bool(changed)
        self.results.append(result)

    def check_host(self, entry):
        """What the host must have for the entry: its owner, group and validator."""
        for name, lookup in (("owner", pwd.getpwnam), ("group", grp.getgrnam)):
            value = entry[name]
            if value is not None and not value.isdigit():
                try:
                    lookup(value)
                except KeyError:
                    # In check mode an earlier task (the package that creates the user) would create it.
                    if self.module.check_mode:
                        entry["unresolved"] = True
                        continue
                    self.fail(f"{entry['label']}: {name} {value!r} does not exist on this host")
        if entry["validate"]:
            try:
                executable = shlex.split(entry["validate"])[0]
            except (ValueError, IndexError):
                self.fail(f"{entry['label']}: validate {entry['validate']!r} is not a command")
            if os.path.isabs(executable):
                found = os.access(executable, os.X_OK)
            else:
                found = self.module.get_bin_path(executable)
            # In check mode an earlier task (a package install) would bring the validator, which does not
            # run in check mode anyway.
            if not found and not self.module.check_mode:
                self.fail(f"{entry['label']}: the validator {executable} is not installed on this host")

    def run(self):
        try:
            self._run()
        finally:
            self.cleanup()

    def _run(self):
        try:
            self.entries = check_entries(self.module.params["files"])
        except EntryError as exc:
            self.module.fail_json(msg=to_native(exc), **self.summary())
        for entry in self.entries:
            if entry["secret"] and entry["content"]:
                self.module.no_log_values.add(to_text(entry["content"], errors="surrogate_or_strict"))
        for entry in self.entries:
            self.check_host(entry)
        for entry in self.entries:
            self.plan(entry)
        for entry in self.entries:
            try:
                self.install(entry)
            except Exception as exc:  # report what was installed before the failure, then fail
                done = [r["dest"] for r in self.results if r["changed"]]
                self.fail(
                    f"{entry['label']}: cannot install: {to_native(exc)}"
                    + (f"; already changed by this call: {', '.join(done)}" if done else "")
                )
        self.cleanup()
        if not self.module.check_mode:
            mark_files_changed([result["dest"] for result in self.results if result["changed"]])
        self.module.exit_json(**self.summary())


def main():
    module = AnsibleModule(
        argument_spec=dict(
            files=dict(
                type="list",
                elements="dict",
                required=True,
                options=dict(
                    dest=dict(type="path"),
                    state=dict(type="str", default="file"),
                    content=dict(type="str"),
                    template=dict(type="str"),
                    mode=dict(type="raw"),
                    owner=dict(type="str"),
                    group=dict(type="str"),
                    validate=dict(type="str"),
                    missing_ok=dict(type="bool", default=False),
                    secret=dict(type="bool", default=False),
                ),
            ),
            backup=dict(type="bool", default=False),
            current=dict(type="dict"),  # used by the action plugin, which does not pass it on
        ),
        supports_check_mode=True,
    )
    Run(module).run()


if __name__ == "__main__":
    main()
