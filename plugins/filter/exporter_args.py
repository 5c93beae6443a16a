# Copyright: eightfold.devops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The exporter_args and collector_args filters: an exporter's command line checked against the flags and
collectors of the release Debian ships, so that a flag the exporter does not know is refused before it is
written instead of leaving the exporter down (docs in exporter_args.yml and collector_args.yml)."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

COLLECTOR = re.compile(r"^[a-z0-9_]+$")
FLAG = re.compile(r"^--([A-Za-z0-9][A-Za-z0-9_.-]*)(=.*)?$", re.DOTALL)
# What the ARGS line of /etc/default/<exporter> cannot carry: systemd splits $ARGS at white space.
UNSAFE = re.compile(r"[\s\"]")


def _release(release):
    """The release data (name, version, debian, collectors, switches, values, repeatable), or None when there
    is none to check against (an upstream binary of any version)."""
    if release is None or release == {}:
        return None
    if not isinstance(release, Mapping):
        raise AnsibleFilterError(
            f"release must be a mapping of the exporter's flags, not {type(release).__name__}"
        )
    return release


def _label(release):
    name, version = release.get("name", "the exporter"), release.get("version", "")
    return f"{name} {version} (Debian {release.get('debian', '?')})"


def _suggest(word, choices):
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.75)
    return f" (did you mean {close[0]}?)" if close else ""


def _strings(value, variable):
    if isinstance(value, str) or not isinstance(value, list):
        raise AnsibleFilterError(f"{variable} must be a list of strings (got {value!r})")
    bad = [item for item in value if not isinstance(item, str)]
    if bad:
        raise AnsibleFilterError(f"{variable}: {bad[0]!r} is not a string")
    return value


def collector_args(enabled, disabled, release=None, enabled_var=None, disabled_var=None):
    """--collector.<name> for each enabled and --no-collector.<name> for each disabled collector, each name
    checked against the collectors of the release."""
    enabled_var = enabled_var or "node_exporter_collectors_enabled"
    disabled_var = disabled_var or "node_exporter_collectors_disabled"
    release = _release(release)
    known = set(release.get("collectors") or []) if release else None
    for variable, names in ((enabled_var, enabled), (disabled_var, disabled)):
        for name in _strings(names, variable):
            if not COLLECTOR.match(name):
                raise AnsibleFilterError(
                    f"{variable}: {name!r} is not a collector name (lower-case letters, digits and _)"
                )
            if known is not None and name not in known:
                raise AnsibleFilterError(
                    f"{variable}: {name} is not a collector of {_label(release)}{_suggest(name, known)}"
                )
    both = [name for name in enabled if name in disabled]
    if both:
        raise AnsibleFilterError(f"{enabled_var} and {disabled_var} both name {', '.join(both)}")
    return [f"--collector.{name}" for name in enabled] + [f"--no-collector.{name}" for name in disabled]


def _flag_name(arg):
    match = FLAG.match(arg) if isinstance(arg, str) else None
    if not match:
        raise AnsibleFilterError(f"the role's own argument {arg!r} is not a flag")
    name = match.group(1)
    return name[3:] if name.startswith("no-collector.") else name


def exporter_args(args, release=None, variable="extra_args", own=None):
    """The exporter's command line: the role's own arguments (own: the variable that sets them -> their
    arguments), then the extra arguments (args, from variable) once each is proven to be a flag of the
    release - --name for a switch (or --no-name), --name=value for a flag that takes a value, none that the
    role sets itself and none repeated that the exporter takes once."""
    release = _release(release)
    own = own or {}
    if not isinstance(own, Mapping):
        raise AnsibleFilterError("own must map the role's variables to the arguments they set")
    owned, line = {}, []
    for setter, own_args in own.items():
        for arg in _strings(own_args, f"the arguments of {setter}"):
            owned[_flag_name(arg)] = setter
            line.append(arg)
    switches = values = repeatable = frozenset()
    if release:
        switches = set(release.get("switches") or []) | {
            f"collector.{c}" for c in release.get("collectors") or []
        }
        values = set(release.get("values") or [])
        repeatable = set(release.get("repeatable") or [])
    seen = set()
    for arg in _strings(args, variable):
        match = FLAG.match(arg)
        if not match:
            raise AnsibleFilterError(f"{variable}: {arg!r} is not a flag (--name or --name=value)")
        if UNSAFE.search(arg):
            raise AnsibleFilterError(
                f"{variable}: {arg!r} holds white space or a double quote, which the exporter's ARGS line "
                "cannot carry (systemd splits it at white space)"
            )
        name, value = match.group(1), match.group(2)
        base = name[3:] if name.startswith("no-") and (not release or name[3:] in switches) else name
        if release:
            if name in values:
                if value is None:
                    raise AnsibleFilterError(f"{variable}: --{name} takes a value: --{name}=VALUE")
            elif base in switches:
                if value is not None:
                    raise AnsibleFilterError(
                        f"{variable}: --{base} is a switch without a value: --{base} or --no-{base}"
                    )
            else:
                close = _suggest(name, switches | values).replace("mean ", "mean --")
                raise AnsibleFilterError(f"{variable}: --{name} is not a flag of {_label(release)}{close}")
        if base in owned:
            raise AnsibleFilterError(f"{variable}: --{base} is set by the role from {owned[base]}")
        if base in seen and base not in repeatable:
            raise AnsibleFilterError(f"{variable}: --{base} is given more than once")
        seen.add(base)
        line.append(arg)
    return line


class FilterModule:
    def filters(self):
        return {"exporter_args": exporter_args, "collector_args": collector_args}
