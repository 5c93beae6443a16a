# Copyright: eightfold.devops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The sysctl_settings filter: a role's kernel parameters with the user's overrides on top, every override
checked (docs in sysctl_settings.yml)."""

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError
from ansible_collections.eightfold.devops.plugins.modules.sysctls import (
    INT_RE,
    SysctlError,
    check_key,
    format_value,
)


def _is_numbers(value):
    return all(INT_RE.match(token) for token in str(value).split())


def sysctl_settings(settings, overrides, what="overrides"):
    """settings combined with overrides; a bad override fails with one line naming what[key]: a name that is
    not a kernel parameter, a value that is not an integer, string or boolean, or text where the role's own
    value of the parameter is a number."""
    if not isinstance(overrides, Mapping):
        raise AnsibleFilterError(
            f"{what} must map kernel parameter names (like net.ipv4.ip_forward) to values, not {overrides!r}"
        )
    merged = dict(settings)
    for key, value in overrides.items():
        label = f"{what}[{key!r}]"
        try:
            check_key(key)
            text = format_value(key, value)
        except SysctlError as exc:
            raise AnsibleFilterError(f"{label}: {str(exc).split(': ', 1)[-1]}") from None
        if key in settings and _is_numbers(settings[key]) and not _is_numbers(text):
            raise AnsibleFilterError(f"{label}: {value!r} is not a number; {key} takes integers")
        merged[key] = value
    return merged


class FilterModule:
    def filters(self):
        return {"sysctl_settings": sysctl_settings}
