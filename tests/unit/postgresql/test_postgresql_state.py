"""eightfold.devops.postgresql_state: SCRAM verifier check, grant SQL, what is to do and what the host would
refuse, waiting for a reload, and a real run on this machine."""

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from ansible_collections.eightfold.devops.plugins.modules import postgresql_state

ROOT = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent

# Made by PostgreSQL 15 (pg_authid.rolpassword) for the password 'app-secret-1'.
VERIFIER = (
    "SCRAM-SHA-256$4096:5mknTTYr957C7D6itl7Dgg==$"
    "4nzFLhpjwJuq8T3PEuw8kcNWyCB2NomIzrFwp7ITNBY=:VuaJsyK53yfpabNWje3QNC9+TVPg0M2uYiZdokXGkIw="
)


def test_scram_verifier_matches_only_its_password():
    assert postgresql_state.scram_matches(VERIFIER, "app-secret-1")
    assert not postgresql_state.scram_matches(VERIFIER, "app-secret-2")
    assert not postgresql_state.scram_matches(VERIFIER, "")


@pytest.mark.parametrize("verifier", ["", "md5abc", "SCRAM-SHA-256$x", "SCRAM-SHA-256$4096:!!$a:b", None])
def test_malformed_or_other_verifiers_never_match(verifier):
    assert not postgresql_state.scram_matches(verifier, "app-secret-1")


def test_grant_sql_expands_all_and_quotes_names():
    entry = {
        "database": "app",
        "roles": ["o'brien"],
        "type": "table",
        "objs": ["ALL_IN_SCHEMA"],
        "privs": ["ALL"],
    }
    sql15 = postgresql_state.privilege_sql(entry, 150000)
    sql17 = postgresql_state.privilege_sql(entry, 170000)
    assert "'o''brien'" in sql15
    assert "'TRUNCATE'" in sql15 and "'MAINTAIN'" not in sql15
    assert "'MAINTAIN'" in sql17
    assert "n.nspname = 'public'" in sql15


def test_grant_sql_for_a_database_counts_the_objects():
    entry = {"database": "app", "roles": ["PUBLIC"], "type": "database", "privs": ["CONNECT"]}
    sql = postgresql_state.privilege_sql(entry, 150000)
    assert "datname IN ('app')" in sql and "= 1" in sql and "unnest(ARRAY[0])" in sql


def test_unknown_grant_type_has_no_sql():
    assert (
        postgresql_state.privilege_sql({"type": "view", "privs": ["SELECT"], "roles": ["a"]}, 150000) is None
    )


