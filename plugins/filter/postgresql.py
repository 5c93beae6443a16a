# Copyright: eightfold.devops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the postgresql role (docs in postgresql_problems.yml, postgresql_tuning.yml,
postgresql_conf.yml, postgresql_pgpass.yml): its preflight, the settings it computes from the host, the
conf.d drop-in and a standby's .pgpass line."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError
from ansible_collections.eightfold.devops.plugins.filter.networks import networks

# What the role writes unquoted into pg_hba.conf, .pgpass and primary_conninfo, and passes to the
# community.postgresql modules: the characters of a PostgreSQL role name that need no quoting, plus - and $
# (the postgres_exporter role takes the same). NAMEDATALEN - 1 bytes at most: PostgreSQL cuts longer names.
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_$-]*$")
NAME_BYTES = 63
EXTENSION = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
SETTING = re.compile(r"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$")
LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
HOSTNAME = re.compile(rf"^(?=.{{1,253}}$){LABEL}(\.{LABEL})*$")
STANZA = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")

# Role names PostgreSQL refuses ("role name ... is reserved") or pg_hba.conf reads as a keyword.
RESERVED_ROLES = {"public", "none", "current_user", "session_user", "current_role", "all"}
# Database names pg_hba.conf reads as keywords.
RESERVED_DATABASES = {"all", "sameuser", "samerole", "replication"}
HBA_DATABASE_KEYWORDS = RESERVED_DATABASES
ROLE_ATTRIBUTES = ["SUPERUSER", "CREATEDB", "CREATEROLE", "REPLICATION", "BYPASSRLS"]
VALID_PRIVS = {
    "database": ["ALL", "CONNECT", "CREATE", "TEMPORARY"],
    "schema": ["ALL", "USAGE", "CREATE"],
    "table": ["ALL", "SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"],
    "sequence": ["ALL", "USAGE", "SELECT", "UPDATE"],
}
# Settings the role sets from its own variables or that Debian's cluster layout fixes.
OWN_SETTINGS = {
    "port": "set postgresql_port instead",
    "data_directory": "Debian's cluster layout fixes it",
    "config_file": "Debian's cluster layout fixes it",
    "hba_file": "Debian's cluster layout fixes it",
    "ident_file": "Debian's cluster layout fixes it",
    "external_pid_file": "Debian's cluster layout fixes it",
}
MAX_CONNECTIONS = 262143  # PostgreSQL's MAX_BACKENDS
RETENTION_MAX = 9999999  # pgBackRest's limit of repo1-retention-full and -diff


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _shown(value):
    return repr(value) if isinstance(value, str) else str(value)


class Problems:
    """Collects one message per problem, each starting with the variable (and entry) it is about."""

    def __init__(self):
        self.messages = []

    def add(self, where, text):
        self.messages.append(f"{where}: {text}")

    def name(self, where, value, kind="role", reserved=(), reserved_prefix=None):
        """A PostgreSQL name the role writes unquoted; True when it is fine."""
        if not isinstance(value, str) or not value:
            self.add(where, f"{_shown(value)} is not a {kind} name")
            return False
        if not NAME.match(value):
            self.add(
                where,
                f"{value!r} is not a {kind} name the role can use: letters, digits, _, $ and -, "
                "starting with a letter or _ (no quotes, spaces, commas or colons)",
            )
            return False
        if len(value.encode()) > NAME_BYTES:
            self.add(where, f"{value!r} is longer than {NAME_BYTES} bytes (PostgreSQL would cut it)")
            return False
        if value.lower() in reserved:
            self.add(where, f"{value!r} is reserved in PostgreSQL or pg_hba.conf")
            return False
        if reserved_prefix and value.lower().startswith(reserved_prefix):
            self.add(where, f"{value!r}: names starting with {reserved_prefix} are reserved for PostgreSQL")
            return False
        return True

    def role(self, where, value):
        return self.name(where, value, "role", RESERVED_ROLES, "pg_")

    def integer(self, where, value, low, high, hint=""):
        if not _is_int(value) or not low <= value <= high:
            self.add(where, f"{_shown(value)} is out of range: {hint or f'{low} to {high}'}")

    def text(self, where, value, empty_ok=True):
        if not isinstance(value, str):
            self.add(where, f"{_shown(value)} is not a string")
        elif CONTROL.search(value):
            self.add(where, "contains a line break or another control character")
        elif not empty_ok and not value.strip():
            self.add(where, "is empty")


def _entries(problems, inputs, key):
    value = inputs.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(entry, Mapping) for entry in value):
        problems.add(key, "must be a list of mappings")
        return []
    return value


def _strings(problems, where, value):
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        problems.add(where, f"{_shown(value)} is not a list of strings")
        return []
    return value


