#!/usr/bin/python
# Copyright: eightfold.devops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# ruff: noqa: E402 - Ansible modules import after DOCUMENTATION, EXAMPLES and RETURN

from __future__ import annotations

DOCUMENTATION = r"""
---
module: postgresql_state
short_description: Read a Debian PostgreSQL host and its cluster in one call, and what is to do there
version_added: 0.1.0
description:
  - Reads, without changing anything, what the C(eightfold.devops.postgresql) role decides on - the Debian
    release, memory and CPUs, the host's addresses, installed packages, systemd units, paths and files, the
    cluster (exists, running, in recovery, data checksums, when it last loaded its configuration files, the
    settings waiting for a restart, errors PostgreSQL finds in its configuration files), its roles,
    databases, schemas, extensions and replication slots, whether given passwords and privileges are
    already in place, and whether a replication primary answers on its port.
  - "Says what is to do: RV(todo) lists the wanted objects (O(users), O(databases), O(schemas),
    O(extensions), O(privileges), O(slots)) that are missing or different, and RV(problems) the input only
    the host can refuse - a major version its package sources do not have, an owner or a member_of role
    that does not exist, an extension the server does not ship, a schedule systemd cannot parse."
  - "The result is also a read for M(eightfold.devops.converge): RV(files), RV(units) and RV(covers) are
    those of M(eightfold.devops.host_state), and the cluster unit's C(since) is the moment PostgreSQL last
    loaded its configuration files (C(pg_conf_load_time())), so that a file newer than that is reloaded -
    also when the run that wrote it was killed before the reload."
  - One call replaces fact gathering, a package and a service lookup and one C(community.postgresql) call
    per object, which is what makes an unchanged run of the role fast.
  - Queries run with C(psql) as the C(postgres) operating system user over the local socket (peer
    authentication); the module itself runs as root.
author: eightfold.devops maintainers (@eightfold)
options:
  version:
    description:
      - PostgreSQL major version of the cluster. When empty, taken from O(versions) by release.
      - A version given here that is neither installed nor known to apt is reported in RV(problems), with
        the versions apt knows.
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
  files:
    description:
      - Absolute paths read as M(eightfold.devops.host_state) reads its
        O(eightfold.devops.host_state#module:files) (type, mode, owner, group, modification time, SHA-256);
        C(@VERSION@) is replaced by the version.
      - Errors PostgreSQL reports in these files are left out of RV(problems) - the caller replaces them.
    type: list
    elements: str
    default: []
  file_attributes:
    description: Like O(files), without the content hash.
    type: list
    elements: str
    default: []
  users:
    description:
      - Wanted roles. The result tells in RV(todo) which are missing or differ (login, attributes, the
        password - checked against the stored SCRAM-SHA-256 verifier, never returned) and which lack a
        membership.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Role name.
        type: str
        required: true
      password:
        description: Its password (never logged nor returned).
        type: str
      login:
        description: LOGIN or NOLOGIN.
        type: bool
        default: true
      attributes:
        description:
          - Role attributes (SUPERUSER, CREATEDB, CREATEROLE, REPLICATION, BYPASSRLS); the rest unwanted.
        type: list
        elements: str
        default: []
      member_of:
        description: Roles it is to be a member of.
        type: list
        elements: str
        default: []
  databases:
    description: Wanted databases (C(name), C(owner)); their schemas and extensions are read when needed.
    type: list
    elements: dict
    default: []
  schemas:
    description: Wanted schemas (C(name), C(database), C(owner)).
    type: list
    elements: dict
    default: []
  extensions:
    description: Wanted extensions (C(name), C(database)).
    type: list
    elements: dict
    default: []
  privileges:
    description:
      - Grants to check, each with C(database), C(roles) (list), C(type) (database, schema, table or
        sequence), C(objs) (list; C(ALL_IN_SCHEMA) for every table or sequence of C(schema)), C(schema) and
        C(privs) (list, C(ALL) allowed). The result lists the indexes of the entries not fully granted.
    type: list
    elements: dict
    default: []
  slots:
    description: Wanted replication slots.
    type: list
    elements: str
    default: []
  calendars:
    description:
      - systemd calendar expressions to check (C(systemd-analyze calendar)), by name; one that systemd cannot
        parse is reported in RV(problems) under its name.
    type: dict
    default: {}
  primary:
    description: Host and port of a replication primary to probe with a TCP connection (C({host, port})).
    type: dict
    default: {}
  prefix:
    description:
      - Put before the option names RV(problems) start with, so that a role's messages name its variables
        (V(postgresql_) makes C(databases[0]) C(postgresql_databases[0])).
    type: str
    default: ""
  wait_reload:
    description:
      - Wait (up to 30 seconds) until the running server has loaded the O(files) and O(file_attributes) -
        until C(pg_conf_load_time()) is later than the newest of them - before reading it, so that
        C(pending_restart) tells what a reload just sent left to a restart; fail when it has not by then.
        Not in check mode.
    type: bool
    default: false
  fail_on_config_errors:
    description:
      - Fail, naming them, when the running server finds errors in its configuration files
        (C(pg_file_settings)) or in C(pg_hba.conf) (C(pg_hba_file_rules)), the role's own files included.
    type: bool
    default: false
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
- name: Read the PostgreSQL host and what is to do there
  eightfold.devops.postgresql_state:
    versions: {"12": "15", "13": "17"}
    packages: [postgresql-@VERSION@]
    units: [postgresql@@VERSION@-main.service]
    files: [/etc/postgresql/@VERSION@/main/conf.d/50-eightfold.conf]
    users: [{name: app, password: "{{ app_password }}"}]
    databases: [{name: app, owner: app}]
  register: pg
  no_log: true

- name: Create the database when it is missing
  community.postgresql.postgresql_db:
    name: app
    owner: app
  become: true
  become_user: postgres
  when: "'app' in pg.todo.databases"
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
versions_available:
  description: The PostgreSQL server versions apt knows, when O(version) names one that is not installed.
  returned: always
  type: list
  elements: str
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
  description:
    - For each requested unit, as M(eightfold.devops.host_state) reports it (C(enabled), C(active),
      C(loaded), C(since), C(need_daemon_reload), C(can_reload)).
    - For the cluster's unit, C(since) is C(pg_conf_load_time()) while the server answers.
  returned: always
  type: dict
paths:
  description: For each requested path (after substitution), whether it exists.
  returned: always
  type: dict
files:
  description:
    - For each path of O(files) and O(file_attributes) (after substitution), as M(eightfold.devops.host_state)
      reads it.
  returned: always
  type: dict
covers:
  description:
    - What this read looked at, for M(eightfold.devops.converge) - C(packages), C(units), C(files),
      C(file_attributes), after substitution.
  returned: always
  type: dict
applied:
  description:
    - When each command of M(eightfold.devops.units) last ran, as M(eightfold.devops.host_state) reports it.
  returned: always
  type: dict
cluster:
  description:
    - C(exists) (PG_VERSION in the data directory), C(configured) (its postgresql.conf exists), C(running)
      (answers a query), C(in_recovery), C(data_checksums), C(pending_restart) (names of settings),
      C(conf_load_time) (seconds since the epoch), C(config_errors) (C({file, line, error}) from
      pg_file_settings, without the settings that only wait for a restart), C(hba_errors) (from
      pg_hba_file_rules), C(server_version_num), C(data_directory).
  returned: always
  type: dict
roles:
  description: Roles (not C(pg_*)) with C(login), C(superuser), C(replication), C(createdb), C(createrole),
    C(member_of) and, for roles given in O(users) with a password, C(password_ok).
  returned: always
  type: dict
databases:
  description: Non-template databases with C(owner) and, for those O(schemas) or O(extensions) name,
    C(extensions) (name to version) and C(schemas) (name to owner).
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
todo:
  description:
    - What is missing or different - C(users) and C(memberships) (role names), C(databases) (names),
      C(schemas), C(extensions) and C(privileges) (indexes into the options), C(slots) (names) - and C(any).
    - Everything wanted when the cluster does not answer (not created yet, or stopped).
  returned: always
  type: dict
  sample: {users: [app], memberships: [], databases: [app], schemas: [0], extensions: [], privileges: [0],
           slots: [], any: true}
problems:
  description:
    - What the host will refuse, one message each, naming the option (and its entry) first, after O(prefix);
      and errors the running server finds in configuration files other than O(files) and O(file_attributes).
  returned: always
  type: list
  elements: str
  sample: ["databases[0] (app): owner 'nobody' is neither a role of the cluster nor one of users"]
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
import re
import socket
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.eightfold.devops.plugins.module_utils._host import (
    applied_commands,
    file_state,
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
SERVER_PACKAGE = re.compile(r"^postgresql-([0-9]+)$")
RELOAD_WAIT = 30.0


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


def server_versions(names):
    """The PostgreSQL server major versions among package names (postgresql-15), in numeric order."""
    found = {match.group(1) for match in map(SERVER_PACKAGE.match, names) if match}
    return sorted(found, key=int)


def release_name(os_info):
    name = f"{os_info.get('id', '').capitalize() or 'this release'} {os_info.get('version', '')}".strip()
    return name + (f" ({os_info['codename']})" if os_info.get("codename") else "")


def version_problem(version, available, os_info):
    """A message when apt knows server packages but not this version's; None when it is fine or unknown."""
    if not available or version in available:
        return None
    return (
        f"version: PostgreSQL {version} is not available on {release_name(os_info)}: its package sources "
        f"have PostgreSQL {', '.join(available)}"
    )


