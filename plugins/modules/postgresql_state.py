#!/usr/bin/python
# Copyright: eightfold.devops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# ruff: noqa: E402 - Ansible modules import after DOCUMENTATION, EXAMPLES and RETURN

from __future__ import annotations

DOCUMENTATION = r"""
---
module: postgresql_state
short_description: Read a Debian PostgreSQL host and its cluster in one call
version_added: 0.1.0
description:
  - Reads, without changing anything, what the C(eightfold.devops.postgresql) role decides on - the Debian
    release, memory and CPUs, the host's addresses, installed packages, systemd units, paths, the cluster
    (exists, running, in recovery, data checksums, settings waiting for a restart), its roles, databases,
    schemas, extensions and replication slots, whether given passwords and privileges are already in place,
    and whether a replication primary answers on its port.
  - One call replaces fact gathering, a package and a service lookup and one C(community.postgresql) call
    per object, which is what makes an unchanged run of the role fast.
  - Queries run with C(psql) as the C(postgres) operating system user over the local socket (peer
    authentication); the module itself runs as root.
author: eightfold.devops maintainers (@eightfold)
options:
  version:
    description: PostgreSQL major version of the cluster. When empty, taken from O(versions) by release.
    type: str
    default: ""
  versions:
    description: Major version per Debian major release (release to version); used when O(version) is empty.
    type: dict
    default: {}
  cluster:
    description: Debian cluster name.
    type: str
    default: main
  port:
    description: Port of the cluster (used to find its socket).
    type: int
    default: 5432
  packages:
    description: Debian packages to look up in the dpkg database; C(@VERSION@) is replaced by the version.
    type: list
    elements: str
    default: []
  units:
    description: systemd unit names to look up; C(@VERSION@) is replaced by the version.
    type: list
    elements: str
    default: []
  paths:
    description: Absolute paths to report as existing or not; C(@VERSION@) is replaced by the version.
    type: list
    elements: str
    default: []
  databases:
    description: Databases whose extensions and schemas are read; one C(psql) call each.
    type: list
    elements: str
    default: []
  passwords:
    description:
      - Role name to password; the result tells for each role whether its stored SCRAM-SHA-256 verifier
        matches. The passwords and the verifiers are never returned.
    type: dict
    default: {}
  privileges:
    description:
      - Grants to check, each with C(database), C(roles) (list), C(type) (database, schema, table or
        sequence), C(objs) (list; C(ALL_IN_SCHEMA) for every table or sequence of C(schema)), C(schema) and
        C(privs) (list, C(ALL) allowed). The result lists the indexes of the entries not fully granted.
    type: list
    elements: dict
    default: []
  primary:
    description: Host and port of a replication primary to probe with a TCP connection (C({host, port})).
    type: dict
    default: {}
  table_checksums:
    description: Return the row count and an MD5 checksum of every table of every non-template database.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description: The module only reads; it runs the same in check mode.
  diff_mode:
    support: none
    description: Nothing changes, so there is nothing to show.
"""

EXAMPLES = r"""
- name: Read the PostgreSQL host
  eightfold.devops.postgresql_state:
    versions: {"12": "15", "13": "17"}
    packages: [postgresql-@VERSION@]
    units: [postgresql@@VERSION@-main.service]
    databases: [app]
    passwords: {app: "{{ app_password }}"}
  register: pg
  no_log: true

- name: Create the database when it is missing
  community.postgresql.postgresql_db:
    name: app
  become: true
  become_user: postgres
  when: "'app' not in pg.databases"
"""

