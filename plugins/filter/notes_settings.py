# Copyright: eightfold.devops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The notes role's filters: notes_settings checks the role's variables, notes_database_url builds the
service's DATABASE_URL (docs in notes_settings.yml and notes_database_url.yml)."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from urllib.parse import quote

from ansible.errors import AnsibleFilterError

ENV_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
HOST_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$")
# The lines of notes.env the role writes from its own variables (notes_environment must not repeat them).
MANAGED_KEYS = ("LISTEN", "DATABASE_URL", "NOTES_SHUTDOWN_DELAY", "NOTES_DB_POOL", "LOG_LEVEL")
REQUIRED = (
    "notes_port", "notes_listen_address", "notes_database_host", "notes_database_port", "notes_database_name",
    "notes_database_user", "notes_database_password", "notes_shutdown_delay", "notes_db_pool",
    "notes_environment",
)  # fmt: skip


def integer(value):
    """An int for an int or a string of digits (what -e name=7 gives), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.match(r"^-?[0-9]+$", value.strip()):
        return int(value)
    return None


def is_address(value):
    """An IP address or a host name."""
    if not isinstance(value, str) or not value:
        return False
    try:
        ipaddress.ip_address(value)
        return True
    except ValueError:
        return ":" not in value and bool(HOST_NAME.match(value))


def number(value):
    """A float for a number (int, float or a numeric string), else None."""
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def notes_settings(settings):
    """Checks what meta/argument_specs.yml cannot: port ranges, addresses, the drain delay and the pool
    size, the extra environment (variable names, single-line values, none of the lines the role writes), the
    database password when there is a database. Returns {"database": whether there is a database host,
    "notes": what the settings leave out}. Raises AnsibleFilterError naming every bad variable on one line.
    """
    if not isinstance(settings, Mapping):
        raise AnsibleFilterError("notes_settings expects a mapping of the role's variables")
    missing = [name for name in REQUIRED if name not in settings]
    if missing:
        raise AnsibleFilterError(f"notes_settings: missing {', '.join(missing)}")
    s = settings
    errors, notes = [], []
    for name in ("notes_port", "notes_database_port"):
        if not 0 < (integer(s[name]) or 0) < 65536:
            errors.append(f"{name} is {s[name]}, not a port from 1 to 65535.")
    if not is_address(s["notes_listen_address"]):
        errors.append(
            f"notes_listen_address is {s['notes_listen_address']!r}, not an IP address or host name."
        )
    delay = number(s["notes_shutdown_delay"])
    if delay is None or delay < 0:
        errors.append(f"notes_shutdown_delay is {s['notes_shutdown_delay']}, it must be 0 seconds or more.")
    if (integer(s["notes_db_pool"]) or 0) < 1:
        errors.append(f"notes_db_pool is {s['notes_db_pool']}, it must be 1 or more.")

    host = s["notes_database_host"]
    database = bool(host)
    if not database:
        notes.append(
            "notes_database_host is empty (the inventory has no group db): notes.env gets no "
            "DATABASE_URL, so the service finds its database only through PG* variables of "
            "notes_environment; set notes_database_host and notes_database_password"
        )
    elif not is_address(str(host)):
        errors.append(f"notes_database_host is {host!r}, not an IP address or host name.")
    elif not s["notes_database_password"]:
        errors.append(
            "notes_database_password is empty: set the password of notes_database_user "
            f"({s['notes_database_user']}) on {host}, kept in a vault."
        )
    for name in ("notes_database_name", "notes_database_user"):
        if database and not s[name]:
            errors.append(f"{name} is empty.")

    environment = s["notes_environment"]
    if not isinstance(environment, Mapping):
        errors.append("notes_environment must be a mapping of variable names to values.")
        environment = {}
    bad_keys = [str(key) for key in environment if not ENV_KEY.match(str(key))]
    if bad_keys:
        errors.append(f"notes_environment: not variable names: {', '.join(bad_keys)}.")
    multi_line = [str(key) for key, value in environment.items() if re.search(r"[\r\n]", str(value))]
    if multi_line:
        errors.append(f"notes_environment: the value of {', '.join(multi_line)} holds a line break.")
    managed = [str(key) for key in environment if key in MANAGED_KEYS]
    if managed:
        errors.append(
            f"notes_environment sets {', '.join(managed)}, which the role's own variables set "
            "(notes_port, notes_database_*, notes_shutdown_delay, notes_db_pool, notes_log_level)."
        )
    if errors:
        raise AnsibleFilterError(" ".join(errors) + " Nothing was changed.")
    return {"database": database, "notes": notes}


def url_part(value):
    """Percent-encoded for the user information or path of a URL, "/" too (libpq ends the user information
    at a "/")."""
    return quote(str(value), safe="")


def notes_database_url(host, port, name, user, password, sslmode):
    """postgresql://user:password@host:port/name?sslmode=..., each part percent-encoded, an IPv6 address in
    brackets."""
    host = str(host)
    netloc = f"[{host}]" if ":" in host else host
    return (
        f"postgresql://{url_part(user)}:{url_part(password)}@{netloc}:{port}/{url_part(name)}"
        f"?sslmode={url_part(sslmode)}"
    )


class FilterModule:
    def filters(self):
        return {"notes_settings": notes_settings, "notes_database_url": notes_database_url}
