# Copyright: eightfold.devops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What eightfold modules read the same way about a host: its OS release, whether it is a container, which
packages are installed, the state of systemd units and kernel parameters.

`root` lets tests (and the audit of a mounted file system) point at another tree than /.
"""

from __future__ import annotations

import datetime
import grp
import hashlib
import os
import pwd
import stat

CONTAINER_MARKERS = ("run/systemd/container", ".dockerenv")
OS_RELEASE_FILES = ("etc/os-release", "usr/lib/os-release")
DPKG_STATUS = "/var/lib/dpkg/status"
DPKG_UPDATES = "/var/lib/dpkg/updates"


def os_release(root="/"):
    """The key/value pairs of os-release (quotes removed); empty when there is none."""
    for name in OS_RELEASE_FILES:
        try:
            with open(os.path.join(root, name), encoding="utf-8") as handle:
                text = handle.read()
        except OSError:
            continue
        fields = {}
        for line in text.splitlines():
            key, sep, value = line.strip().partition("=")
            if sep and not key.startswith("#"):
                fields[key.strip()] = value.strip().strip("\"'")
        return fields
    return {}


def in_container(root="/"):
    """True when a container marker file exists or PID 1 runs with container= in its environment."""
    if any(os.path.exists(os.path.join(root, marker)) for marker in CONTAINER_MARKERS):
        return True
    try:
        with open(os.path.join(root, "proc/1/environ"), "rb") as handle:
            return any(item.startswith(b"container=") for item in handle.read().split(b"\0"))
    except OSError:
        return False


def os_summary(root="/"):
    """id (debian), major version ("12") and codename of the release."""
    release = os_release(root)
    return {
        "id": release.get("ID", ""),
        "version": release.get("VERSION_ID", "").split(".")[0],
        "codename": release.get("VERSION_CODENAME", ""),
    }


def dpkg_interrupted(updates=DPKG_UPDATES):
    """Whether a dpkg run was cut off (its journal of pending updates is not empty): apt refuses to run until
    `dpkg --configure -a` finishes the job."""
    try:
        return any(name.isdigit() for name in os.listdir(updates))
    except OSError:
        return False


def parse_dpkg_status(text, wanted=None):
    """{package: version} of the installed packages (of the wanted ones, when given) in dpkg's status text.

    Installed means dpkg's state is "installed" ("install ok installed", "hold ok installed", and also
    "deinstall ok installed": marked for removal, still there) - the one meaning every module uses.
    """
    found = {}
    for stanza in text.split("\n\n"):
        fields = {}
        for line in stanza.splitlines():
            key, sep, value = line.partition(":")
            if sep and not line.startswith(" "):
                fields[key] = value.strip()
        name = fields.get("Package")
        if (
            name
            and (wanted is None or name in wanted)
            and fields.get("Status", "").split()[1:] == ["ok", "installed"]
        ):
            found[name] = fields.get("Version", "")
    return found


def installed_packages(wanted, status=DPKG_STATUS):
    """Installed versions of the wanted packages, read from the dpkg database in one pass."""
    if not wanted or not os.path.exists(status):
        return {}
    with open(status, encoding="utf-8", errors="replace") as status_file:
        return parse_dpkg_status(status_file.read(), set(wanted))


def parse_mountinfo(text):
    """{mount point: {fstype, source, options}} from /proc/self/mountinfo text; options are the mount's own
    then its superblock's; the last mount on a path is the visible one."""
    result = {}
    for line in text.splitlines():
        fields = line.split()
        if "-" not in fields:
            continue
        separator = fields.index("-")
        if separator < 6 or len(fields) < separator + 4:
            continue
        point = fields[4].replace("\\040", " ")
        own = fields[5].split(",")
        options = own + [option for option in fields[separator + 3].split(",") if option not in own]
        result[point] = {"fstype": fields[separator + 1], "source": fields[separator + 2], "options": options}
    return result


def parse_fstab(text):
    """{mount point: {source, fstype, options}} from /etc/fstab text."""
    entries = {}
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split()
        if len(fields) >= 4:
            source, point, fstype, options = fields[:4]
            entries[point] = {"source": source, "fstype": fstype, "options": options.split(",")}
    return entries


def read_text(path, default=""):
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError:
        return default


