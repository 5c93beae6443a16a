#!/usr/bin/python
# Copyright: eightfold.devops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# ruff: noqa: E402 - Ansible modules import after DOCUMENTATION, EXAMPLES and RETURN

from __future__ import annotations

DOCUMENTATION = r"""
---
module: host_state
short_description: Read packages, units, mounts, files, kernel parameters and processes of a host in one call
version_added: 0.1.0
description:
  - Reads, without changing anything, the facts a role needs to decide what to do - which of the given
    Debian packages are installed, whether the given systemd units are enabled and active, every mount
    with its options, mode and owner of given paths, dpkg's permission overrides (dpkg-statoverride) and
    whether given programs are running.
  - One call replaces fact gathering, a package_facts, a service_facts, a stat per path and a mount lookup,
    which is what makes an unchanged run of the hardening roles fast.
author: eightfold.devops maintainers (@eightfold)
options:
  packages:
    description: Debian package names to look up in the dpkg database.
    type: list
    elements: str
    default: []
  units:
    description: systemd unit names (with their suffix, for example C(auditd.service)) to look up.
    type: list
    elements: str
    default: []
  paths:
    description: Absolute paths to report on - whether they exist, where their symlinks lead, mode and owner.
    type: list
    elements: path
    default: []
  files:
    description:
      - Absolute paths that a later M(eightfold.devops.config_files) call of the role manages - reported in
        RV(files) with their type, mode, owner, group and the SHA-256 of a regular file's content.
      - Given to that call as O(eightfold.devops.config_files#module:current), the read lets it skip its own
        module call when every file is already as wanted - one call fewer on an unchanged host.
    type: list
    elements: path
    default: []
  file_attributes:
    description:
      - Like O(files), without the content hash - for files whose attributes a role manages and whose
        content is none of its business (C(/etc/shadow)). Reported in RV(files) too.
    type: list
    elements: path
    default: []
  sysctls:
    description:
      - Kernel parameters (C(net.ipv4.ip_forward), or a path under C(/proc/sys) with slashes) to report -
        whether they exist on this kernel, their running value and whether they can be written (not in a
        container, where C(/proc/sys) is read-only). What M(eightfold.devops.sysctls) needs to skip its call.
    type: list
    elements: str
    default: []
  processes:
    description: Program names (as in /proc/PID/comm) to report as running or not.
    type: list
    elements: str
    default: []
  session:
    description:
      - Report the SSH session this module runs in - the user who logged in and the address they came
        from - found in the environment (C(SSH_CLIENT)) of the first ancestor process that has one, so it is
        right also under C(become), which resets the environment.
    type: bool
    default: false
  users:
    description:
      - Users to report on - whether they exist, their groups, the key types in their
        C(~/.ssh/authorized_keys) and whether sudo gives them any rights (C(sudo -n -l -U)). With
        O(session=true) the user of the SSH session is reported too.
      - What a lockout preflight needs before sshd or PAM changes; give a list (even an empty one) to get the
        O(session) user alone.
    type: list
    elements: str
  locales:
    description:
      - Locale names (as in C(LANG), for example C(en_US.UTF-8)) to report as compiled or not.
      - Compared with C(locale -a) the way glibc normalises a codeset, so C(en_US.UTF-8) is found as
        C(en_US.utf8).
    type: list
    elements: str
    default: []
  sshd_moduli_min_bits:
    description:
      - Also report the installed OpenSSH version (from the C(openssh-server) package version, no program
        runs) and how many Diffie-Hellman groups of C(/etc/ssh/moduli) are smaller than this size.
    type: int
attributes:
  check_mode:
    support: full
    description: The module only reads; it runs the same in check mode.
  diff_mode:
    support: none
    description: Nothing changes, so there is nothing to show.
notes:
  - Reads /var/lib/dpkg/status, /var/lib/dpkg/statoverride, /proc/self/mountinfo and /proc; runs
    C(systemctl) once for all units.
"""

EXAMPLES = r"""
- name: Read what the role decides on
  eightfold.devops.host_state:
    packages: [auditd, fail2ban]
    units: [auditd.service, fail2ban.service]
    paths: [/var/lib/aide/aide.db]
    processes: [aide]
  register: state

- name: Build the AIDE database when there is none
  ansible.builtin.command: aide --init
  when: not state.paths['/var/lib/aide/aide.db'].exists

- name: Start fail2ban when it is not running
  ansible.builtin.systemd_service:
    name: fail2ban
    state: started
  when: state.units['fail2ban.service'].active != 'active'
"""

