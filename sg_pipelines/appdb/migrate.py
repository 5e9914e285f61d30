"""Numbered schema migrations for the app database.

Each `migrations/NNNN_name.sql` file runs once, in order, inside its own transaction, and is
recorded in `schema_version`. Applying them again does nothing, so every process that opens the
database may call `migrate` on the way in.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.resources import files

logger = logging.getLogger(__name__)

MIGRATIONS_PACKAGE = "sg_pipelines.appdb.migrations"
MIGRATION_NAME = re.compile(r"^(\d{4})_(\w+)\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def available_migrations() -> list[Migration]:
    """The migrations shipped with the package, in version order."""
    migrations = []
    for entry in files(MIGRATIONS_PACKAGE).iterdir():
        match = MIGRATION_NAME.match(entry.name)
        if match:
            migrations.append(
                Migration(int(match.group(1)), match.group(2), entry.read_text(encoding="utf-8"))
            )
    return sorted(migrations, key=lambda migration: migration.version)


def statements(sql: str) -> list[str]:
    """Split a migration into statements, so each runs inside our own transaction.

    (`executescript` would commit first, and a half-applied migration must roll back.)
    """
    found, buffer = [], ""
    for line in sql.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            found.append(buffer.strip())
            buffer = ""
    if buffer.strip() and not buffer.strip().startswith("--"):
        raise ValueError("migration ends in an incomplete statement")
    return found


def current_version(conn: sqlite3.Connection) -> int:
    """The highest migration applied, or 0 for a new database."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_version "
        "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
    return row[0] or 0


def migrate(conn: sqlite3.Connection) -> list[int]:
    """Apply the migrations this database lacks; return the versions applied."""
    applied = []
    for migration in available_migrations():
        if migration.version <= current_version(conn):
            continue

        # take the write lock, then look again: another process may have migrated meanwhile
        conn.execute("BEGIN IMMEDIATE")
        try:
            if migration.version > current_version(conn):
                for statement in statements(migration.sql):
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)",
                    (migration.version, migration.name, datetime.now(UTC).isoformat()),
                )
                applied.append(migration.version)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    if applied:
        logger.info(
            "applied %d app-database migrations, now at version %d", len(applied), applied[-1]
        )
    return applied