def calendar_problems(module, calendars):
    """One message per calendar expression systemd-analyze cannot parse."""
    if not calendars:
        return []
    analyze = module.get_bin_path("systemd-analyze")
    if analyze is None:
        return []
    names = sorted(calendars)
    rc, _out, _err = module.run_command(
        [analyze, "calendar", *[str(calendars[name]) for name in names]], environ_update={"LC_ALL": "C"}
    )
    if rc == 0:
        return []
    problems = []
    for name in names:
        rc, _out, err = module.run_command(
            [analyze, "calendar", str(calendars[name])], environ_update={"LC_ALL": "C"}
        )
        if rc != 0:
            detail = err.strip().splitlines()[-1] if err.strip() else f"systemd-analyze exited {rc}"
            problems.append(f"{name}: {calendars[name]!r} is not a systemd calendar expression ({detail})")
    return problems


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


def wanted_flags(attributes):
    """Role attributes in the order the read reports them (SUPERUSER, CREATEDB, ...)."""
    upper = {str(a).upper() for a in attributes or []}
    return [flag.upper() for flag in FLAGS if flag.upper() in upper]


def objects_todo(wanted, read):
    """What is to do for the wanted objects, from what the read found.

    wanted: users, databases, schemas, extensions, privileges (entries as the options take them), slots.
    read: running, roles, databases (with schemas and extensions where read), slots, privileges_missing.
    Everything is to do when the cluster does not answer.
    """
    users = wanted.get("users") or []
    todo = {
        "users": [],
        "memberships": [],
        "databases": [],
        "schemas": [],
        "extensions": [],
        "privileges": [],
        "slots": [],
    }
    if not read.get("running"):
        todo["users"] = [u["name"] for u in users]
        todo["memberships"] = [u["name"] for u in users if u.get("member_of")]
        todo["databases"] = [d["name"] for d in wanted.get("databases") or []]
        for key in ("schemas", "extensions", "privileges"):
            todo[key] = list(range(len(wanted.get(key) or [])))
        todo["slots"] = list(wanted.get("slots") or [])
    else:
        roles, databases = read.get("roles") or {}, read.get("databases") or {}
        for user in users:
            role = roles.get(user["name"])
            if (
                role is None
                or role.get("login") != user.get("login", True)
                or not role.get("password_ok", True)
                or role.get("attributes") != wanted_flags(user.get("attributes"))
            ):
                todo["users"].append(user["name"])
            if set(user.get("member_of") or []) - set((role or {}).get("member_of") or []):
                todo["memberships"].append(user["name"])
        for database in wanted.get("databases") or []:
            found = databases.get(database["name"])
            if found is None or found.get("owner") != (database.get("owner") or "postgres"):
                todo["databases"].append(database["name"])
        for index, schema in enumerate(wanted.get("schemas") or []):
            found = (databases.get(schema.get("database")) or {}).get("schemas") or {}
            if found.get(schema["name"]) != (schema.get("owner") or "postgres"):
                todo["schemas"].append(index)
        for index, extension in enumerate(wanted.get("extensions") or []):
            found = (databases.get(extension.get("database")) or {}).get("extensions") or {}
            if extension["name"] not in found:
                todo["extensions"].append(index)
        todo["privileges"] = sorted(read.get("privileges_missing") or [])
        existing = set(read.get("slots") or [])
        todo["slots"] = [slot for slot in wanted.get("slots") or [] if slot not in existing]
    todo["any"] = any(todo.values())
    return todo