RETURN = r"""
os:
  description: C(id), C(version) (major, string) and C(codename) from /etc/os-release.
  returned: always
  type: dict
  sample: {id: debian, version: "12", codename: bookworm}
version:
  description: The PostgreSQL major version used (empty when none is known for this release).
  returned: always
  type: str
  sample: "15"
container:
  description: Whether the host is a container.
  returned: always
  type: bool
memory_mb:
  description: Memory available to the host (the smaller of /proc/meminfo and a cgroup limit), in MiB.
  returned: always
  type: int
cpus:
  description: Number of CPUs this process may use.
  returned: always
  type: int
addresses:
  description: Global IPv4 then IPv6 addresses of the host.
  returned: always
  type: list
  elements: str
packages:
  description: The requested packages that are installed, with their version.
  returned: always
  type: dict
units:
  description: For each requested unit, C(enabled) and C(active).
  returned: always
  type: dict
paths:
  description: For each requested path (after substitution), whether it exists.
  returned: always
  type: dict
cluster:
  description:
    - C(exists) (PG_VERSION in the data directory), C(running) (answers a query), C(in_recovery),
      C(data_checksums), C(pending_restart) (names of settings), C(server_version_num), C(data_directory).
  returned: always
  type: dict
roles:
  description: Roles (not C(pg_*)) with C(login), C(superuser), C(replication), C(createdb), C(createrole),
    C(member_of) and, for roles given in O(passwords), C(password_ok).
  returned: always
  type: dict
databases:
  description: Non-template databases with C(owner) and, for those in O(databases), C(extensions) (name to
    version) and C(schemas) (name to owner).
  returned: always
  type: dict
slots:
  description: Replication slot names.
  returned: always
  type: list
privileges_missing:
  description: Indexes of O(privileges) entries not fully granted.
  returned: always
  type: list
primary:
  description: C(host), C(port), C(reachable) and C(error) of the probed primary; empty when none was given.
  returned: always
  type: dict
tables:
  description: With O(table_checksums), C(database.schema.table) to C({rows, md5}).
  returned: when O(table_checksums=true)
  type: dict
"""

import base64
import hashlib
import hmac
import json
import os
import socket

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.eightfold.devops.plugins.module_utils._host import (
    in_container,
    installed_packages,
    os_summary,
    unit_states,
)

PRIVS = {
    "database": ["CONNECT", "CREATE", "TEMPORARY"],
    "schema": ["USAGE", "CREATE"],
    "table": ["SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"],
    "sequence": ["USAGE", "SELECT", "UPDATE"],
}
FLAGS = ["superuser", "createdb", "createrole", "replication", "bypassrls"]
ACL_KIND = {"database": "d", "schema": "n", "table": "r", "sequence": "s"}


def literal(value):
    return "'" + str(value).replace("'", "''") + "'"


def memory_mb():
    total = 0
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemTotal:"):
                    total = int(line.split()[1]) // 1024
    except OSError:
        pass
    try:
        with open("/sys/fs/cgroup/memory.max", encoding="ascii") as handle:
            limit = handle.read().strip()
        if limit.isdigit():
            total = min(total, int(limit) // (1024 * 1024)) if total else int(limit) // (1024 * 1024)
    except OSError:
        pass
    return total


def addresses(module):
    rc, out, _err = module.run_command(["ip", "-j", "addr", "show", "scope", "global"])
    if rc != 0:
        return []
    found = {4: [], 6: []}
    try:
        links = json.loads(out or "[]")
    except ValueError:
        return []
    for link in links:
        for info in link.get("addr_info", []):
            family = 4 if info.get("family") == "inet" else 6
            if info.get("local"):
                found[family].append(info["local"])
    return found[4] + found[6]


def scram_matches(verifier, password):
    """Whether a stored SCRAM-SHA-256 verifier was made from password (RFC 5802/7677)."""
    try:
        method, rest = verifier.split("$", 1)
        iter_salt, keys = rest.split("$", 1)
        iterations, salt = iter_salt.split(":", 1)
        stored_key, _server_key = keys.split(":", 1)
        if method != "SCRAM-SHA-256":
            return False
        salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(salt), int(iterations))
        client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
        return hmac.compare_digest(hashlib.sha256(client_key).digest(), base64.b64decode(stored_key))
    except (ValueError, TypeError, AttributeError):
        return False


