"""The control catalogue (catalogue/controls.yml): load it, check its schema, select entries, check waivers.

Controller side only. It needs nothing from Ansible (only PyYAML), so tools/catalogue_doc.py and the tests
can load it by file path. Every error is a CatalogueError whose message names the control id (or the
waiver index) and the field at fault.
"""

from __future__ import annotations

import datetime
import os
import re
from pathlib import Path
from typing import Any

import yaml

DEFAULT_PATH = Path(__file__).resolve().parents[2] / "catalogue" / "controls.yml"

AREAS = (
    "kernel",
    "network",
    "auth",
    "coredump",
    "modules",
    "filesystem",
    "cron",
    "auditd",
    "banner",
    "packages",
    "integrity",
    "fail2ban",
    "usb",
    "ssh",
    "firewall",
)
ROLES = ("os_hardening", "ssh_hardening", "firewall")
SEVERITIES = ("high", "medium", "low")
CONTAINER = ("enforced", "deferred")
STATUSES = ("pass", "fail", "not_applicable", "deferred", "waived")

ID_RE = re.compile(r"^[A-Z0-9]+-\d{3}$")
CIS_RE = re.compile(r"^\d+(\.\d+)*$")
MODE_RE = re.compile(r"^0?[0-7]{3,4}$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

FIELDS = {"id", "title", "area", "role", "cis", "severity", "container", "check"}
REQUIRED = FIELDS - {"cis"}

# Per check type: required fields, optional fields, and "one of" groups (exactly one must be present).
CHECKS: dict[str, dict[str, Any]] = {
    "sysctl": {"required": {"key", "value"}},
    "file_setting": {
        "required": {"key", "op", "value"},
        "optional": {"separator"},
        "one_of": ("path", "paths"),
        "ops": ("eq", "le", "ge", "in", "regex"),
    },
    "sshd": {
        "required": {"key", "op"},
        "optional": {"value"},
        "ops": ("eq", "le", "ge", "range", "in", "subset", "not_contains", "nonempty"),
    },
    "file_mode": {
        "required": {"mode"},
        "optional": {"owner", "group", "missing"},
        "one_of": ("path", "paths"),
    },
    "file_exists": {"required": {"path"}},
    "file_absent": {"required": {"path"}},
    "file_contains": {"optional": {"regex", "all"}, "one_of": ("path", "paths")},
    "package_installed": {"required": {"names"}},
    "package_absent": {"required": {"names"}},
    "service_enabled": {"required": {"name"}},
    "service_active": {"required": {"name"}},
    "kmod_disabled": {"required": {"name"}},
    "mount_option": {"required": {"path", "options"}},
    "proc_hidepid": {},
    "suid_absent": {"required": {"paths"}},
    "nft_policy": {"required": {"hook", "policy"}},
    "moduli_min": {"required": {"path", "bits"}},
    "banner": {"required": {"path"}, "optional": {"allow_empty"}},
}
NUMERIC_OPS = ("le", "ge")
HOOKS = ("prerouting", "input", "forward", "output", "postrouting", "ingress")
MOUNT_OPTIONS = ("nodev", "nosuid", "noexec")


class CatalogueError(ValueError):
    """The catalogue or a waiver list is not valid; the message names the entry and the field."""


def _is_str_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, str) and v for v in value)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_regex(cid: str, field: str, pattern: Any) -> None:
    if not isinstance(pattern, str) or not pattern:
        raise CatalogueError(f"control {cid}: check.{field} must be a non-empty regular expression")
    try:
        re.compile(pattern)
    except re.error as exc:
        raise CatalogueError(
            f"control {cid}: check.{field} is not a valid regular expression: {exc}"
        ) from None


