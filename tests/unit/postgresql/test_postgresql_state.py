"""eightfold.devops.postgresql_state: SCRAM verifier check, grant SQL, and a real run on this machine."""

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
    rc, result = run_module(
        tmp_path,
        {
            "versions": {major: "99"},
            "packages": ["dpkg", "postgresql-@VERSION@"],
            "paths": [str(tmp_path), "/var/lib/postgresql/@VERSION@/main"],
            "passwords": {"app": "secret"},
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
