#!/usr/bin/python
# Copyright: eightfold.devops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# ruff: noqa: E402 - Ansible modules import after DOCUMENTATION, EXAMPLES and RETURN

from __future__ import annotations

DOCUMENTATION = r"""
---
module: sysctls
short_description: Persist and apply a set of kernel parameters in one call
version_added: 0.1.0
description:
  - Writes all kernel parameters of one concern to one file under C(/etc/sysctl.d) (sorted, C(key = value),
    with a header saying the file is managed by Ansible) and applies them to the running kernel through
    C(/proc/sys), writing only the keys whose current value differs.
  - Values are compared normalised, as lists of whitespace-separated tokens, so a tab or double space in the
    running value does not count as a difference.
  - In a container C(/proc/sys) is read-only. Keys that cannot be written there are returned in RV(deferred)
    and are not a failure (with O(runtime=auto)); the file is written anyway so the host applies it at boot.
  - Keys and values are checked before anything changes; a key that does not exist on this kernel fails
    the call (or is only reported with O(ignore_missing=true)). The file is written only when the call
    succeeds.
author:
  - eightfold.devops maintainers (@eightfold)
options:
  path:
    description:
      - The file the parameters are persisted in, usually C(/etc/sysctl.d/<NN>-<name>.conf).
      - Its directory must exist. The file is written with mode C(0644).
    type: path
    required: true
  settings:
    description:
      - Kernel parameters, key to value. Keys use dots (C(net.ipv4.ip_forward)); a key with slashes
        (C(net/ipv4/conf/eth0.100/forwarding)) is taken as the path under C(/proc/sys) as it is.
      - Values are integers, strings (several whitespace-separated numbers are fine) or booleans
        (C(true) is written as C(1), C(false) as C(0)). Values may not contain line breaks.
    type: dict
    required: true
  runtime:
    description:
      - V(auto) applies the parameters to the running kernel; keys that cannot be written in a container
        are deferred, on a host they fail the call.
      - V(always) applies them and fails naming any key that cannot be written, container or not.
      - V(never) only writes the file.
    type: str
    choices: [auto, always, never]
    default: auto
  container:
    description:
      - Whether this host is a container. V(auto) detects it from C(/run/systemd/container), C(/.dockerenv)
        or C(container=) in the environment of PID 1.
    type: str
    choices: ['auto', 'true', 'false']
    default: auto
  ignore_missing:
    description:
      - Keys that do not exist on this kernel (no C(/proc/sys) entry) are returned in RV(missing).
        V(false) makes that a failure, V(true) only reports them (they are still written to the file).
    type: bool
    default: false
  current:
    description:
      - An M(eightfold.devops.host_state) read made earlier in the play with these keys in its
        O(eightfold.devops.host_state#module:sysctls) and O(path) in its
        O(eightfold.devops.host_state#module:files). When it shows the file as wanted and every key either
        at its value, missing (with O(ignore_missing=true)) or deferred (read-only in a container), the
        action returns the same result without a module call - what makes an unchanged run fast.
      - Whatever the read cannot prove is left to the module. Give it only when nothing that may have
        changed the file or the parameters ran since the read.
    type: dict
attributes:
  action:
    support: full
    description: An action plugin skips the module call when O(current) shows nothing to do.
  check_mode:
    support: full
    description: Reports what would be written and applied without changing the file or the kernel.
  diff_mode:
    support: full
    description: Returns the change of the file and the runtime values as a list of diffs.
  platform:
    support: full
    platforms: posix
    description: Linux hosts (Debian 12 and 13 are tested).
notes:
  - One call covers a whole concern, which is what keeps an unchanged run fast.
  - If applying a key fails, keys already applied by this call are set back to their previous values.
seealso:
  - module: ansible.posix.sysctl
"""

EXAMPLES = r"""
- name: Kernel hardening parameters
  eightfold.devops.sysctls:
    path: /etc/sysctl.d/90-eightfold-hardening.conf
    settings:
      kernel.kptr_restrict: 2
      kernel.dmesg_restrict: 1
      net.ipv4.conf.all.send_redirects: 0
      net.ipv4.tcp_rmem: 4096 87380 6291456
      net.ipv4.tcp_syncookies: true
  register: hardening_sysctls

- name: Say which parameters wait for the host
  ansible.builtin.debug:
    msg: "deferred: {{ hardening_sysctls.deferred | dict2items | map(attribute='key') | join(', ') }}"
  when: hardening_sysctls.deferred | length > 0

- name: Only persist (applied at the next boot)
  eightfold.devops.sysctls:
    path: /etc/sysctl.d/80-eightfold-net.conf
    settings:
      net.core.somaxconn: 4096
    runtime: never
"""