def _validate_check(cid: str, check: Any) -> None:
    if not isinstance(check, dict):
        raise CatalogueError(f"control {cid}: check must be a mapping with a type")
    ctype = check.get("type")
    if ctype not in CHECKS:
        raise CatalogueError(
            f"control {cid}: unknown check type {ctype!r} (known: {', '.join(sorted(CHECKS))})"
        )
    spec = CHECKS[ctype]
    required = set(spec.get("required", ()))
    one_of = tuple(spec.get("one_of", ()))
    allowed = {"type"} | required | set(spec.get("optional", ())) | set(one_of)
    unknown = sorted(set(check) - allowed)
    if unknown:
        raise CatalogueError(f"control {cid}: check type {ctype} does not take {', '.join(unknown)}")
    missing = sorted(required - set(check))
    if missing:
        raise CatalogueError(f"control {cid}: check type {ctype} needs {', '.join(missing)}")
    if one_of and sum(1 for f in one_of if f in check) != 1:
        raise CatalogueError(f"control {cid}: check type {ctype} needs exactly one of {' or '.join(one_of)}")
    if "path" in check and (not isinstance(check["path"], str) or not check["path"].startswith("/")):
        raise CatalogueError(f"control {cid}: check.path must be an absolute path")
    if "paths" in check and (
        not _is_str_list(check["paths"]) or not all(p.startswith("/") for p in check["paths"])
    ):
        raise CatalogueError(f"control {cid}: check.paths must be a non-empty list of absolute paths")
    if "names" in check and not _is_str_list(check["names"]):
        raise CatalogueError(f"control {cid}: check.names must be a non-empty list of package names")
    if "name" in check and (not isinstance(check["name"], str) or not check["name"]):
        raise CatalogueError(f"control {cid}: check.name must be a non-empty string")
    ops = spec.get("ops")
    if ops is not None and check.get("op") not in ops:
        raise CatalogueError(f"control {cid}: check.op {check.get('op')!r} is not one of {', '.join(ops)}")
    _validate_values(cid, ctype, check)


def _validate_values(cid: str, ctype: str, check: dict[str, Any]) -> None:
    op = check.get("op")
    value = check.get("value")
    if ctype == "sysctl":
        if not isinstance(check["key"], str) or not re.match(r"^[a-z0-9_.\-/]+$", check["key"]):
            raise CatalogueError(f"control {cid}: check.key must be a sysctl name such as kernel.sysrq")
        ok = (
            _is_int(value)
            or (isinstance(value, str) and value)
            or (isinstance(value, list) and value and all(_is_int(v) for v in value))
        )
        if not ok:
            raise CatalogueError(
                f"control {cid}: check.value must be an integer, a string or a list of integers"
            )
    elif ctype in ("file_setting", "sshd"):
        key = check["key"]
        keys = key if isinstance(key, list) else [key]
        if not keys or not all(isinstance(k, str) and k for k in keys):
            raise CatalogueError(f"control {cid}: check.key must be a non-empty string")
        if isinstance(key, list) and op != "nonempty":
            raise CatalogueError(f"control {cid}: check.key may be a list only with op nonempty")
        if op in NUMERIC_OPS and not _is_int(value):
            raise CatalogueError(f"control {cid}: check.value must be an integer for op {op}")
        if op == "range" and not (
            isinstance(value, list) and len(value) == 2 and all(_is_int(v) for v in value)
        ):
            raise CatalogueError(f"control {cid}: check.value must be [low, high] for op range")
        if op in ("in", "subset", "not_contains") and not (
            isinstance(value, list) and value and all(isinstance(v, (str, int)) for v in value)
        ):
            raise CatalogueError(f"control {cid}: check.value must be a non-empty list for op {op}")
        if op == "eq" and not isinstance(value, (str, int)):
            raise CatalogueError(f"control {cid}: check.value must be a string or an integer for op eq")
        if op == "regex":
            _check_regex(cid, "value", value)
        if op == "nonempty" and "value" in check:
            raise CatalogueError(f"control {cid}: check.value is not used with op nonempty")
        if "separator" in check and (not isinstance(check["separator"], str) or not check["separator"]):
            raise CatalogueError(f"control {cid}: check.separator must be a non-empty string")
    elif ctype == "file_mode":
        if not isinstance(check["mode"], str) or not MODE_RE.match(check["mode"]):
            raise CatalogueError(f"control {cid}: check.mode must be an octal string such as '0600'")
        if check.get("missing", "fail") not in ("fail", "pass", "not_applicable"):
            raise CatalogueError(f"control {cid}: check.missing must be fail, pass or not_applicable")
        for field in ("owner", "group"):
            if field in check and (not isinstance(check[field], str) or not check[field]):
                raise CatalogueError(f"control {cid}: check.{field} must be a user or group name")
    elif ctype == "file_contains":
        if "regex" not in check and "all" not in check:
            raise CatalogueError(f"control {cid}: check type file_contains needs regex or all")
        if "regex" in check:
            _check_regex(cid, "regex", check["regex"])
        if "all" in check:
            if not isinstance(check["all"], list) or not check["all"]:
                raise CatalogueError(
                    f"control {cid}: check.all must be a non-empty list of regular expressions"
                )
            for index, pattern in enumerate(check["all"]):
                _check_regex(cid, f"all[{index}]", pattern)
    elif ctype == "mount_option":
        options = check["options"]
        if not _is_str_list(options) or not set(options) <= set(MOUNT_OPTIONS):
            raise CatalogueError(f"control {cid}: check.options must be a list of {', '.join(MOUNT_OPTIONS)}")
    elif ctype == "nft_policy":
        if check["hook"] not in HOOKS:
            raise CatalogueError(f"control {cid}: check.hook must be one of {', '.join(HOOKS)}")
        if check["policy"] not in ("accept", "drop"):
            raise CatalogueError(f"control {cid}: check.policy must be accept or drop")
    elif ctype == "moduli_min":
        if not _is_int(check["bits"]) or check["bits"] < 1024:
            raise CatalogueError(f"control {cid}: check.bits must be an integer of at least 1024")
    elif ctype == "banner" and not isinstance(check.get("allow_empty", False), bool):
        raise CatalogueError(f"control {cid}: check.allow_empty must be true or false")


