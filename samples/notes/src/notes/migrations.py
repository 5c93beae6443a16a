"""Versioned, idempotent schema migrations (`notes-migrate`), recorded in the table schema_migrations.

Migrations only expand the schema (new tables, columns with defaults, indexes), so the release running
before a deploy keeps working on the migrated database while the hosts are switched one by one.
"""

from __future__ import annotations

import argparse
import json
import sys

from notes.config import ConfigError, load

MIGRATIONS: list[tuple[int, str, str]] = [
    (
        1,
        "create notes",
        """CREATE TABLE notes (
               id bigserial PRIMARY KEY,
               text text NOT NULL CHECK (length(text) BETWEEN 1 AND 10000),
               created_at timestamptz NOT NULL DEFAULT now()
           )""",
    ),
    (2, "index notes by creation time", "CREATE INDEX notes_created_at ON notes (created_at DESC, id DESC)"),
]
SCHEMA_VERSION = MIGRATIONS[-1][0]
LOCK_KEY = 0x6E6F746573  # "notes": one migration at a time, whichever host runs it

SCHEMA_TABLE = """CREATE TABLE IF NOT EXISTS schema_migrations (
    version integer PRIMARY KEY,
    name text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)"""


def applied_versions(cursor) -> list[int]:
    cursor.execute("SELECT to_regclass('schema_migrations') IS NOT NULL")
    if not cursor.fetchone()[0]:
        return []
    cursor.execute("SELECT version FROM schema_migrations ORDER BY version")
    return [row[0] for row in cursor.fetchall()]


def migrate(connection, check: bool = False) -> dict:
    """Apply what is missing in one transaction under an advisory lock; report what was (or would be) done."""
    with connection, connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
        done = applied_versions(cursor)
        pending = [(version, name, sql) for version, name, sql in MIGRATIONS if version not in done]
        if not check:
            cursor.execute(SCHEMA_TABLE)
            for version, name, sql in pending:
                cursor.execute(sql)
                cursor.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)", (version, name)
                )
    applied = [version for version, _name, _sql in pending]
    final = max(done + ([] if check else applied), default=0)
    return {
        "changed": bool(applied),
        "applied": [] if check else applied,
        "pending": applied if check else [],
        "before": max(done, default=0),
        "version": final,
        "code_version": SCHEMA_VERSION,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="notes-migrate", description="Bring the notes schema up to date.")
    parser.add_argument("--env-file", help="KEY=VALUE file with DATABASE_URL or PG* variables")
    parser.add_argument("--check", action="store_true", help="report pending migrations, apply nothing")
    parser.add_argument("--json", action="store_true", help="print the result as JSON (for Ansible)")
    args = parser.parse_args(argv)
    try:
        config = load(env_file=args.env_file)
    except ConfigError as exc:
        print(f"notes-migrate: {exc}", file=sys.stderr)
        return 2
    from notes.store import StoreUnavailable, connect

    try:
        connection = connect(config)
        try:
            result = migrate(connection, check=args.check)
        finally:
            connection.close()
    except StoreUnavailable as exc:
        print(f"notes-migrate: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(result, sort_keys=True))
    elif args.check:
        print(f"schema at version {result['before']}; pending: {result['pending'] or 'none'}")
    else:
        print(f"schema at version {result['version']}; applied: {result['applied'] or 'none'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
