"""DuckDB access for Dagster runs.

Only Dagster runs open the warehouse, and only one writer at a time: every asset that writes it
sits in the `WAREHOUSE_POOL` concurrency pool, whose limit is 1. Connections are short-lived and
always run in UTC so that `TIMESTAMPTZ` values never shift.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
from dagster_duckdb import DuckDBResource

WAREHOUSE_POOL = "duckdb_write"


def prepare(conn: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """Settings every warehouse connection needs, whoever opened it."""
    conn.execute("SET TimeZone = 'UTC'")
    return conn


@contextmanager
def connect(warehouse: DuckDBResource | Path | str) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection to the warehouse, from the Dagster resource or a path.

    The resource retries the open with backoff when another process holds the file lock. The
    warehouse's folder is made here, by its first writer, never when definitions load.
    """
    if isinstance(warehouse, DuckDBResource):
        Path(warehouse.database).parent.mkdir(parents=True, exist_ok=True)
        with warehouse.get_connection() as conn:
            yield prepare(conn)
        return

    path = Path(warehouse)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = duckdb.connect(str(path))
    try:
        yield prepare(conn)
    finally:
        conn.close()


@contextmanager
def connect_read_only(path: Path | str) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection, for reports and the CLI; never blocks a writer for long."""
    conn = duckdb.connect(str(path), read_only=True)
    try:
        yield prepare(conn)
    finally:
        conn.close()


def warehouse_resource(path: Path | str) -> DuckDBResource:
    """The Dagster resource for the warehouse at an absolute path; it makes no file or folder."""
    return DuckDBResource(database=str(Path(path).resolve()))