def _settings(problems, settings):
    if not isinstance(settings, Mapping):
        problems.add("postgresql_settings", "must be a mapping of setting names to values")
        return
    for name, value in settings.items():
        where = f"postgresql_settings.{name}"
        if not isinstance(name, str) or not SETTING.match(name):
            problems.add(
                where,
                "is not a setting name: lower-case letters, digits and _ (a custom one with one dot, "
                "like pg_stat_statements.max)",
            )
        elif name in OWN_SETTINGS:
            problems.add(where, f"cannot be set here: {OWN_SETTINGS[name]}")
        if value is None or isinstance(value, (list, dict)):
            kind = "null" if value is None else type(value).__name__
            problems.add(where, f"a {kind} is not a setting value (a string, a number or a boolean)")
        elif isinstance(value, str) and CONTROL.search(value):
            problems.add(where, "a setting value cannot hold a line break or another control character")


def _listen_addresses(problems, addresses):
    where = "postgresql_listen_addresses"
    if not isinstance(addresses, list) or not addresses:
        problems.add(where, "must be a non-empty list ('*' for every address)")
        return
    for index, address in enumerate(addresses):
        # A name of digits and dots only is an IPv4 address, or a mistake.
        if address == "*" or (
            isinstance(address, str) and HOSTNAME.match(address) and not re.match(r"^[0-9.]+$", address)
        ):
            continue
        try:
            ipaddress.ip_address(address)
        except (ValueError, TypeError):
            problems.add(f"{where}[{index}]", f"{_shown(address)} is not '*', an IP address or a host name")


def _users(problems, inputs, extra_roles):
    seen = set(extra_roles)
    for index, user in enumerate(_entries(problems, inputs, "postgresql_users")):
        name = user.get("name")
        where = f"postgresql_users[{index}]" + (f" ({name})" if isinstance(name, str) else "")
        if problems.role(f"{where}.name", name):
            if name in extra_roles:
                problems.add(
                    where,
                    f"{name} is the role's {extra_roles[name]}; give it another name or change that variable",
                )
            elif name in seen:
                problems.add(where, f"{name} is listed twice")
            seen.add(name)
        if user.get("login", True) and user.get("password") is None:
            problems.add(where, "a login role needs a password (or login: false)")
        for attribute in user.get("attributes") or []:
            if str(attribute).upper() not in ROLE_ATTRIBUTES:
                problems.add(
                    f"{where}.attributes", f"{attribute!r} is not one of {', '.join(ROLE_ATTRIBUTES)}"
                )
        for member, role in enumerate(_strings(problems, f"{where}.member_of", user.get("member_of") or [])):
            problems.name(f"{where}.member_of[{member}]", role, "role", RESERVED_ROLES)


def _databases(problems, inputs):
    seen = set()
    for index, database in enumerate(_entries(problems, inputs, "postgresql_databases")):
        name = database.get("name")
        where = f"postgresql_databases[{index}]" + (f" ({name})" if isinstance(name, str) else "")
        if problems.name(f"{where}.name", name, "database", RESERVED_DATABASES):
            if name in seen:
                problems.add(where, f"{name} is listed twice")
            seen.add(name)
        problems.role(f"{where}.owner", database.get("owner", "postgres"))
        problems.name(f"{where}.template", database.get("template", "template0"), "database")
        problems.text(f"{where}.encoding", database.get("encoding", "UTF-8"), empty_ok=False)


def _schemas_and_extensions(problems, inputs):
    for index, schema in enumerate(_entries(problems, inputs, "postgresql_schemas")):
        where = f"postgresql_schemas[{index}]"
        problems.name(f"{where}.name", schema.get("name"), "schema", {"public"}, "pg_")
        problems.name(f"{where}.database", schema.get("database"), "database", RESERVED_DATABASES)
        problems.role(f"{where}.owner", schema.get("owner", "postgres"))
    for index, extension in enumerate(_entries(problems, inputs, "postgresql_extensions")):
        where = f"postgresql_extensions[{index}]"
        name = extension.get("name")
        if not isinstance(name, str) or not EXTENSION.match(name):
            problems.add(f"{where}.name", f"{_shown(name)} is not an extension name")
        problems.name(f"{where}.database", extension.get("database"), "database", RESERVED_DATABASES)
        if extension.get("schema") is not None:
            problems.name(f"{where}.schema", extension["schema"], "schema")


