# Copyright: eightfold.devops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""read_paths: the paths a host_state read must cover so that a config_files call can be proved unchanged."""

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError


def read_paths(entries, content=True):
    """dest of each config_files entry that writes content (content or template): host_state's `files`,
    read with their hash. With content=False, the others (directories, links, absent files, attributes
    only): host_state's `file_attributes`, read without one."""
    if not isinstance(entries, list):
        kind = type(entries).__name__
        raise AnsibleFilterError(f"read_paths expects a list of config_files entries, not {kind}")
    paths = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, Mapping) or not entry.get("dest"):
            raise AnsibleFilterError(f"read_paths: entry {index} ({entry!r}) is not a mapping with a dest")
        writes_content = entry.get("content") is not None or entry.get("template") is not None
        if writes_content == bool(content):
            paths.append(entry["dest"])
    return paths


class FilterModule:
    def filters(self):
        return {"read_paths": read_paths}