# When a unit last took up its configuration by a reload, and when a command last applied its files: the
# units module touches <dir>/units/<unit> after each reload it makes (a restart shows in the unit's own
# ActiveEnterTimestamp) and <dir>/commands/<name> after each command.
APPLIED = "/var/lib/eightfold/applied"
UNIT_PROPERTIES = "Id,LoadState,UnitFileState,ActiveState,ActiveEnterTimestamp,NeedDaemonReload,CanReload"
# Where systemd finds unit files, for a unit written since systemd last loaded its units.
UNIT_DIRS = ("/etc/systemd/system", "/run/systemd/system", "/lib/systemd/system", "/usr/lib/systemd/system")
RUNNING_STATES = ("active", "activating", "reloading")
ENABLED_STATES = ("enabled", "enabled-runtime", "static", "alias", "indirect", "generated", "linked")


def systemd_timestamp(text):
    """Seconds since the epoch of a `systemctl show --timestamp=us+utc` value; 0.0 when there is none."""
    # "Sat 2026-12-05 16:13:17.392641 UTC"
    fields = text.split()
    if len(fields) != 4 or fields[3] != "UTC":
        return 0.0
    try:
        moment = datetime.datetime.fromisoformat(f"{fields[1]} {fields[2]}+00:00")
    except ValueError:
        return 0.0
    return moment.timestamp()


def mtime(path):
    """Modification time of a path (not following a symlink), or None when it does not exist."""
    try:
        return os.lstat(path).st_mtime
    except OSError:
        return None


# Touched by every module of the collection that changes a file: file integrity checking (os_hardening's AIDE
# baseline) takes the converge's own changes in when this is newer than its database.
FILES_CHANGED = os.path.join(APPLIED, "files-changed")


# Scratch space is no part of a host's configuration.
SCRATCH = ("/tmp/", "/var/tmp/", "/run/", "/dev/shm/")


def mark_files_changed(paths, marker=FILES_CHANGED):
    """Touch the marker when one of the changed paths is part of the host's configuration."""
    if not paths or all(str(path).startswith(SCRATCH) for path in paths):
        return
    os.makedirs(os.path.dirname(marker), mode=0o755, exist_ok=True)
    with open(marker, "a", encoding="utf-8"):
        pass
    os.utime(marker)


def unit_record(unit, applied=APPLIED):
    return os.path.join(applied, "units", unit)


def command_record(name, applied=APPLIED):
    return os.path.join(applied, "commands", name)


def unit_file_exists(unit):
    return any(os.path.lexists(os.path.join(directory, unit)) for directory in UNIT_DIRS)


def unit_states(module, units, applied=APPLIED):
    """{unit: state} for the units from one systemctl call (not-found / inactive when absent).

    A state has enabled (UnitFileState, or not-found), active (ActiveState), loaded (LoadState), since
    (when the running unit last took up its configuration: its activation or a recorded reload, seconds since
    the epoch, 0.0 when it does not run), need_daemon_reload (its unit file changed since systemd loaded it,
    or was written since) and can_reload.
    """
    if not units:
        return {}
    absent = dict(
        enabled="not-found", active="inactive", loaded="not-found", since=0.0, need_daemon_reload=False,
        can_reload=False,
    )  # fmt: skip
    states = {unit: dict(absent) for unit in units}
    systemctl = module.get_bin_path("systemctl")
    if systemctl is None:
        return states
    # Properties come back as blocks separated by blank lines, in the order asked.
    _rc, out, _err = module.run_command(
        [systemctl, "show", "--timestamp=us+utc", f"--property={UNIT_PROPERTIES}", "--", *units],
        environ_update={"LC_ALL": "C"},
    )
    blocks = [block for block in out.split("\n\n") if block.strip()]
    for unit, block in zip(units, blocks, strict=False):
        props = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
        loaded = props.get("LoadState", "not-found")
        enabled = props.get("UnitFileState") or ("not-found" if loaded == "not-found" else "")
        active = props.get("ActiveState", "inactive")
        since = systemd_timestamp(props.get("ActiveEnterTimestamp", "")) if active != "inactive" else 0.0
        recorded = mtime(unit_record(unit, applied))
        states[unit] = dict(
            enabled=enabled or "static",
            active=active,
            loaded=loaded,
            since=max(since, recorded or 0.0) if since else 0.0,
            need_daemon_reload=props.get("NeedDaemonReload") == "yes"
            or (loaded == "not-found" and unit_file_exists(unit)),
            can_reload=props.get("CanReload") == "yes",
        )
    return states


def stale_files(state, paths, changed=(), mtime_of=mtime):
    """The paths that a running unit has not taken up yet: changed by this run (check mode: would be), or
    modified after the unit's `since`. Empty for a unit that does not run (starting it takes them up).
    mtime_of looks a modification time up (on the host by default; from a read on the controller)."""
    if state.get("active") not in RUNNING_STATES:
        return []
    since = state.get("since") or 0.0
    return [path for path in paths if path in changed or (mtime_of(path) or 0.0) > since]