RETURN = r"""
os:
  description: The operating system from /etc/os-release - C(id) (debian), C(version) (major version, as a
    string), C(codename).
  returned: always
  type: dict
  sample: {id: debian, version: "12", codename: bookworm}
container:
  description: Whether the host is a container (C(/.dockerenv), C(/run/systemd/container) or C(container=) in
    the environment of PID 1).
  returned: always
  type: bool
fstab:
  description: Entries of /etc/fstab by mount point - source, filesystem type and options.
  returned: always
  type: dict
  sample: {/proc: {source: proc, fstype: proc, options: [defaults, hidepid=invisible]}}
packages:
  description: The requested packages that are installed, with their version.
  returned: always
  type: dict
  sample: {auditd: "1:3.0.9-1"}
dpkg_interrupted:
  description: Whether a dpkg run was cut off (a killed run, a dropped connection), so that apt refuses to
    work until C(dpkg --configure -a) finishes it.
  returned: always
  type: bool
units:
  description:
    - For each requested unit, its enablement (C(enabled), C(disabled), C(masked), C(not-found)...),
      activity (C(active), C(inactive), C(failed)...), C(loaded) (systemd's LoadState), C(since) (when the
      running unit last took up its configuration - its activation or a reload recorded by
      M(eightfold.devops.units) - in seconds since the epoch, 0 when it does not run), C(need_daemon_reload)
      and C(can_reload).
    - What M(eightfold.devops.units) decides on, so that M(eightfold.devops.converge) can skip its call.
  returned: always
  type: dict
  sample:
    fail2ban.service:
      {enabled: enabled, active: active, loaded: loaded, since: 1764950000.5, need_daemon_reload: false,
       can_reload: true}
mounts:
  description: Every mount point with its filesystem type, source and options (mount and superblock options).
  returned: always
  type: dict
  sample: {/dev/shm: {fstype: tmpfs, source: shm, options: [rw, nosuid, nodev, noexec, size=65536k]}}
paths:
  description: For each requested path, whether it exists and, if it does, the file it resolves to (symlinks
    followed), its permission bits as an octal string, owner and group.
  returned: always
  type: dict
  sample:
    /usr/bin/as:
      {exists: true, realpath: /usr/bin/x86_64-linux-gnu-as, mode: "0755", owner: root, group: root}
files:
  description: For each path of O(files) and O(file_attributes), whether it exists and, if it does, its
    type (C(file), C(directory), C(link) - a symlink is not followed - or C(other)), permission bits,
    owner, group, modification time (C(mtime), seconds since the epoch) and, for a regular file of O(files),
    the SHA-256 of its content.
  returned: always
  type: dict
  sample:
    /etc/login.defs:
      {exists: true, type: file, mode: "0644", owner: root, group: root, mtime: 1764950000.1,
       sha256: "9f86d0...0f00a08"}
sysctls:
  description: For each key of O(sysctls), whether it exists and, if it does, whether it is writable and its
    running value (left out when it cannot be read).
  returned: always
  type: dict
  sample: {kernel.kptr_restrict: {exists: true, writable: false, value: "1"}}
statoverrides:
  description: dpkg's permission overrides (C(dpkg-statoverride --list)) - path to owner, group and mode.
  returned: always
  type: dict
  sample: {/usr/bin/chfn: {owner: root, group: root, mode: "0755"}}
processes:
  description: For each requested program name, whether a process of that name runs.
  returned: always
  type: dict
  sample: {aide: false}
session:
  description: The SSH session this module runs in; empty when it does not run under sshd (local, docker).
  returned: when O(session=true)
  type: dict
  sample: {user: alice, client_address: 192.0.2.10}
users:
  description: For each user of O(users) (and the session's user), whether it exists and, if it does, its
    groups, the key types found in its authorized_keys and whether C(sudo -l) lists rights for it.
  returned: when O(users) is given
  type: dict
  sample: {alice: {exists: true, groups: [alice, sudo], key_types: [ssh-ed25519], sudo: true}}
locales:
  description: For each requested locale, whether it is compiled (C(locale -a) lists it).
  returned: always
  type: dict
  sample: {en_US.UTF-8: true, de_DE.UTF-8: false}
applied:
  description: When each command of M(eightfold.devops.units) last applied its files (seconds since the
    epoch), by the command's name.
  returned: always
  type: dict
  sample: {pam-auth-update: 1764950000.2}
covers:
  description:
    - The options of this read - what it looked at - so that a later task can tell whether the read covers
      what it needs, and read the same again after a change (M(eightfold.devops.converge) does both).
  returned: always
  type: dict
  sample: {packages: [nftables], units: [nftables.service], files: [/etc/nftables.conf], file_attributes: [],
           sysctls: [], paths: [], processes: [], session: false, locales: []}
sshd:
  description: C(version) of OpenSSH (major.minor, empty when openssh-server is not installed) and
    C(weak_moduli), the number of moduli under O(sshd_moduli_min_bits) bits.
  returned: when O(sshd_moduli_min_bits) is given
  type: dict
  sample: {version: "9.2", weak_moduli: 0}
"""