class Psql:
    def __init__(self, module, port, socket_dir="/var/run/postgresql"):
        self.module = module
        self.port = port
        self.socket_dir = socket_dir

    def query(self, sql, database="postgres", check=True):
        args = [
            "runuser", "-u", "postgres", "--", "psql", "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1",
            "-h", self.socket_dir, "-p", str(self.port), "-d", database, "-c", sql,
        ]  # fmt: skip
        rc, out, err = self.module.run_command(args, environ_update={"PGCONNECT_TIMEOUT": "5", "LC_ALL": "C"})
        if rc != 0:
            if check:
                self.module.fail_json(msg=f"psql on database {database!r} failed: {err.strip()}")
            return None
        return out.strip()

    def batch(self, steps, check=True):
        """Run (database, sql) steps - each one value - in one psql process; their outputs, or None."""
        if not steps:
            return []
        args = [
            "runuser", "-u", "postgres", "--", "psql", "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1",
            "-h", self.socket_dir, "-p", str(self.port), "-d", steps[0][0],
        ]  # fmt: skip
        current = steps[0][0]
        for database, sql in steps:
            if database != current:
                args += ["-c", "\\connect " + literal(database)]
                current = database
            args += ["-c", f"SELECT replace(({sql})::text, chr(10), ' ')"]
        rc, out, err = self.module.run_command(args, environ_update={"PGCONNECT_TIMEOUT": "5", "LC_ALL": "C"})
        lines = out.splitlines()
        if rc != 0 or len(lines) != len(steps):
            if check:
                self.module.fail_json(msg=f"psql failed: {err.strip() or out.strip()}")
            return None
        return lines

    def json(self, sql, database="postgres"):
        out = self.query(sql, database)
        return json.loads(out) if out else None


def privilege_sql(entry, server_version_num):
    kind = entry.get("type", "database")
    if kind not in PRIVS:
        return None
    expected = list(PRIVS[kind])
    if kind == "table" and server_version_num >= 170000:
        expected.append("MAINTAIN")
    privs = []
    for priv in entry.get("privs") or []:
        privs.extend(expected if priv.upper() == "ALL" else [priv.upper()])
    privs = sorted(set(privs))
    roles = entry.get("roles") or []
    grantees = ", ".join(
        "0" if r.upper() == "PUBLIC" else f"(SELECT oid FROM pg_roles WHERE rolname = {literal(r)})"
        for r in roles
    )
    objs = entry.get("objs") or []
    need = f"ARRAY[{', '.join(literal(p) for p in privs)}]::text[]"
    if kind == "database":
        objs = objs or [entry.get("database")]
        source = (
            "SELECT oid, coalesce(datacl, acldefault('d', datdba)) AS acl FROM pg_database "
            f"WHERE datname IN ({', '.join(literal(o) for o in objs)})"
        )
        count = len(objs)
    elif kind == "schema":
        source = (
            "SELECT oid, coalesce(nspacl, acldefault('n', nspowner)) AS acl FROM pg_namespace "
            f"WHERE nspname IN ({', '.join(literal(o) for o in objs)})"
        )
        count = len(objs)
    else:
        relkinds = "'r','p','v','m','f'" if kind == "table" else "'S'"
        schema = entry.get("schema") or "public"
        where = f"n.nspname = {literal(schema)} AND c.relkind IN ({relkinds})"
        if objs and objs != ["ALL_IN_SCHEMA"]:
            where += f" AND c.relname IN ({', '.join(literal(o) for o in objs)})"
            count = len(objs)
        else:
            count = None
        source = (
            f"SELECT c.oid, coalesce(c.relacl, acldefault('{ACL_KIND[kind]}', c.relowner)) AS acl "
            f"FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {where}"
        )
    have_all = (
        f"bool_and(({need}) <@ ARRAY(SELECT a.privilege_type FROM aclexplode(o.acl) a "
        f"WHERE a.grantee = g.id))"
    )
    sql = (
        f"WITH o AS ({source}), g AS (SELECT unnest(ARRAY[{grantees}]) AS id) "
        f"SELECT coalesce(bool_and(g.id IS NOT NULL), false) "
        f"AND coalesce((SELECT {have_all} FROM o CROSS JOIN g), true) "
    )
    if count is not None:
        sql += f"AND (SELECT count(*) FROM o) = {count} "
    return sql + "FROM g"