def _privileges(problems, inputs):
    for index, entry in enumerate(_entries(problems, inputs, "postgresql_privileges")):
        where = f"postgresql_privileges[{index}]"
        kind = entry.get("type", "table")
        if kind not in VALID_PRIVS:
            problems.add(f"{where}.type", f"{_shown(kind)} is not one of {', '.join(VALID_PRIVS)}")
            continue
        bad = [
            p for p in _strings(problems, f"{where}.privs", entry.get("privs")) if p not in VALID_PRIVS[kind]
        ]
        if bad:
            problems.add(f"{where}.privs", f"{', '.join(bad)} not valid for type {kind}")
        problems.name(f"{where}.database", entry.get("database"), "database", RESERVED_DATABASES)
        roles = _strings(problems, f"{where}.roles", entry.get("roles"))
        if isinstance(entry.get("roles"), list) and not roles:
            problems.add(f"{where}.roles", "is empty")
        for number, role in enumerate(roles):
            if role.upper() != "PUBLIC":
                problems.name(f"{where}.roles[{number}]", role, "role", RESERVED_ROLES)
        for number, obj in enumerate(_strings(problems, f"{where}.objs", entry.get("objs") or [])):
            if obj == "ALL_IN_SCHEMA":
                if kind not in ("table", "sequence"):
                    problems.add(
                        f"{where}.objs[{number}]", f"ALL_IN_SCHEMA is for tables and sequences, not {kind}"
                    )
            else:
                problems.name(f"{where}.objs[{number}]", obj, kind)
        if kind in ("table", "sequence"):
            problems.name(f"{where}.schema", entry.get("schema", "public"), "schema")


def _hba(problems, inputs):
    for index, entry in enumerate(_entries(problems, inputs, "postgresql_hba")):
        where = f"postgresql_hba[{index}]"
        databases = _strings(problems, f"{where}.databases", entry.get("databases"))
        if isinstance(entry.get("databases"), list) and not databases:
            problems.add(f"{where}.databases", "is empty (all for every database)")
        for number, name in enumerate(databases):
            if name not in HBA_DATABASE_KEYWORDS:
                problems.name(f"{where}.databases[{number}]", name, "database")
        users = _strings(problems, f"{where}.users", entry.get("users"))
        if isinstance(entry.get("users"), list) and not users:
            problems.add(f"{where}.users", "is empty (all for every role)")
        for number, name in enumerate(users):
            if name != "all":
                problems.name(f"{where}.users[{number}]", name[1:] if name.startswith("+") else name, "role")
        try:
            networks(entry.get("networks") or [], f"{where}.networks")
        except AnsibleFilterError as exc:
            problems.messages.append(str(exc))
        method = entry.get("method", "scram-sha-256")
        if method not in ("scram-sha-256", "reject"):
            problems.add(
                f"{where}.method",
                f"{_shown(method)} is not allowed: scram-sha-256 or reject (not md5, password or trust)",
            )


def _backup(problems, inputs):
    if not inputs.get("postgresql_backup"):
        return
    stanza = inputs.get("postgresql_backup_stanza")
    if not isinstance(stanza, str) or not STANZA.match(stanza):
        problems.add(
            "postgresql_backup_stanza", f"{_shown(stanza)} is not a stanza name: letters, digits, _ and -"
        )
    path = inputs.get("postgresql_backup_repo_path")
    if (
        not isinstance(path, str)
        or not path.startswith("/")
        or re.search(r"\s", path)
        or CONTROL.search(path)
    ):
        problems.add("postgresql_backup_repo_path", f"{_shown(path)} is not an absolute path without spaces")
    for key in ("postgresql_backup_retention_full", "postgresql_backup_retention_diff"):
        problems.integer(key, inputs.get(key), 1, RETENTION_MAX)
    for key in ("postgresql_backup_full_schedule", "postgresql_backup_diff_schedule"):
        problems.text(key, inputs.get(key), empty_ok=False)