def validate(data: Any, source: str = "catalogue") -> list[dict[str, Any]]:
    """Check a parsed catalogue and return its list of controls."""
    if not isinstance(data, dict) or not isinstance(data.get("controls"), list):
        raise CatalogueError(f"{source}: the top-level key 'controls' must be a list")
    seen: set[str] = set()
    controls = data["controls"]
    for index, control in enumerate(controls):
        if not isinstance(control, dict):
            raise CatalogueError(f"{source}: controls[{index}] must be a mapping")
        cid = control.get("id")
        if not isinstance(cid, str) or not ID_RE.match(cid):
            raise CatalogueError(
                f"{source}: controls[{index}] has an id {cid!r} that is not of the form AREA-NNN"
            )
        if cid in seen:
            raise CatalogueError(f"control {cid}: duplicate id")
        seen.add(cid)
        unknown = sorted(set(control) - FIELDS)
        if unknown:
            raise CatalogueError(f"control {cid}: unknown field {', '.join(unknown)}")
        missing = sorted(REQUIRED - set(control))
        if missing:
            raise CatalogueError(f"control {cid}: missing field {', '.join(missing)}")
        if not isinstance(control["title"], str) or not control["title"].strip():
            raise CatalogueError(f"control {cid}: title must be a non-empty string")
        for field, allowed in (
            ("area", AREAS),
            ("role", ROLES),
            ("severity", SEVERITIES),
            ("container", CONTAINER),
        ):
            if control[field] not in allowed:
                raise CatalogueError(
                    f"control {cid}: unknown {field} {control[field]!r} (known: {', '.join(allowed)})"
                )
        if "cis" in control and (not isinstance(control["cis"], str) or not CIS_RE.match(control["cis"])):
            raise CatalogueError(f'control {cid}: cis must be a quoted section number such as "5.1.20"')
        _validate_check(cid, control["check"])
    return controls


_CACHE: dict[tuple[str, int, int], list[dict[str, Any]]] = {}