def main():
    module = AnsibleModule(
        argument_spec={
            "version": {"type": "str", "default": ""},
            "versions": {"type": "dict", "default": {}},
            "cluster": {"type": "str", "default": "main"},
            "port": {"type": "int", "default": 5432},
            "packages": {"type": "list", "elements": "str", "default": []},
            "units": {"type": "list", "elements": "str", "default": []},
            "paths": {"type": "list", "elements": "str", "default": []},
            "databases": {"type": "list", "elements": "str", "default": []},
            "passwords": {"type": "dict", "default": {}, "no_log": True},
            "privileges": {"type": "list", "elements": "dict", "default": []},
            "primary": {"type": "dict", "default": {}},
            "table_checksums": {"type": "bool", "default": False},
        },
        supports_check_mode=True,
    )
    params = module.params
    os_info = os_summary()
    version = str(params["version"] or params["versions"].get(os_info["version"], "") or "")

    def sub(items):
        return [item.replace("@VERSION@", version) for item in items]

    result = {
        "changed": False,
        "os": os_info,
        "version": version,
        "container": in_container(),
        "memory_mb": memory_mb(),
        "cpus": len(os.sched_getaffinity(0)),
        "addresses": addresses(module),
        "packages": installed_packages(sub(params["packages"])),
        "units": unit_states(module, sub(params["units"])),
        "paths": {path: os.path.lexists(path) for path in sub(params["paths"])},
        "cluster": {"exists": False, "running": False, "in_recovery": False, "data_checksums": False,
                    "pending_restart": [], "server_version_num": 0, "data_directory": ""},
        "roles": {},
        "databases": {},
        "slots": [],
        "privileges_missing": [],
        "primary": {},
    }  # fmt: skip

    primary = params["primary"]
    if primary.get("host"):
        port = int(primary.get("port") or 5432)
        info = {"host": primary["host"], "port": port, "reachable": False, "error": ""}
        try:
            with socket.create_connection((primary["host"], port), timeout=3):
                info["reachable"] = True
        except OSError as error:
            info["error"] = str(error)
        result["primary"] = info

    data_dir = f"/var/lib/postgresql/{version}/{params['cluster']}"
    result["cluster"]["data_directory"] = data_dir
    result["cluster"]["exists"] = bool(version) and os.path.exists(os.path.join(data_dir, "PG_VERSION"))
    psql = Psql(module, params["port"])
    server_package = "postgresql-" + version
    if result["cluster"]["exists"] and server_package in installed_packages([server_package]):
        collect(module, psql, params, result)
    module.exit_json(**result)