def object_problems(wanted, read):
    """The wanted objects the cluster would refuse: roles and databases that do not exist and are not
    wanted, extensions the server does not ship. Judged only with full knowledge: a running cluster, or
    none yet (then only postgres exists)."""
    if read.get("running"):
        roles = set(read.get("roles") or {}) | set(read.get("builtin_roles") or [])
        databases = set(read.get("databases") or {})
        available = read.get("available_extensions")
    elif not read.get("exists"):
        roles, databases, available = {"postgres"}, {"postgres"}, None
    else:
        return []
    users = wanted.get("users") or []
    roles |= {u["name"] for u in users}
    databases |= {d["name"] for d in wanted.get("databases") or []}

    def known_role(name):
        # Built-in roles (pg_monitor, ...) of a cluster not read yet are taken as existing.
        return name in roles or (name.startswith("pg_") and not read.get("running"))

    problems = []
    for index, user in enumerate(users):
        for name in user.get("member_of") or []:
            if not known_role(name):
                problems.append(
                    f"users[{index}] ({user['name']}): member_of {name!r} is neither a role of the cluster "
                    "nor one of users"
                )
    for index, database in enumerate(wanted.get("databases") or []):
        owner = database.get("owner") or "postgres"
        if not known_role(owner):
            problems.append(
                f"databases[{index}] ({database['name']}): owner {owner!r} is neither a role of the cluster "
                "nor one of users"
            )
    for key in ("schemas", "extensions", "privileges"):
        for index, entry in enumerate(wanted.get(key) or []):
            label = f"{key}[{index}]" + (f" ({entry['name']})" if entry.get("name") else "")
            database = entry.get("database") or "postgres"
            if database not in databases:
                problems.append(
                    f"{label}: database {database!r} is neither in the cluster nor one of databases"
                )
            owner = entry.get("owner") if key == "schemas" else None
            if owner and not known_role(owner):
                problems.append(f"{label}: owner {owner!r} is neither a role of the cluster nor one of users")
            grantees = entry.get("roles") or [] if key == "privileges" else []
            for role in grantees:
                if role.upper() != "PUBLIC" and not known_role(role):
                    problems.append(
                        f"{label}: role {role!r} is neither a role of the cluster nor one of users"
                    )
            if key == "extensions" and available is not None and entry["name"] not in available:
                problems.append(
                    f"{label}: the server has no extension {entry['name']!r} (pg_available_extensions)"
                )
    return problems