import grp
import os
import pwd
import re
import stat

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.eightfold.devops.plugins.module_utils._host import (
    DPKG_STATUS,
    applied_commands,
    dpkg_interrupted,
    file_state,
    in_container,
    installed_packages,
    name_of,
    os_summary,
    parse_fstab,
    parse_mountinfo,
    read_text,
    sysctl_states,
    unit_states,
)

DPKG_STATOVERRIDE = "/var/lib/dpkg/statoverride"
SSH_MODULI = "/etc/ssh/moduli"
# Key types an authorized_keys line can start with (after its options).
KEY_TYPE_RE = re.compile(
    r"(?:^|\s)(ssh-ed25519|ssh-rsa|sk-ssh-ed25519@openssh\.com|ssh-ed25519-cert-v01@openssh\.com"
    r"|ecdsa-sha2-nistp\d+|ssh-dss|sk-ecdsa-sha2-nistp256@openssh\.com)\s+AAAA"
)
# 1:9.2p1-2+deb12u10 -> 9.2
OPENSSH_VERSION_RE = re.compile(r"^(?:\d+:)?(\d+\.\d+)")


def mounts():
    return parse_mountinfo(read_text("/proc/self/mountinfo"))


def fstab():
    return parse_fstab(read_text("/etc/fstab"))


def path_state(path):
    try:
        st = os.stat(path)
    except OSError:
        return {"exists": os.path.lexists(path)}
    return {
        "exists": True,
        "realpath": os.path.realpath(path),
        "mode": f"{stat.S_IMODE(st.st_mode):04o}",
        "owner": name_of(pwd.getpwuid, st.st_uid),
        "group": name_of(grp.getgrgid, st.st_gid),
    }


def statoverrides():
    """dpkg-statoverride's database: one 'owner group mode path' line per override."""
    overrides = {}
    if os.path.exists(DPKG_STATOVERRIDE):
        with open(DPKG_STATOVERRIDE, encoding="utf-8") as database:
            for line in database:
                fields = line.split(None, 3)
                if len(fields) == 4:
                    owner, group, mode, path = fields
                    overrides[path.strip()] = {"owner": owner, "group": group, "mode": f"{int(mode, 8):04o}"}
    return overrides


def ssh_session():
    """Login user and client address of the SSH session among this process's ancestors, if any."""
    pid = os.getpid()
    while pid > 1:
        try:
            with open(f"/proc/{pid}/environ", "rb") as environ:
                variables = dict(item.split(b"=", 1) for item in environ.read().split(b"\0") if b"=" in item)
            client = variables.get(b"SSH_CLIENT")
            if client:
                # The real UID: a set-uid sudo on the way keeps the invoking user there.
                with open(f"/proc/{pid}/status", encoding="utf-8") as status:
                    uid = int(next(line for line in status if line.startswith("Uid:")).split()[1])
                return {"user": name_of(pwd.getpwuid, uid), "client_address": client.decode().split()[0]}
            with open(f"/proc/{pid}/stat", encoding="utf-8") as stat_file:
                # The parent PID is the second field after the command name in parentheses.
                pid = int(stat_file.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError, StopIteration):
            break
    return {}


def key_types(path):
    """The key types of the (not commented) lines of an authorized_keys file, sorted; [] when unreadable."""
    found = set()
    try:
        with open(path, encoding="utf-8", errors="replace") as keys:
            for line in keys:
                match = KEY_TYPE_RE.search(line)
                if match and not line.lstrip().startswith("#"):
                    found.add(match.group(1))
    except OSError:
        pass
    return sorted(found)


def user_state(module, name):
    """Existence, groups, authorized key types and sudo rights of one user."""
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        return {"exists": False}
    # getgrouplist asks NSS as id -nG does (directory groups included); the primary group first.
    others = {
        name_of(grp.getgrgid, gid) for gid in os.getgrouplist(name, entry.pw_gid) if gid != entry.pw_gid
    }
    groups = [name_of(grp.getgrgid, entry.pw_gid), *sorted(others)]
    found = key_types(os.path.join(entry.pw_dir, ".ssh", "authorized_keys"))
    sudo = module.get_bin_path("sudo")
    rights = False
    if sudo:
        rc, out, _err = module.run_command([sudo, "-n", "-l", "-U", name], environ_update={"LC_ALL": "C"})
        rights = rc == 0 and "may run the following" in out
    return {"exists": True, "groups": groups, "key_types": found, "sudo": rights}


