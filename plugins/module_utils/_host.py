# Copyright: eightfold.devops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What eightfold modules read the same way about a host: its OS release, whether it is a container, which
packages are installed, the state of systemd units and kernel parameters.

`root` lets tests (and the audit of a mounted file system) point at another tree than /.
"""

from __future__ import annotations

import os

CONTAINER_MARKERS = ("run/systemd/container", ".dockerenv")
OS_RELEASE_FILES = ("etc/os-release", "usr/lib/os-release")
DPKG_STATUS = "/var/lib/dpkg/status"


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


def installed_packages(wanted, status=DPKG_STATUS):
    """Installed versions of the wanted packages, read from the dpkg database in one pass."""
    found = {}
    if not wanted or not os.path.exists(status):
        return found
    wanted = set(wanted)
    with open(status, encoding="utf-8", errors="replace") as status_file:
        for stanza in status_file.read().split("\n\n"):
            fields = {}
            for line in stanza.splitlines():
                key, sep, value = line.partition(":")
                if sep and not line.startswith(" "):
                    fields[key] = value.strip()
            name = fields.get("Package")
            # "install ok installed", or "hold ok installed" for a package held by apt-mark.
            if name in wanted and fields.get("Status", "").split()[1:] == ["ok", "installed"]:
                found[name] = fields.get("Version", "")
    return found


def unit_states(module, units):
    """{unit: {enabled, active}} for the units, from one systemctl call (not-found / inactive when absent)."""
    if not units:
        return {}
    systemctl = module.get_bin_path("systemctl")
    states = {unit: {"enabled": "not-found", "active": "inactive"} for unit in units}
    if systemctl is None:
        return states
    # Properties come back as blocks separated by blank lines, in the order asked.
    _rc, out, _err = module.run_command(
        [systemctl, "show", "--property=Id,UnitFileState,ActiveState,LoadState", "--", *units]
    )
    blocks = [block for block in out.split("\n\n") if block.strip()]
    for unit, block in zip(units, blocks, strict=False):
        props = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
        enabled = props.get("UnitFileState") or ("not-found" if props.get("LoadState") == "not-found" else "")
        states[unit] = {"enabled": enabled or "static", "active": props.get("ActiveState", "inactive")}
    return states


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