def run_module(tmp_path, args):
    playbook = tmp_path / "state.yml"
    playbook.write_text(
        f"""
- hosts: localhost
  gather_facts: false
  vars: {{ansible_connection: local, ansible_python_interpreter: /usr/bin/python3}}
  tasks:
    - name: Read the state
      eightfold.devops.postgresql_state: {json.dumps(args)}
      check_mode: true
      register: state
"""
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update(
        ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".collections"),
        ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json",
        ANSIBLE_FORCE_COLOR="0",
        ANSIBLE_LOCALHOST_WARNING="0",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="0",
    )
    proc = subprocess.run(
        [str(BIN / "ansible-playbook"), "-i", "localhost,", str(playbook)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    data = json.loads(proc.stdout)
    return proc.returncode, data["plays"][0]["tasks"][0]["hosts"]["localhost"]


@pytest.mark.skipif(not Path("/etc/debian_version").exists(), reason="needs a Debian host")
def test_real_run_without_a_cluster(tmp_path):
    release = Path("/etc/os-release").read_text()
    major = next(
        line.split("=", 1)[1].strip('"').split(".")[0]
        for line in release.splitlines()
        if line.startswith("VERSION_ID=")
    )
    conf = tmp_path / "a.conf"
    conf.write_text("x = 1\n")
    rc, result = run_module(
        tmp_path,
        {
            "versions": {major: "99"},
            "packages": ["dpkg", "postgresql-@VERSION@"],
            "paths": [str(tmp_path), "/var/lib/postgresql/@VERSION@/main"],
            "users": [{"name": "app", "password": "secret"}],
            "databases": [{"name": "app", "owner": "app"}],
            "files": [str(conf), "/etc/postgresql/@VERSION@/main/pg_hba.conf"],
            "file_attributes": [str(tmp_path)],
            "primary": {"host": "127.0.0.1", "port": 1},
        },
    )
    assert rc == 0, result
    assert result["changed"] is False
    assert result["os"]["id"] == "debian" and result["version"] == "99"
    assert "dpkg" in result["packages"] and "postgresql-99" not in result["packages"]
    assert result["paths"] == {str(tmp_path): True, "/var/lib/postgresql/99/main": False}
    assert result["cluster"]["exists"] is False and result["cluster"]["running"] is False
    assert result["memory_mb"] > 0 and result["cpus"] >= 1
    assert result["primary"]["reachable"] is False and result["primary"]["error"]
    assert "secret" not in json.dumps(result)
    # A read the converge action takes: files with their hash and mtime, and what it covers.
    assert result["files"][str(conf)]["sha256"] == hashlib.sha256(b"x = 1\n").hexdigest()
    assert result["files"][str(conf)]["mtime"] == conf.stat().st_mtime
    assert result["files"]["/etc/postgresql/99/main/pg_hba.conf"] == {"exists": False}
    assert result["files"][str(tmp_path)]["type"] == "directory"
    assert result["covers"]["files"] == [str(conf), "/etc/postgresql/99/main/pg_hba.conf"]
    assert result["covers"]["packages"] == ["dpkg", "postgresql-99"]
    # No cluster: everything is to do.
    assert result["todo"]["users"] == ["app"] and result["todo"]["databases"] == ["app"]
    assert result["todo"]["any"] is True and result["problems"] == []


def test_an_unknown_version_names_the_ones_apt_has():
    os_info = {"id": "debian", "version": "12", "codename": "bookworm"}
    assert postgresql_state.server_versions(
        ["postgresql-15", "postgresql-client-15", "postgresql-9", "postgresql-16", "postgresql-common"]
    ) == ["9", "15", "16"]
    assert postgresql_state.version_problem("11", ["15"], os_info) == (
        "version: PostgreSQL 11 is not available on Debian 12 (bookworm): "
        "its package sources have PostgreSQL 15"
    )
    assert postgresql_state.version_problem("15", ["15"], os_info) is None
    # apt knows no server package at all (no lists yet): the install says what is wrong, not the read.
    assert postgresql_state.version_problem("11", [], os_info) is None


class FakeModule:
    def __init__(self, results):
        self.results = results
        self.calls = []

    def get_bin_path(self, name, required=False):
        return f"/usr/bin/{name}"

    def run_command(self, argv, environ_update=None):
        self.calls.append(argv)
        return self.results(argv)


def test_calendars_systemd_cannot_parse_are_named():
    def analyze(argv):
        bad = [expression for expression in argv[2:] if expression == "someday"]
        if bad:
            return 1, "", f"Failed to parse calendar specification '{bad[0]}': Invalid argument\n"
        return 0, "Normalized form: ...", ""

    module = FakeModule(analyze)
    calendars = {"backup_full_schedule": "someday", "backup_diff_schedule": "Mon..Sat *-*-* 01:00:00"}
    assert postgresql_state.calendar_problems(module, calendars) == [
        "backup_full_schedule: 'someday' is not a systemd calendar expression "
        "(Failed to parse calendar specification 'someday': Invalid argument)"
    ]
    module = FakeModule(analyze)
    assert postgresql_state.calendar_problems(module, {"a": "daily", "b": "weekly"}) == []
    assert len(module.calls) == 1  # all expressions in one call when they are fine


WANTED = {
    "users": [
        {"name": "app", "password": "p", "login": True, "attributes": [], "member_of": ["pg_monitor"]},
        {"name": "rep", "password": "r", "login": True, "attributes": ["REPLICATION"], "member_of": []},
    ],
    "databases": [{"name": "app", "owner": "app"}, {"name": "other"}],
    "schemas": [{"name": "reporting", "database": "app", "owner": "app"}],
    "extensions": [{"name": "pgcrypto", "database": "app"}],
    "privileges": [{"database": "app", "roles": ["app"], "type": "database", "privs": ["CONNECT"]}],
    "slots": ["db2", "db3"],
}
CONVERGED = {
    "exists": True,
    "running": True,
    "roles": {
        "postgres": {
            "login": True,
            "attributes": ["SUPERUSER", "CREATEDB", "CREATEROLE", "REPLICATION", "BYPASSRLS"],
        },
        "app": {"login": True, "attributes": [], "member_of": ["pg_monitor"], "password_ok": True},
        "rep": {"login": True, "attributes": ["REPLICATION"], "member_of": [], "password_ok": True},
    },
    "builtin_roles": ["pg_monitor", "pg_read_all_data"],
    "databases": {
        "postgres": {"owner": "postgres"},
        "app": {
            "owner": "app",
            "schemas": {"public": "pg_database_owner", "reporting": "app"},
            "extensions": {"plpgsql": "1.0", "pgcrypto": "1.3"},
        },
        "other": {"owner": "postgres"},
    },
    "slots": ["db2", "db3"],
    "privileges_missing": [],
    "available_extensions": ["pgcrypto", "plpgsql"],
}


def test_nothing_to_do_on_a_converged_cluster():
    todo = postgresql_state.objects_todo(WANTED, CONVERGED)
    assert todo == {
        "users": [],
        "memberships": [],
        "databases": [],
        "schemas": [],
        "extensions": [],
        "privileges": [],
        "slots": [],
        "any": False,
    }
    assert postgresql_state.object_problems(WANTED, CONVERGED) == []


def test_what_differs_is_to_do():
    read = json.loads(json.dumps(CONVERGED))
    read["roles"]["app"]["password_ok"] = False
    read["roles"]["app"]["member_of"] = []
    read["roles"]["rep"]["attributes"] = []
    read["databases"]["other"]["owner"] = "app"
    read["databases"]["app"]["schemas"]["reporting"] = "postgres"
    del read["databases"]["app"]["extensions"]["pgcrypto"]
    read["privileges_missing"] = [0]
    read["slots"] = ["db2"]
    todo = postgresql_state.objects_todo(WANTED, read)
    assert todo == {
        "users": ["app", "rep"],
        "memberships": ["app"],
        "databases": ["other"],
        "schemas": [0],
        "extensions": [0],
        "privileges": [0],
        "slots": ["db3"],
        "any": True,
    }


def test_everything_is_to_do_when_the_cluster_does_not_answer():
    todo = postgresql_state.objects_todo(WANTED, {"exists": False, "running": False})
    assert todo == {
        "users": ["app", "rep"],
        "memberships": ["app"],
        "databases": ["app", "other"],
        "schemas": [0],
        "extensions": [0],
        "privileges": [0],
        "slots": ["db2", "db3"],
        "any": True,
    }


def test_owners_roles_databases_and_extensions_the_cluster_lacks_are_named():
    wanted = {
        "users": [{"name": "app", "member_of": ["readers"]}],
        "databases": [{"name": "app", "owner": "nobody"}],
        "schemas": [{"name": "s", "database": "nodb", "owner": "app"}],
        "extensions": [{"name": "nope", "database": "app"}],
        "privileges": [
            {"database": "app", "roles": ["PUBLIC", "ghost"], "privs": ["CONNECT"], "type": "database"}
        ],
    }
    assert postgresql_state.object_problems(wanted, CONVERGED) == [
        "users[0] (app): member_of 'readers' is neither a role of the cluster nor one of users",
        "databases[0] (app): owner 'nobody' is neither a role of the cluster nor one of users",
        "schemas[0] (s): database 'nodb' is neither in the cluster nor one of databases",
        "extensions[0] (nope): the server has no extension 'nope' (pg_available_extensions)",
        "privileges[0]: role 'ghost' is neither a role of the cluster nor one of users",
    ]
    # A fresh cluster has postgres alone; built-in roles are taken as there. A stopped one is not judged.
    fresh = postgresql_state.object_problems(wanted, {"exists": False, "running": False})
    assert fresh[:2] == [
        "users[0] (app): member_of 'readers' is neither a role of the cluster nor one of users",
        "databases[0] (app): owner 'nobody' is neither a role of the cluster nor one of users",
    ]
    assert not any("extension" in line for line in fresh)
    assert postgresql_state.object_problems(wanted, {"exists": True, "running": False}) == []


def test_config_errors_outside_the_callers_files_are_problems():
    errors = [
        {"file": "/etc/postgresql/15/main/conf.d/50-eightfold.conf", "line": 3, "error": "invalid value"},
        {"file": "/etc/postgresql/15/main/postgresql.conf", "line": 12, "error": "syntax error"},
    ]
    assert postgresql_state.config_problems(errors, {"/etc/postgresql/15/main/conf.d/50-eightfold.conf"}) == [
        "the configuration of the running cluster has an error in /etc/postgresql/15/main/postgresql.conf "
        "line 12: syntax error; fix it first (nothing was changed)"
    ]


class FakePsql:
    def __init__(self, answers):
        self.answers = list(answers)
        self.asked = 0

    def query(self, sql, check=True):
        self.asked += 1
        return self.answers.pop(0) if self.answers else "1000.0"


def test_wait_for_reload_until_the_server_loaded_the_newest_file(tmp_path):
    conf = tmp_path / "50-eightfold.conf"
    conf.write_text("x = 1\n")
    os.utime(conf, (500.0, 500.0))
    psql = FakePsql(["400.0", None, "499.5", "500.25"])
    clock = iter(range(100))
    assert postgresql_state.wait_for_reload(
        psql, [str(conf), str(tmp_path / "missing")], 30, clock=lambda: next(clock), sleep=lambda _s: None
    )
    assert psql.asked == 4


def test_wait_for_reload_gives_up_after_its_timeout(tmp_path):
    conf = tmp_path / "pg_hba.conf"
    conf.write_text("local all all peer\n")
    os.utime(conf, (500.0, 500.0))
    psql = FakePsql(["400.0"] * 100)
    clock = iter(range(100))
    assert not postgresql_state.wait_for_reload(
        psql, [str(conf)], 5, clock=lambda: next(clock), sleep=lambda _s: None
    )