def applied_commands(applied=APPLIED):
    """{command name: when it last ran} from the records of the units module."""
    directory = os.path.join(applied, "commands")
    try:
        names = os.listdir(directory)
    except OSError:
        return {}
    return {name: mtime(os.path.join(directory, name)) for name in names}


def stale_command(command, changed=(), mtime_of=mtime):
    """The watched files of a command (name, watch) changed by this run or modified after it last ran."""
    ran = mtime_of(command_record(command["name"])) or 0.0
    return [path for path in command.get("watch") or [] if path in changed or (mtime_of(path) or 0.0) > ran]


def plan_unit(spec, state, container, changed=(), mtime_of=mtime):
    """What one unit needs, from what is wanted of it and its state: (actions, stale files, deferred).

    spec: name, enabled (bool or None), state (started, stopped, restarted, reloaded or None), watch (paths),
    on_change (reload or restart), in_container (run or defer). Actions, in order, among enable, disable,
    start, stop, restart, reload, reset-failed.
    """
    deferred = bool(container) and spec.get("in_container", "run") == "defer"
    enabled, wanted = spec.get("enabled"), spec.get("state")
    if deferred:
        enabled, wanted = False, "stopped"
    actions = []
    if enabled is True and state["enabled"] not in ENABLED_STATES:
        actions.append("enable")
    if enabled is False and state["enabled"] == "enabled":
        actions.append("disable")
    running = state["active"] in RUNNING_STATES
    stale = [] if deferred else stale_files(state, spec.get("watch") or [], changed, mtime_of)
    if wanted == "stopped":
        if running:
            actions.append("stop")
        if state["active"] == "failed":
            actions.append("reset-failed")
    elif wanted == "restarted" or (wanted == "started" and state["active"] == "failed"):
        actions.append("restart")
    elif wanted == "started" and not running:
        actions.append("start")
    elif wanted == "reloaded" or stale:
        reload = wanted == "reloaded" or spec.get("on_change", "restart") == "reload"
        actions.append("reload" if reload else "restart")
    return actions, stale, deferred


def sysctl_path(key, proc_sys="/proc/sys"):
    """The /proc/sys entry of a kernel parameter: dots separate levels; a key with slashes is a path as is."""
    relative = key if "/" in key else key.replace(".", "/")
    return os.path.join(proc_sys, relative)


def sysctl_writable(path):
    """Whether a /proc/sys entry can be written: permission, and not on a read-only mount (a container)."""
    try:
        read_only = bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except OSError:
        return False
    return not read_only and os.access(path, os.W_OK)


def sysctl_states(keys, proc_sys="/proc/sys"):
    """Per key: whether it exists on this kernel, its running value, whether it is writable."""
    states = {}
    for key in keys:
        path = sysctl_path(key, proc_sys)
        if not os.path.exists(path):
            states[key] = {"exists": False}
            continue
        state = {"exists": True, "writable": sysctl_writable(path)}
        try:
            with open(path, "rb") as handle:
                state["value"] = handle.read().decode("utf-8", "surrogateescape").strip()
        except OSError:
            pass  # write-only or not permitted: no value, so nobody takes it as unchanged
        states[key] = state
    return states


def name_of(lookup, number):
    """The name of a user or group id (pwd.getpwuid, grp.getgrgid), or the number when it has none."""
    try:
        return lookup(number)[0]
    except KeyError:
        return str(number)


def file_state(path, digest=True):
    """What config_files compares: type (of the path, not a link's target), attributes, modification time
    and, with digest, the SHA-256 of a regular file's content. Shared by host_state and postgresql_state,
    whose reads the converge action takes alike."""
    try:
        st = os.lstat(path)
    except OSError:
        return {"exists": False}
    kinds = ((stat.S_ISREG, "file"), (stat.S_ISDIR, "directory"), (stat.S_ISLNK, "link"))
    kind = next((name for test, name in kinds if test(st.st_mode)), "other")
    state = {
        "exists": True,
        "type": kind,
        "mode": f"{stat.S_IMODE(st.st_mode):04o}",
        "owner": name_of(pwd.getpwuid, st.st_uid),
        "group": name_of(grp.getgrgid, st.st_gid),
        "mtime": st.st_mtime,
    }
    if kind == "file" and digest:
        sha256 = hashlib.sha256()
        try:
            with open(path, "rb") as handle:
                for block in iter(lambda: handle.read(1 << 16), b""):
                    sha256.update(block)
        except OSError:  # unreadable: no hash, so config_files looks for itself
            return state
        state["sha256"] = sha256.hexdigest()
    return state
