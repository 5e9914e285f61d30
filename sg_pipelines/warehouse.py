"""DuckDB access for Dagster runs.

Only Dagster runs open the warehouse, and only one writer at a time: every asset that writes it
sits in the `WAREHOUSE_POOL` concurrency pool, whose limit is 1. Connections are short-lived and
always run in UTC so that `TIMESTAMPTZ` values never shift.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
from dagster_duckdb import DuckDBResource

WAREHOUSE_POOL = "duckdb_write"

# how long a reader waits for a writer (a sync holds the file lock while it runs), and how often
# it tries again meanwhile
READ_WAIT_SECONDS = 5.0
READ_RETRY_SECONDS = 0.25

_LOCK_HELD = "Could not set lock on file"
_HOLDER_PID = re.compile(r"\(PID (\d+)\)")


class WarehouseBusy(RuntimeError):
    """Another process (a sync) holds the warehouse's write lock and kept it past the wait."""

    def __init__(self, path: Path, pid: int | None) -> None:
        holder = f" (pid {pid})" if pid else ""
        super().__init__(
            f"the warehouse {path} is busy: a sync is writing to it{holder}; try again in a moment"
        )
        self.path = path
        self.pid = pid


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
    """A read-only connection, for reports and the CLI; never blocks a writer for long.

    DuckDB lets no reader in while another process writes, so the open is retried for
    `READ_WAIT_SECONDS`; a writer that still holds the lock then raises `WarehouseBusy`.
    """
    conn = _open_read_only(Path(path))
    try:
        yield prepare(conn)
    finally:
        conn.close()


def _open_read_only(path: Path) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + READ_WAIT_SECONDS
    while True:
        try:
            return duckdb.connect(str(path), read_only=True)
        except duckdb.IOException as error:
            message = str(error)
            if _LOCK_HELD not in message:
                raise
            if time.monotonic() >= deadline:
                holder = _HOLDER_PID.search(message)
                raise WarehouseBusy(path, int(holder.group(1)) if holder else None) from None
        time.sleep(READ_RETRY_SECONDS)


def warehouse_resource(path: Path | str) -> DuckDBResource:
    """The Dagster resource for the warehouse at an absolute path; it makes no file or folder."""
    return DuckDBResource(database=str(Path(path).resolve()))