def config_problems(errors, own_files):
    """Errors in the server's configuration files that are not in files the caller replaces anyway."""
    return [
        f"the configuration of the running cluster has an error in {e.get('file') or '?'} line "
        f"{e.get('line') or '?'}: {e.get('error')}; fix it first (nothing was changed)"
        for e in errors
        if e.get("file") not in own_files
    ]


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
            "files": {"type": "list", "elements": "str", "default": []},
            "file_attributes": {"type": "list", "elements": "str", "default": []},
            "users": {
                "type": "list",
                "elements": "dict",
                "default": [],
                "options": {
                    "name": {"type": "str", "required": True},
                    "password": {"type": "str", "no_log": True},
                    "login": {"type": "bool", "default": True},
                    "attributes": {"type": "list", "elements": "str", "default": []},
                    "member_of": {"type": "list", "elements": "str", "default": []},
                },
            },
            "databases": {"type": "list", "elements": "dict", "default": []},
            "schemas": {"type": "list", "elements": "dict", "default": []},
            "extensions": {"type": "list", "elements": "dict", "default": []},
            "privileges": {"type": "list", "elements": "dict", "default": []},
            "slots": {"type": "list", "elements": "str", "default": []},
            "calendars": {"type": "dict", "default": {}},
            "primary": {"type": "dict", "default": {}},
            "prefix": {"type": "str", "default": ""},
            "wait_reload": {"type": "bool", "default": False},
            "fail_on_config_errors": {"type": "bool", "default": False},
            "table_checksums": {"type": "bool", "default": False},
        },
        supports_check_mode=True,
    )
    params = module.params
    for key in ("databases", "schemas", "extensions"):
        for index, entry in enumerate(params[key]):
            if not entry.get("name") or (key != "databases" and not entry.get("database")):
                needs = "name" if key == "databases" else "name and database"
                module.fail_json(msg=f"{key}[{index}]: {entry!r} needs {needs}")
    os_info = os_summary()
    version = str(params["version"] or params["versions"].get(os_info["version"], "") or "")

    def sub(items):
        return [item.replace("@VERSION@", version) for item in items]

    files, file_attributes = sub(params["files"]), sub(params["file_attributes"])
    for path in files + file_attributes:
        if not os.path.isabs(path):
            module.fail_json(msg=f"files and file_attributes must be absolute: {path}")
    covers = {
        "packages": sub(params["packages"]),
        "units": sub(params["units"]),
        "files": files,
        "file_attributes": file_attributes,
    }
    result = {
        "changed": False,
        "os": os_info,
        "version": version,
        "versions_available": [],
        "container": in_container(),
        "memory_mb": memory_mb(),
        "cpus": len(os.sched_getaffinity(0)),
        "addresses": addresses(module),
        "packages": installed_packages(covers["packages"]),
        "units": unit_states(module, covers["units"]),
        "paths": {path: os.path.lexists(path) for path in sub(params["paths"])},
        "files": {
            **{path: file_state(path, digest=False) for path in file_attributes},
            **{path: file_state(path) for path in files},
        },
        "covers": covers,
        "applied": applied_commands(),
        "cluster": {"exists": False, "configured": False, "running": False, "in_recovery": False,
                    "data_checksums": False, "pending_restart": [], "conf_load_time": 0.0,
                    "config_errors": [], "hba_errors": [], "server_version_num": 0, "data_directory": ""},
        "roles": {},
        "databases": {},
        "slots": [],
        "privileges_missing": [],
        "primary": {},
        "problems": [],
    }  # fmt: skip

    server_package = "postgresql-" + version
    installed = bool(version) and server_package in installed_packages([server_package])
    if params["version"] and not installed:
        apt_cache = module.get_bin_path("apt-cache")
        if apt_cache:
            _rc, out, _err = module.run_command(
                [apt_cache, "pkgnames", "postgresql-"], environ_update={"LC_ALL": "C"}
            )
            result["versions_available"] = server_versions(out.split())
        problem = version_problem(version, result["versions_available"], os_info)
        if problem:
            result["problems"].append(problem)
    result["problems"].extend(calendar_problems(module, params["calendars"]))

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

    cluster = result["cluster"]
    data_dir = f"/var/lib/postgresql/{version}/{params['cluster']}"
    cluster["data_directory"] = data_dir
    cluster["exists"] = bool(version) and os.path.exists(os.path.join(data_dir, "PG_VERSION"))
    cluster["configured"] = bool(version) and os.path.exists(
        f"/etc/postgresql/{version}/{params['cluster']}/postgresql.conf"
    )
    psql = Psql(module, params["port"])
    server = {}
    if cluster["exists"] and installed:
        waited = params["wait_reload"] and not module.check_mode
        if waited and not wait_for_reload(psql, files + file_attributes):
            module.fail_json(
                msg=f"the server did not load its configuration files within {RELOAD_WAIT:.0f} s "
                "(pg_conf_load_time() is older than the newest of them, or the server does not answer)"
            )
        server = collect(module, psql, params, result)
    unit = f"postgresql@{version}-{params['cluster']}.service"
    if cluster["running"] and unit in result["units"]:
        result["units"][unit]["since"] = cluster["conf_load_time"]

    read = dict(cluster, roles=result["roles"], databases=result["databases"], slots=result["slots"],
                privileges_missing=result["privileges_missing"], **server)  # fmt: skip
    wanted = {
        key: params[key] for key in ("users", "databases", "schemas", "extensions", "privileges", "slots")
    }
    result["todo"] = objects_todo(wanted, read)
    result["problems"].extend(object_problems(wanted, read))
    result["problems"] = [params["prefix"] + problem for problem in result["problems"]]
    result["problems"].extend(config_problems(cluster["config_errors"], set(files + file_attributes)))
    if params["fail_on_config_errors"] and (cluster["config_errors"] or cluster["hba_errors"]):
        found = [f"{e.get('file')} line {e.get('line')}: {e.get('error')}" for e in cluster["config_errors"]]
        found += [f"pg_hba.conf {e}" for e in cluster["hba_errors"]]
        module.fail_json(
            msg="PostgreSQL refuses its configuration files (it keeps running on the settings it could "
            f"apply and on its previous pg_hba.conf rules): {'; '.join(found)}",
            **result,
        )
    module.exit_json(**result)


