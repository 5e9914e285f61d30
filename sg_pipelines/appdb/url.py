"""App-database URLs: which engine, and where.

The app database is named by a URL so that a district can move it from SQLite to Postgres without
touching the code that uses it. Only SQLite is implemented; every other scheme is refused here,
before anything is opened.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

SQLITE_PREFIX = "sqlite:///"
ACCEPTED_FORMS = "sqlite:///relative/path.sqlite or sqlite:////absolute/path.sqlite"
MEMORY = ":memory:"
BUSY_TIMEOUT_SECONDS = 30.0


class UnsupportedDatabaseUrl(ValueError):
    """The URL names an engine, or a form of SQLite URL, that the gateway cannot open."""


@dataclass(frozen=True)
class SqliteLocation:
    """A SQLite database file (or `:memory:`), parsed from `sqlite:///relative` or `sqlite:////abs`."""

    path: str

    @property
    def in_memory(self) -> bool:
        return self.path == MEMORY


def parse_url(url: str) -> SqliteLocation:
    """Parse an app-database URL; raise `UnsupportedDatabaseUrl` for anything but SQLite."""
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    if scheme != "sqlite":
        raise UnsupportedDatabaseUrl(
            f"app database URL scheme {scheme or '(none)'!r} is not supported; use {ACCEPTED_FORMS}"
        )
    if not url.startswith(SQLITE_PREFIX) or "?" in url:
        raise UnsupportedDatabaseUrl(
            f"a SQLite app database URL looks like {ACCEPTED_FORMS}, without query parameters"
        )

    path = url[len(SQLITE_PREFIX) :]
    if not path:
        raise UnsupportedDatabaseUrl(f"the app database URL names no file; use {ACCEPTED_FORMS}")
    return SqliteLocation(path=path)


def open_connection(url: str) -> sqlite3.Connection:
    """Open the database a URL names, in autocommit mode with WAL and foreign keys on.

    Transactions are begun explicitly by the gateway (`BEGIN IMMEDIATE`), never implicitly.
    """
    location = parse_url(url)
    if not location.in_memory:
        Path(location.path).expanduser().parent.mkdir(parents=True, exist_ok=True)

    conn = sqlite3.connect(location.path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
    conn.row_factory = sqlite3.Row
    if not location.in_memory:
        conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA synchronous = NORMAL")
    return conn