PROBE = (
    "SELECT json_build_object('in_recovery', pg_is_in_recovery(),"
    " 'data_checksums', current_setting('data_checksums') = 'on',"
    " 'server_version_num', current_setting('server_version_num')::int,"
    " 'pending_restart', ARRAY(SELECT name FROM pg_settings WHERE pending_restart ORDER BY name))"
)
ROLES = (
    "SELECT coalesce(json_object_agg(r.rolname, json_build_object('login', r.rolcanlogin,"
    " 'superuser', r.rolsuper, 'replication', r.rolreplication, 'createdb', r.rolcreatedb,"
    " 'createrole', r.rolcreaterole, 'bypassrls', r.rolbypassrls, 'verifier', r.rolpassword,"
    " 'member_of', ARRAY(SELECT b.rolname"
    " FROM pg_auth_members m JOIN pg_roles b ON b.oid = m.roleid WHERE m.member = r.oid ORDER BY 1))),"
    " '{}') FROM pg_authid r WHERE r.rolname !~ '^pg_'"
)
DATABASES = (
    "SELECT coalesce(json_object_agg(datname, json_build_object('owner', pg_get_userbyid(datdba))), '{}')"
    " FROM pg_database WHERE NOT datistemplate"
)
SLOTS = "SELECT coalesce(json_agg(slot_name ORDER BY slot_name), '[]') FROM pg_replication_slots"
DATABASE_OBJECTS = (
    "SELECT json_build_object('extensions', (SELECT coalesce("
    "json_object_agg(extname, extversion), '{}') FROM pg_extension),"
    " 'schemas', (SELECT coalesce(json_object_agg(nspname,"
    " pg_get_userbyid(nspowner)), '{}') FROM pg_namespace WHERE nspname !~ '^pg_'"
    " AND nspname <> 'information_schema'))"
)


def collect(module, psql, params, result):
    """Everything in two psql processes: the cluster-wide reads, then the reads per database."""
    first = psql.batch([("postgres", q) for q in (PROBE, ROLES, DATABASES, SLOTS)], check=False)
    if first is None:
        return
    probe, roles, databases, slots = (json.loads(line) for line in first)
    result["cluster"].update(probe, running=True)
    passwords = params["passwords"]
    for name, info in roles.items():
        verifier = info.pop("verifier") or ""
        info["attributes"] = [flag.upper() for flag in FLAGS if info[flag]]
        if name in passwords:
            info["password_ok"] = scram_matches(verifier, str(passwords[name]))
    result["roles"] = roles
    result["databases"] = databases
    result["slots"] = slots
    steps, keys = [], []
    for database in params["databases"]:
        if database in databases:
            steps.append((database, DATABASE_OBJECTS))
            keys.append(("objects", database))
    for index, entry in enumerate(params["privileges"]):
        sql = privilege_sql(entry, probe["server_version_num"])
        if sql is None:
            kind = entry.get("type")
            module.fail_json(msg=f"privileges[{index}]: type {kind!r} is not one of {sorted(PRIVS)}")
        database = entry.get("database") or "postgres"
        if database not in databases:
            result["privileges_missing"].append(index)
            continue
        steps.append((database, sql))
        keys.append(("privilege", index))
    # Grouped by database, so that psql connects to each one once.
    order = sorted(range(len(steps)), key=lambda i: steps[i][0])
    outputs = psql.batch([steps[i] for i in order])
    for i, output in zip(order, outputs, strict=True):
        kind, key = keys[i]
        if kind == "objects":
            databases[key].update(json.loads(output))
        elif output not in ("t", "true"):
            result["privileges_missing"].append(key)
    result["privileges_missing"].sort()
    if params["table_checksums"]:
        result["tables"] = table_checksums(psql, databases)


def table_checksums(psql, databases):
    tables = {}
    for database in sorted(databases):
        names = psql.json(
            "SELECT coalesce(json_agg(format('%I.%I', n.nspname, c.relname) ORDER BY 1), '[]')"
            " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p')"
            " AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'",
            database,
        )
        if not names:
            continue
        parts = [
            f"SELECT {literal(name)} AS t, count(*) AS rows, coalesce(md5(string_agg(md5(x::text), ''"
            f" ORDER BY md5(x::text))), '') AS md5 FROM {name} x"
            for name in names
        ]
        rows = psql.json(f"SELECT json_agg(s) FROM ({' UNION ALL '.join(parts)}) s", database)
        for row in rows or []:
            tables[f"{database}.{row['t']}"] = {"rows": row["rows"], "md5": row["md5"]}
    return tables


if __name__ == "__main__":
    main()