RETURN = r"""
changed:
  description: Whether the file or any runtime value changed (or would change in check mode).
  returned: always
  type: bool
path:
  description: The file the parameters are persisted in.
  returned: always
  type: str
  sample: /etc/sysctl.d/90-eightfold-hardening.conf
file_changed:
  description: Whether the file was (or would be) written.
  returned: always
  type: bool
applied:
  description: Keys whose running value was (or would be) changed, with the value before and after.
  returned: always
  type: dict
  sample: {"kernel.kptr_restrict": {"before": "0", "after": "2"}}
deferred:
  description:
    - Keys that could not be applied to the running kernel (read-only in a container), with the reason.
  returned: always
  type: dict
  sample:
    kernel.kptr_restrict: >-
      /proc/sys/kernel/kptr_restrict cannot be written in this container (Read-only file system);
      the file applies it when a host boots
missing:
  description: Keys that do not exist on this kernel.
  returned: always
  type: list
  elements: str
  sample: ["net.ipv6.conf.all.accept_ra"]
skipped_module_call:
  description: True when O(current) proved that nothing would change, so the module did not run.
  returned: when the module call was skipped
  type: bool
container:
  description: Whether the host was taken for a container.
  returned: always
  type: bool
diff:
  description:
    - In diff mode, the change of the file and of the runtime values, each with before, after,
      before_header and after_header. Empty when nothing changes or diff mode is off.
  returned: always
  type: list
  elements: dict
"""

import contextlib
import errno
import os
import re
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_native, to_text
from ansible_collections.eightfold.devops.plugins.module_utils._host import (
    in_container,
    mark_files_changed,
    sysctl_path,
)
from ansible_collections.eightfold.devops.plugins.module_utils._host import sysctl_writable as writable

# Where kernel parameters and container markers are read; tests point these at a fake tree.
PROC_SYS = "/proc/sys"
HOST_ROOT = "/"

HEADER = "# Managed by Ansible (eightfold.devops.sysctls); local changes are overwritten.\n"
KEY_RE = re.compile(r"^[A-Za-z0-9_-]+([./][A-Za-z0-9_:@+-]+)+$")
INT_RE = re.compile(r"^[+-]?[0-9]+$")


class SysctlError(Exception):
    pass


