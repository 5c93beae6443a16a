# Copyright: eightfold.devops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every eightfold module reads the same way about a host: its OS release and whether it is a container.

`root` lets tests (and the audit of a mounted file system) point at another tree than /.
"""

from __future__ import annotations

import os

CONTAINER_MARKERS = ("run/systemd/container", ".dockerenv")
OS_RELEASE_FILES = ("etc/os-release", "usr/lib/os-release")


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