def sshd_state(min_bits, moduli_path=SSH_MODULI, status=DPKG_STATUS):
    """OpenSSH version from the package, and the number of moduli smaller than min_bits."""
    version = installed_packages(["openssh-server"], status).get("openssh-server", "")
    match = OPENSSH_VERSION_RE.match(version)
    weak = 0
    try:
        with open(moduli_path, encoding="utf-8") as moduli:
            for line in moduli:
                fields = line.split()
                # time type tests tries size generator modulus; size is the bit length minus one.
                if len(fields) >= 7 and not fields[0].startswith("#") and fields[4].isdigit():
                    weak += int(fields[4]) < min_bits
    except OSError:
        pass
    return {"version": match.group(1) if match else "", "weak_moduli": weak}


def normalised_locale(name):
    """The name locale -a lists: the codeset in lower case, letters and digits only, as glibc has it."""
    base, dot, rest = name.partition(".")
    if not dot:
        return name
    codeset, at, modifier = rest.partition("@")
    codeset = "".join(char.lower() for char in codeset if char.isalnum())
    if codeset.isdigit():
        codeset = "iso" + codeset
    return f"{base}.{codeset}{at}{modifier}"


def locale_states(module, names):
    if not names:
        return {}
    program = module.get_bin_path("locale")
    compiled = set()
    if program:
        rc, out, err = module.run_command([program, "-a"], environ_update={"LC_ALL": "C"})
        if rc != 0:
            module.fail_json(msg=f"locale -a failed: {err.strip()}")
        compiled = set(out.split())
    return {name: normalised_locale(name) in compiled or name in compiled for name in names}


def running(names):
    if not names:
        return {}
    seen = set()
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/comm", encoding="utf-8") as comm:
                    seen.add(comm.read().strip())
            except OSError:
                continue  # the process ended while we looked
    return {name: name in seen for name in names}


def main():
    module = AnsibleModule(
        argument_spec={
            "packages": {"type": "list", "elements": "str", "default": []},
            "units": {"type": "list", "elements": "str", "default": []},
            "paths": {"type": "list", "elements": "path", "default": []},
            "files": {"type": "list", "elements": "path", "default": []},
            "file_attributes": {"type": "list", "elements": "path", "default": []},
            "processes": {"type": "list", "elements": "str", "default": []},
            "sysctls": {"type": "list", "elements": "str", "default": []},
            "session": {"type": "bool", "default": False},
            "users": {"type": "list", "elements": "str"},
            "locales": {"type": "list", "elements": "str", "default": []},
            "sshd_moduli_min_bits": {"type": "int"},
        },
        supports_check_mode=True,
    )
    for option in ("paths", "files", "file_attributes"):
        relative = [path for path in module.params[option] if not os.path.isabs(path)]
        if relative:
            module.fail_json(msg=f"{option} must be absolute: {', '.join(relative)}")
    extra = {"session": ssh_session()} if module.params["session"] else {}
    if module.params["users"] is not None:
        names = list(dict.fromkeys(module.params["users"] + [extra.get("session", {}).get("user", "")]))
        extra["users"] = {name: user_state(module, name) for name in names if name}
    if module.params["sshd_moduli_min_bits"] is not None:
        extra["sshd"] = sshd_state(module.params["sshd_moduli_min_bits"])
    module.exit_json(
        changed=False,
        **extra,
        os=os_summary(),
        container=in_container(),
        fstab=fstab(),
        packages=installed_packages(module.params["packages"]),
        dpkg_interrupted=dpkg_interrupted(),
        units=unit_states(module, module.params["units"]),
        mounts=mounts(),
        paths={path: path_state(path) for path in module.params["paths"]},
        files={
            **{path: file_state(path, digest=False) for path in module.params["file_attributes"]},
            **{path: file_state(path) for path in module.params["files"]},
        },
        statoverrides=statoverrides(),
        processes=running(module.params["processes"]),
        sysctls=sysctl_states(module.params["sysctls"]),
        locales=locale_states(module, module.params["locales"]),
        covers=dict(module.params),
        applied=applied_commands(),
    )


if __name__ == "__main__":
    main()