def format_value(key, value):
    """The value as written to the file and to /proc/sys; SysctlError names the key when it cannot be."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        text = value.strip()
        if not text:
            raise SysctlError(f"settings[{key!r}]: the value is empty")
        if "\n" in text or "\r" in text:
            raise SysctlError(f"settings[{key!r}]: the value {value!r} contains a line break")
        return " ".join(text.split())
    raise SysctlError(
        f"settings[{key!r}]: the value {value!r} is a {type(value).__name__}; "
        "use an integer, a string or a boolean"
    )


def normalise(value):
    """Whitespace-separated tokens, integers as integers: '4096\t87380' == '4096 87380'."""
    return [int(token) if INT_RE.match(token) else token for token in to_text(value).split()]


def proc_path(key):
    return sysctl_path(key, PROC_SYS)


def check_key(key):
    if not isinstance(key, str) or not KEY_RE.match(key) or ".." in key or "//" in key:
        raise SysctlError(
            f"settings: {key!r} is not a kernel parameter name (like net.ipv4.ip_forward: letters, digits, "
            "'_' and '-' separated by dots or slashes)"
        )


def read_text(path):
    with open(path, "rb") as handle:
        return to_text(handle.read(), errors="surrogate_or_strict")


def write_proc(path, value):
    with open(path, "wb") as handle:
        handle.write(to_bytes(value + "\n"))


def render_file(values):
    return HEADER + "".join(f"{key} = {values[key]}\n" for key in sorted(values))


def run_module():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            settings=dict(type="dict", required=True),
            runtime=dict(type="str", default="auto", choices=["auto", "always", "never"]),
            container=dict(type="str", default="auto", choices=["auto", "true", "false"]),
            ignore_missing=dict(type="bool", default=False),
            current=dict(type="dict"),  # used by the action plugin, which does not pass it on
        ),
        supports_check_mode=True,
    )
    path = module.params["path"]
    settings = module.params["settings"]
    runtime = module.params["runtime"]
    result = dict(
        changed=False,
        path=path,
        file_changed=False,
        applied={},
        deferred={},
        missing=[],
        container=False,
        diff=[],
    )

    # 1. Check every key and value before anything changes.
    values = {}
    try:
        for key in sorted(settings, key=str):
            check_key(key)
            values[key] = format_value(key, settings[key])
    except SysctlError as exc:
        module.fail_json(msg=to_native(exc), **result)

    if not os.path.isabs(path):
        module.fail_json(msg=f"path: {path!r} is not an absolute path", **result)
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        module.fail_json(msg=f"path: the directory {directory} of {path} does not exist", **result)
    if os.path.isdir(path):
        module.fail_json(msg=f"path: {path} is a directory", **result)

    container = module.params["container"]
    result["container"] = in_container(HOST_ROOT) if container == "auto" else container == "true"

    # 2. Which keys exist, and which differ in the running kernel.
    current = {}
    for key in values:
        try:
            current[key] = read_text(proc_path(key)).strip()
        except FileNotFoundError:
            result["missing"].append(key)
        except OSError as exc:
            if runtime == "never":
                continue
            # Some entries exist but cannot be read (write-only or permission); they can still be written.
            current[key] = None
            if exc.errno not in (errno.EACCES, errno.EPERM, errno.EIO, errno.EINVAL):
                module.fail_json(
                    msg=f"settings[{key!r}]: cannot read {proc_path(key)}: {to_native(exc)}", **result
                )
    if result["missing"] and not module.params["ignore_missing"]:
        module.fail_json(
            msg="settings: not a kernel parameter on this host (no /proc/sys entry): "
            + ", ".join(result["missing"])
            + "; remove the key or set ignore_missing: true",
            **result,
        )

    # Text for a parameter the kernel holds as numbers would fail at boot (and now, where /proc/sys can be
    # written): refused before anything changes.
    for key, value in values.items():
        running = current.get(key)
        if (
            running
            and all(INT_RE.match(t) for t in running.split())
            and not all(INT_RE.match(t) for t in value.split())
        ):
            module.fail_json(
                msg=f"settings[{key!r}]: {value!r} is not a number; the kernel holds {key} as {running!r}",
                **result,
            )

    # 3. The running kernel, unless only the file is wanted.
    if runtime != "never":
        to_apply = [
            key
            for key in values
            if key in current and (current[key] is None or normalise(current[key]) != normalise(values[key]))
        ]
        done = []
        for key in to_apply:
            target = proc_path(key)
            before = current[key]
            if module.check_mode:
                if writable(target):
                    result["applied"][key] = dict(before=before, after=values[key])
                elif result["container"] and runtime == "auto":
                    result["deferred"][key] = deferred_reason(target)
                else:
                    module.fail_json(msg=f"settings[{key!r}]: {target} is not writable", **result)
                continue
            try:
                write_proc(target, values[key])
                after = read_text(target).strip()
            except OSError as exc:
                read_only = exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM)
                if result["container"] and runtime == "auto" and read_only:
                    result["deferred"][key] = deferred_reason(target, exc)
                    continue
                rollback(done, current)
                result["applied"] = {}
                module.fail_json(
                    msg=f"settings[{key!r}]: cannot apply {values[key]!r} to {target}: {to_native(exc)}"
                    + (f" (set back: {', '.join(done)})" if done else ""),
                    **result,
                )
            done.append(key)
            result["applied"][key] = dict(before=before, after=after)
        if result["applied"] and module._diff:
            result["diff"].append(
                dict(
                    before_header=f"{PROC_SYS} (running kernel)",
                    after_header=f"{PROC_SYS} (running kernel)",
                    before="".join(f"{k} = {v['before']}\n" for k, v in sorted(result["applied"].items())),
                    after="".join(f"{k} = {v['after']}\n" for k, v in sorted(result["applied"].items())),
                )
            )

    # 4. The file, written last so that it changes only when the call succeeds.
    wanted = render_file(values)
    try:
        existing = read_text(path) if os.path.exists(path) else None
    except (OSError, UnicodeError) as exc:
        module.fail_json(msg=f"path: cannot read {path}: {to_native(exc)}", **result)
    if existing != wanted:
        result["file_changed"] = True
        if module._diff:
            result["diff"].append(
                dict(before_header=path, after_header=path, before=existing or "", after=wanted)
            )
        if not module.check_mode:
            handle, tmp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.")
            try:
                with os.fdopen(handle, "wb") as out:
                    out.write(to_bytes(wanted))
                module.atomic_move(tmp, path)
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
            mark_files_changed([path])
    file_args = dict(
        path=path,
        mode="0644",
        owner=None,
        group=None,
        secontext=None,
        attributes=None,
    )
    if os.path.exists(path) or not module.check_mode:
        mode_diff = {}
        mode_changed = module.set_fs_attributes_if_different(file_args, False, diff=mode_diff)
        if mode_changed and not result["file_changed"]:
            result["file_changed"] = True
            if module._diff:
                result["diff"].append(dict(mode_diff, before_header=path, after_header=path))

    result["changed"] = bool(result["file_changed"] or result["applied"])
    module.exit_json(**result)


def deferred_reason(target, exc=None):
    cause = f" ({exc.strerror})" if exc is not None and exc.strerror else ""
    return f"{target} cannot be written in this container{cause}; the file applies it when a host boots"


def rollback(done, current):
    for key in reversed(done):
        if current.get(key) is not None:
            with contextlib.suppress(OSError):
                write_proc(proc_path(key), current[key])


def main():
    run_module()


if __name__ == "__main__":
    main()
