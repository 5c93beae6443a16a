# Copyright: eightfold.devops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The permission_overrides filter: the dpkg-statoverride entries os_hardening adds (docs in
permission_overrides.yml)."""

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

SET_ID_AND_STICKY = 0o7000
# Compilers keep owner rights and group read/execute: no group write, nothing for others.
COMPILER_MASK = 0o750


def permission_overrides(read, suid_remove, compilers):
    """The overrides dpkg does not have yet (or has with another mode), from a host_state read of the paths:
    set-id programs of suid_remove lose their set-id and sticky bits; compilers lose group write and every
    right of others. Each: path (the real path, which dpkg sees), owner, group, mode (4 octal digits)."""
    if not isinstance(read, Mapping) or not isinstance(read.get("paths"), Mapping):
        raise AnsibleFilterError(
            "permission_overrides expects an eightfold.devops.host_state read with paths"
        )
    paths, known = read["paths"], read.get("statoverrides") or {}
    wanted = {}
    for path, strip in [(p, True) for p in suid_remove] + [(p, False) for p in compilers]:
        state = paths.get(path)
        if not isinstance(state, Mapping):
            raise AnsibleFilterError(f"permission_overrides: the read has no state of {path}")
        if not state.get("exists"):
            continue
        mode = int(state["mode"], 8)
        new = mode & 0o777 if strip else mode & COMPILER_MASK
        if (strip and not mode & SET_ID_AND_STICKY) or (not strip and new == mode):
            continue
        entry = {
            "path": state["realpath"],
            "owner": state["owner"],
            "group": state["group"],
            "mode": f"{new:04o}",
        }
        wanted.setdefault(entry["path"], entry)
    return [entry for path, entry in wanted.items() if (known.get(path) or {}).get("mode") != entry["mode"]]


class FilterModule:
    def filters(self):
        return {"permission_overrides": permission_overrides}
