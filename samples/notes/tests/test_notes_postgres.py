"""The PostgreSQL store, migrations and server against a real PostgreSQL (Debian's, in a container)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time

import pytest
from notes.config import load
from notes.migrations import SCHEMA_VERSION, migrate
from notes.store import PostgresStore, StoreUnavailable, connect
from notes_support import SRC, start

pytestmark = pytest.mark.slow


@pytest.fixture
def database(postgres):
    """A fresh database: (environment for the service, its name)."""
    name = postgres.create_database()
    return postgres.environ(name), name


def test_migrations_are_versioned_and_idempotent(database):
    environ, _name = database
    config = load(environ)
    connection = connect(config)
    try:
        pending = migrate(connection, check=True)
        assert pending["pending"] == [1, 2] and pending["applied"] == [] and pending["version"] == 0
        first = migrate(connection)
        assert first == {
            "changed": True,
            "applied": [1, 2],
            "pending": [],
            "before": 0,
            "version": SCHEMA_VERSION,
            "code_version": SCHEMA_VERSION,
        }
        again = migrate(connection)
        assert again["changed"] is False and again["applied"] == [] and again["version"] == SCHEMA_VERSION
        with connection.cursor() as cursor:
            cursor.execute("SELECT version, name FROM schema_migrations ORDER BY version")
            assert cursor.fetchall() == [(1, "create notes"), (2, "index notes by creation time")]
    finally:
        connection.close()


def test_concurrent_migrations_apply_once(database):
    environ, _name = database
    config = load(environ)
    results, errors = [], []

    def run():
        connection = connect(config)
        try:
            results.append(migrate(connection))
        except Exception as exc:  # collected for the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(len(result["applied"]) for result in results) == [0, 0, 2]


def test_notes_command_line_migrate_reports_json(database):
    environ, _name = database
    env = {**environ, "PYTHONPATH": str(SRC)}
    command = [sys.executable, "-c", "from notes.migrations import main; raise SystemExit(main())", "--json"]
    first = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["applied"] == [1, 2]
    second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert json.loads(second.stdout)["changed"] is False


def test_store_adds_lists_and_counts(database):
    environ, _name = database
    config = load(environ)
    store = PostgresStore(config)
    try:
        with pytest.raises(StoreUnavailable, match=r"schema at version 0, this build needs 2"):
            store.health()
        connection = connect(config)
        migrate(connection)
        connection.close()
        assert store.health() == {"schema": SCHEMA_VERSION}
        added = [store.add(text) for text in ("first", "zweite Notiz ✓", "third")]
        assert [note["id"] for note in added] == sorted(note["id"] for note in added)
        assert store.get(added[1]["id"])["text"] == "zweite Notiz ✓"
        assert store.get(10**12) is None
        assert [note["text"] for note in store.list(2)] == ["third", "zweite Notiz ✓"]
        assert store.count() == 3
    finally:
        store.close()


def test_database_down_then_back(postgres, database):
    """Health fails while PostgreSQL is stopped and passes again when it is back (broken connections go)."""
    environ, _name = database
    config = load({**environ, "NOTES_DB_TIMEOUT": "2"})
    connection = connect(config)
    migrate(connection)
    connection.close()
    store = PostgresStore(config)
    try:
        store.add("before the outage")
        postgres.service("stop")
        try:
            started = time.monotonic()
            with pytest.raises(StoreUnavailable):
                store.health()
            assert time.monotonic() - started < 10
        finally:
            postgres.service("start")
        deadline = time.monotonic() + 60
        while True:
            try:
                assert store.health()["schema"] == SCHEMA_VERSION
                break
            except StoreUnavailable:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        assert [note["text"] for note in store.list(10)] == ["before the outage"]
    finally:
        store.close()


def test_server_against_postgres(postgres, database):
    environ, _name = database
    subprocess_env = {"DATABASE_URL": postgres.url(_name)}
    server = start(subprocess_env)
    try:
        status, health = server.json("GET", "/healthz")
        assert status == 503 and "run notes-migrate" in health["database"]
        connection = connect(load(environ))
        migrate(connection)
        connection.close()
        assert server.json("GET", "/healthz")[0] == 200
        status, note = server.json("POST", "/notes", {"text": "stored in PostgreSQL"})
        assert status == 201
        status, listed = server.json("GET", "/notes")
        assert listed["notes"][0] == note
        status, body, _headers = server.request("GET", "/metrics")
        assert "notes_stored 1" in body.decode() and "notes_database_up 1" in body.decode()
    finally:
        server.proc.terminate()
        assert server.proc.wait(timeout=30) == 0