def load(path: str | os.PathLike[str] | None = None) -> list[dict[str, Any]]:
    """Load and validate a catalogue file (default: the collection's catalogue/controls.yml).

    Returns a fresh list of fresh dicts on every call, so callers may change what they get.
    """
    file = Path(path) if path else DEFAULT_PATH
    try:
        stat = file.stat()
        key = (str(file.resolve()), stat.st_mtime_ns, stat.st_size)
        if key not in _CACHE:
            with file.open(encoding="utf-8") as handle:
                # The C loader, where PyYAML has it, is six times faster; every role reads the catalogue.
                data = yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
            _CACHE[key] = validate(data, str(file))
    except OSError as exc:
        raise CatalogueError(f"cannot read the control catalogue {file}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise CatalogueError(f"the control catalogue {file} is not valid YAML: {exc}") from None
    return _copy(_CACHE[key])


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _as_list(value: Any) -> list[str] | None:
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [str(v) for v in value]


def select(
    controls: list[dict[str, Any]],
    role: Any = None,
    area: Any = None,
    type: Any = None,
    container: Any = None,
    ids: Any = None,
    exclude_ids: Any = None,
    exclude_areas: Any = None,
) -> list[dict[str, Any]]:
    """Filter controls. Each filter is a value, a list or a comma-separated string; None means all.

    exclude_ids and exclude_areas drop controls (a role's skip lists), after the same check of their values.
    """
    excluded = {"id": set(_as_list(exclude_ids) or ()), "area": set(_as_list(exclude_areas) or ())}
    filters = {
        "role": _as_list(role),
        "area": _as_list(area),
        "type": _as_list(type),
        "container": _as_list(container),
        "id": _as_list(ids),
    }
    known = {
        "role": ROLES,
        "area": AREAS,
        "type": tuple(CHECKS),
        "container": CONTAINER,
        "id": tuple(c["id"] for c in controls),
    }
    for name, wanted in [*filters.items(), *excluded.items()]:
        for value in wanted or ():
            if value not in known[name]:
                raise CatalogueError(f"unknown {name} {value!r} (known: {', '.join(known[name])})")

    def keep(control: dict[str, Any]) -> bool:
        values = {
            "role": control["role"],
            "area": control["area"],
            "type": control["check"]["type"],
            "container": control["container"],
            "id": control["id"],
        }
        return all(wanted is None or values[name] in wanted for name, wanted in filters.items()) and not any(
            values[name] in dropped for name, dropped in excluded.items()
        )

    return [c for c in controls if keep(c)]


def parse_date(value: Any, what: str) -> datetime.date:
    """A YYYY-MM-DD string (or a date) as a date; CatalogueError naming `what` otherwise."""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str) and DATE_RE.match(value.strip()):
        try:
            return datetime.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise CatalogueError(f"{what} must be a date YYYY-MM-DD, got {value!r}")


def validate_waivers(waivers: Any, ids: list[str] | set[str]) -> list[dict[str, str]]:
    """Check a waiver list ({id, reason, expires}) against the catalogue ids; return normalised waivers."""
    if waivers is None:
        return []
    if not isinstance(waivers, list):
        raise CatalogueError("waivers must be a list of {id, reason, expires}")
    known = set(ids)
    out: list[dict[str, str]] = []
    seen: set[str] = set()
    for index, waiver in enumerate(waivers):
        where = f"waivers[{index}]"
        if not isinstance(waiver, dict):
            raise CatalogueError(f"{where} must be a mapping with id, reason and expires")
        unknown = sorted(set(waiver) - {"id", "reason", "expires"})
        if unknown:
            raise CatalogueError(f"{where}: unknown field {', '.join(map(str, unknown))}")
        cid = waiver.get("id")
        if not isinstance(cid, str) or not cid:
            raise CatalogueError(f"{where}.id is missing")
        if cid not in known:
            raise CatalogueError(f"{where}.id {cid!r} is not a control in the catalogue")
        if cid in seen:
            raise CatalogueError(f"{where}.id {cid!r} is waived twice")
        seen.add(cid)
        reason = waiver.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise CatalogueError(f"{where}.reason is missing (control {cid}): say why the control is waived")
        if "expires" not in waiver or waiver["expires"] in (None, ""):
            raise CatalogueError(f"{where}.expires is missing (control {cid}): give a date YYYY-MM-DD")
        expires = parse_date(waiver["expires"], f"{where}.expires (control {cid})")
        out.append({"id": cid, "reason": reason.strip(), "expires": expires.isoformat()})
    return out
