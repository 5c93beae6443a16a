"""Where notes live: PostgreSQL (psycopg2, with a small pool) or, for demos and tests, memory."""

from __future__ import annotations

import queue
import threading
from datetime import UTC, datetime
from typing import Protocol

from notes.migrations import SCHEMA_VERSION, applied_versions

MAX_TEXT = 10000


class StoreUnavailable(Exception):
    """The database cannot answer (down, unreachable, not migrated): the service answers 503."""


class Store(Protocol):
    def add(self, text: str) -> dict: ...
    def list(self, limit: int) -> list[dict]: ...
    def get(self, note_id: int) -> dict | None: ...
    def count(self) -> int: ...
    def health(self) -> dict: ...
    def close(self) -> None: ...


def _note(row) -> dict:
    note_id, text, created_at = row
    return {"id": note_id, "text": text, "created_at": created_at.astimezone(UTC).isoformat()}


def connect(config):
    """One connection from the configuration; StoreUnavailable when it cannot be made."""
    try:
        import psycopg2
    except ImportError:
        raise StoreUnavailable(
            "the PostgreSQL driver psycopg2 is not installed (Debian: python3-psycopg2)"
        ) from None
    keywords = dict(config.pg)
    keywords.setdefault("application_name", "notes")
    keywords["connect_timeout"] = max(1, round(config.db_timeout))
    keywords["options"] = f"-c statement_timeout={int(config.db_timeout * 1000)}"
    try:
        return psycopg2.connect(config.database_url, **keywords)
    except psycopg2.Error as exc:
        raise StoreUnavailable(f"cannot connect to the database: {str(exc).strip()}") from None


class PostgresStore:
    """Notes in PostgreSQL. Connections are made on demand, reused, and dropped when they break."""

    def __init__(self, config):
        import psycopg2

        self._errors = psycopg2.Error
        self._config = config
        self._idle: queue.LifoQueue = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(config.pool_size)
        self._closed = False

    def _run(self, work):
        if not self._slots.acquire(timeout=self._config.db_timeout):
            raise StoreUnavailable("all database connections are busy")
        try:
            try:
                connection = self._idle.get_nowait()
            except queue.Empty:
                connection = connect(self._config)
            try:
                with connection, connection.cursor() as cursor:  # commit, or roll back on error
                    result = work(cursor)
            except self._errors as exc:
                connection.close()  # a broken or confused connection is not reused
                raise StoreUnavailable(f"database error: {str(exc).strip()}") from None
            if self._closed or connection.closed:
                connection.close()
            else:
                self._idle.put(connection)
            return result
        finally:
            self._slots.release()

    def add(self, text: str) -> dict:
        def work(cursor):
            cursor.execute("INSERT INTO notes (text) VALUES (%s) RETURNING id, text, created_at", (text,))
            return _note(cursor.fetchone())

        return self._run(work)

    def list(self, limit: int) -> list[dict]:
        def work(cursor):
            cursor.execute(
                "SELECT id, text, created_at FROM notes ORDER BY created_at DESC, id DESC LIMIT %s", (limit,)
            )
            return [_note(row) for row in cursor.fetchall()]

        return self._run(work)

    def get(self, note_id: int) -> dict | None:
        def work(cursor):
            cursor.execute("SELECT id, text, created_at FROM notes WHERE id = %s", (note_id,))
            row = cursor.fetchone()
            return _note(row) if row else None

        return self._run(work)

    def count(self) -> int:
        def work(cursor):
            cursor.execute("SELECT count(*) FROM notes")
            return cursor.fetchone()[0]

        return self._run(work)

    def health(self) -> dict:
        """The schema version; StoreUnavailable when the database is down or behind this build."""
        schema = max(self._run(applied_versions), default=0)
        if schema < SCHEMA_VERSION:
            raise StoreUnavailable(
                f"schema at version {schema}, this build needs {SCHEMA_VERSION} (run notes-migrate)"
            )
        return {"schema": schema}

    def close(self) -> None:
        self._closed = True
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return


class MemoryStore:
    """Notes in memory (DATABASE_URL=memory:): for demos and tests, lost on restart."""

    def __init__(self):
        self._notes: list[dict] = []
        self._lock = threading.Lock()
        self.available = True  # tests turn the "database" off

    def _check(self):
        if not self.available:
            raise StoreUnavailable("database error: the memory store is switched off")

    def add(self, text: str) -> dict:
        self._check()
        with self._lock:
            note = {"id": len(self._notes) + 1, "text": text, "created_at": datetime.now(UTC).isoformat()}
            self._notes.append(note)
            return dict(note)

    def list(self, limit: int) -> list[dict]:
        self._check()
        with self._lock:
            return [dict(note) for note in reversed(self._notes[-limit:])] if limit else []

    def get(self, note_id: int) -> dict | None:
        self._check()
        with self._lock:
            return dict(self._notes[note_id - 1]) if 0 < note_id <= len(self._notes) else None

    def count(self) -> int:
        self._check()
        return len(self._notes)

    def health(self) -> dict:
        self._check()
        return {"schema": SCHEMA_VERSION}

    def close(self) -> None:
        pass


def open_store(config) -> Store:
    return MemoryStore() if config.database_url == "memory:" else PostgresStore(config)