def postgresql_problems(inputs, hosts=(), replicating=False):
    """What is wrong with the postgresql role's input, judged on the controller: one message per problem,
    each naming the variable (and entry) first. Empty when all is well.

    inputs: the role's variables by name. hosts: the inventory's host names. replicating: whether this
    host has standbys or is one (then postgresql_replication_password is needed).
    """
    if not isinstance(inputs, Mapping):
        raise AnsibleFilterError("postgresql_problems expects a mapping of the role's variables")
    problems = Problems()
    get = inputs.get

    version = get("postgresql_version", "")
    if not isinstance(version, str) or (version and not version.isdigit()):
        problems.add("postgresql_version", f"{_shown(version)} is not a major version such as 15 (or empty)")
    problems.integer("postgresql_port", get("postgresql_port", 5432), 1, 65535, "a port is 1 to 65535")
    _listen_addresses(problems, get("postgresql_listen_addresses", ["*"]))
    problems.integer(
        "postgresql_max_connections",
        get("postgresql_max_connections", 0),
        0,
        MAX_CONNECTIONS,
        f"0 (computed from the CPUs) or 1 to {MAX_CONNECTIONS}",
    )
    problems.integer("postgresql_shared_buffers_percent", get("postgresql_shared_buffers_percent", 25), 1, 80)
    _settings(problems, get("postgresql_settings", {}))

    address = get("postgresql_address", "")
    if address:
        try:
            ipaddress.ip_address(address)
        except (ValueError, TypeError):
            problems.add("postgresql_address", f"{_shown(address)} is not an IP address")

    cert, key = get("postgresql_tls_cert_file", ""), get("postgresql_tls_key_file", "")
    if bool(cert) != bool(key):
        problems.add("postgresql_tls_cert_file and postgresql_tls_key_file", "give both or neither")
    if get("postgresql_tls_required") and not get("postgresql_tls", True):
        problems.add("postgresql_tls_required", "needs postgresql_tls")

    extra_roles = {}
    monitoring = get("postgresql_monitoring_password")
    if monitoring and problems.role("postgresql_monitoring_user", get("postgresql_monitoring_user")):
        extra_roles[get("postgresql_monitoring_user")] = "monitoring role (postgresql_monitoring_user)"
    if replicating:
        if problems.role("postgresql_replication_user", get("postgresql_replication_user")):
            extra_roles[get("postgresql_replication_user")] = "replication role (postgresql_replication_user)"
        password = get("postgresql_replication_password", "")
        if not password:
            problems.add("postgresql_replication_password", "required when the host has standbys or is one")
        else:
            problems.text("postgresql_replication_password", password)
    primary = get("postgresql_replication_primary", "")
    if primary and hosts and primary not in hosts:
        problems.add("postgresql_replication_primary", f"{primary} is not in the inventory")

    _users(problems, inputs, extra_roles)
    _databases(problems, inputs)
    _schemas_and_extensions(problems, inputs)
    _privileges(problems, inputs)
    _hba(problems, inputs)
    _backup(problems, inputs)
    return problems.messages


def postgresql_tuning(host, max_connections=0, shared_buffers_percent=25):
    """Memory and connection settings from the host (a read with memory_mb and cpus)."""
    if not isinstance(host, Mapping) or not _is_int(host.get("memory_mb")) or not _is_int(host.get("cpus")):
        raise AnsibleFilterError("postgresql_tuning expects a postgresql_state read (memory_mb, cpus)")
    memory, cpus = host["memory_mb"], host["cpus"]
    connections = int(max_connections) if int(max_connections) > 0 else min(max(cpus * 25, 100), 400)
    shared = max(memory * int(shared_buffers_percent) // 100, 128)
    return {
        "max_connections": connections,
        "shared_buffers": f"{shared}MB",
        "effective_cache_size": f"{max(min(shared * 3, memory - shared), 128)}MB",
        "maintenance_work_mem": f"{min(max(memory // 16, 64), 2048)}MB",
        "work_mem": f"{max((memory - shared) // (connections * 3), 4)}MB",
    }


def conf_value(value):
    """A value as postgresql.conf reads it: on/off, a bare number, or a quoted string (' and \\ escaped)."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, (int, float)):
        return str(value)
    if not isinstance(value, str):
        raise AnsibleFilterError(f"postgresql_conf: {value!r} is not a setting value")
    if CONTROL.search(value):
        raise AnsibleFilterError(f"postgresql_conf: {value!r} holds a control character")
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def postgresql_conf(settings):
    """The lines of a postgresql.conf drop-in, one `name = value` per setting, sorted by name."""
    if not isinstance(settings, Mapping):
        raise AnsibleFilterError("postgresql_conf expects a mapping of setting names to values")
    return "".join(f"{name} = {conf_value(settings[name])}\n" for name in sorted(settings))


def postgresql_pgpass(password, user, database="*", host="*", port="*"):
    """One line of a .pgpass file, with : and \\ escaped in every field as libpq wants."""
    fields = [host, port, database, user, password]
    if not all(isinstance(field, (str, int)) and not isinstance(field, bool) for field in fields):
        raise AnsibleFilterError("postgresql_pgpass: host, port, database, user and password must be strings")
    if any(CONTROL.search(str(field)) for field in fields):
        raise AnsibleFilterError("postgresql_pgpass: a field holds a line break or another control character")
    return ":".join(str(f).replace("\\", "\\\\").replace(":", "\\:") for f in fields) + "\n"


class FilterModule:
    def filters(self):
        return {
            "postgresql_problems": postgresql_problems,
            "postgresql_tuning": postgresql_tuning,
            "postgresql_conf": postgresql_conf,
            "postgresql_pgpass": postgresql_pgpass,
        }