PROBE = (
    "SELECT json_build_object('in_recovery', pg_is_in_recovery(),"
    " 'data_checksums', current_setting('data_checksums') = 'on',"
    " 'server_version_num', current_setting('server_version_num')::int,"
    " 'pending_restart', ARRAY(SELECT name FROM pg_settings WHERE pending_restart ORDER BY name),"
    " 'conf_load_time', extract(epoch FROM pg_conf_load_time())::float8,"
    " 'config_errors', (SELECT coalesce(json_agg(json_build_object('file', sourcefile, 'line', sourceline,"
    " 'error', error) ORDER BY seqno), '[]') FROM pg_file_settings"
    " WHERE error IS NOT NULL AND error <> 'setting could not be applied'),"
    " 'hba_errors', ARRAY(SELECT 'line ' || line_number || ': ' || error FROM pg_hba_file_rules"
    " WHERE error IS NOT NULL ORDER BY line_number))"
)
LOAD_TIME = "SELECT extract(epoch FROM pg_conf_load_time())::float8"
ROLES = (
    "SELECT coalesce(json_object_agg(r.rolname, json_build_object('login', r.rolcanlogin,"
    " 'superuser', r.rolsuper, 'replication', r.rolreplication, 'createdb', r.rolcreatedb,"
    " 'createrole', r.rolcreaterole, 'bypassrls', r.rolbypassrls, 'verifier', r.rolpassword,"
    " 'member_of', ARRAY(SELECT b.rolname"
    " FROM pg_auth_members m JOIN pg_roles b ON b.oid = m.roleid WHERE m.member = r.oid ORDER BY 1))),"
    " '{}') FROM pg_authid r WHERE r.rolname !~ '^pg_'"
)
BUILTIN_ROLES = (
    "SELECT coalesce(json_agg(rolname ORDER BY rolname), '[]') FROM pg_roles WHERE rolname ~ '^pg_'"
)
DATABASES = (
    "SELECT coalesce(json_object_agg(datname, json_build_object('owner', pg_get_userbyid(datdba))), '{}')"
    " FROM pg_database WHERE NOT datistemplate"
)
SLOTS = "SELECT coalesce(json_agg(slot_name ORDER BY slot_name), '[]') FROM pg_replication_slots"
EXTENSIONS = "SELECT coalesce(json_agg(name ORDER BY name), '[]') FROM pg_available_extensions"
DATABASE_OBJECTS = (
    "SELECT json_build_object('extensions', (SELECT coalesce("
    "json_object_agg(extname, extversion), '{}') FROM pg_extension),"
    " 'schemas', (SELECT coalesce(json_object_agg(nspname,"
    " pg_get_userbyid(nspowner)), '{}') FROM pg_namespace WHERE nspname !~ '^pg_'"
    " AND nspname <> 'information_schema'))"
)


