"""The shared shape of the app database's table gateways: one connection, explicit transactions.

Each gateway (LTI, data exports) owns its tables' SQL and opens its own connection, because the
web app uses them from several threads and a SQLite connection belongs to one.
"""

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Self

from sg_pipelines.appdb.migrate import migrate
from sg_pipelines.appdb.url import open_connection


class SqliteStore:
    """A gateway over the app database at `url`; one connection, so one per thread."""

    def __init__(self, url: str, *, migrate_schema: bool = True) -> None:
        self._conn = open_connection(url)
        if migrate_schema:
            migrate(self._conn)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._conn.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """`BEGIN IMMEDIATE` ... `COMMIT`; anything raised inside rolls all of it back."""
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield self._conn
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")
