# Copyright: eightfold.devops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""toml_merge: merge settings into a TOML document (containerd's config.toml) and write it back as TOML."""

from __future__ import annotations

import datetime
import json
import re

from ansible.errors import AnsibleFilterError

try:
    import tomllib
except ImportError:  # Python < 3.11 on the controller
    tomllib = None

BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def merge(base, extra):
    """base with extra merged over it: tables key by key, anything else replaced; None removes a key."""
    result = dict(base)
    for key, value in extra.items():
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merge(result[key], value)
        else:
            result[key] = value
    return result


def key(name):
    return name if BARE_KEY.match(name) else json.dumps(name, ensure_ascii=False)


def scalar(value, where):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(scalar(item, where) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key(k)} = {scalar(v, where)}" for k, v in value.items()) + "}"
    raise AnsibleFilterError(f"{where}: {value!r} ({type(value).__name__}) cannot be written as TOML")


def is_table_array(value):
    return isinstance(value, list) and len(value) > 0 and all(isinstance(item, dict) for item in value)


def dump(table, path=()):
    """TOML text of a table: its plain keys, then its sub-tables and arrays of tables."""
    lines = []
    plain = {k: v for k, v in table.items() if not isinstance(v, dict) and not is_table_array(v)}
    for name, value in plain.items():
        lines.append(f"{key(name)} = {scalar(value, '.'.join((*path, name)))}")
    for name, value in table.items():
        sub = (*path, name)
        header = ".".join(key(part) for part in sub)
        if isinstance(value, dict):
            has_plain = any(not isinstance(v, dict) and not is_table_array(v) for v in value.values())
            if has_plain or not value:
                lines += ["", f"[{header}]"]
            lines += dump(value, sub)
        elif is_table_array(value):
            for item in value:
                lines += ["", f"[[{header}]]", *dump(item, sub)]
    return lines


def toml_merge(text, overrides=None, what="overrides"):
    """The TOML document text with overrides merged in, as TOML text."""
    if tomllib is None:
        raise AnsibleFilterError("toml_merge needs Python 3.11 or later on the controller (tomllib)")
    if not isinstance(text, str):
        raise AnsibleFilterError(f"toml_merge: the input must be TOML text, got {type(text).__name__}")
    if overrides is not None and not isinstance(overrides, dict):
        raise AnsibleFilterError(f"{what} must be a mapping of TOML tables and keys")
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise AnsibleFilterError(f"toml_merge: the input is not valid TOML: {exc}") from None
    merged = merge(document, dict(overrides or {}))
    lines = dump(merged)
    while lines and lines[0] == "":
        lines.pop(0)
    return "\n".join(lines) + "\n"


class FilterModule:
    def filters(self):
        return {"toml_merge": toml_merge}