def newest_mtime(paths):
    times = [os.stat(path).st_mtime for path in paths if os.path.exists(path)]
    return max(times) if times else 0.0


def wait_for_reload(psql, paths, timeout=RELOAD_WAIT, clock=time.monotonic, sleep=time.sleep):
    """Until the server has loaded the files (pg_conf_load_time later than the newest), or timeout."""
    newest = newest_mtime(paths)
    deadline = clock() + timeout
    while True:
        loaded = psql.query(LOAD_TIME, check=False)
        try:
            if loaded is not None and float(loaded) >= newest:
                return True
        except ValueError:
            pass
        if clock() >= deadline:
            return False
        sleep(0.2)


def collect(module, psql, params, result):
    """Everything in two psql processes: the cluster-wide reads, then the reads per database. Returns what
    only the object checks need: the built-in roles and the extensions the server ships."""
    queries = [PROBE, ROLES, BUILTIN_ROLES, DATABASES, SLOTS]
    if params["extensions"]:
        queries.append(EXTENSIONS)
    first = psql.batch([("postgres", q) for q in queries], check=False)
    if first is None:
        return {}
    probe, roles, builtin, databases, slots, *rest = (json.loads(line) for line in first)
    result["cluster"].update(probe, running=True)
    server = {"builtin_roles": builtin, "available_extensions": rest[0] if rest else None}
    passwords = {u["name"]: u["password"] for u in params["users"] if u.get("password") is not None}
    for name, info in roles.items():
        verifier = info.pop("verifier") or ""
        info["attributes"] = [flag.upper() for flag in FLAGS if info[flag]]
        if name in passwords:
            info["password_ok"] = scram_matches(verifier, str(passwords[name]))
    result["roles"] = roles
    result["databases"] = databases
    result["slots"] = slots
    steps, keys = [], []
    wanted = sorted({e["database"] for e in params["schemas"] + params["extensions"]})
    for database in wanted:
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
    return server


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
