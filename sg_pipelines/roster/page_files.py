"""Response bodies kept as files while a collection is pulled, so memory stays flat.

Each fetch worker streams its page into the pull's directory, chunk by chunk, and counts the
records there with DuckDB, which releases the GIL while it reads; one page is counted at a time.
Paging needs only that count; the staging SQL reads the files later, a batch at a time, while
the workers fetch on. A body without the collection's envelope is an `EnvelopeError`, exactly as
when it is parsed in Python.
"""

from __future__ import annotations

import functools
import itertools
import shutil
import tempfile
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from sg_pipelines.roster.collections import Collection
from sg_pipelines.roster.parsing import envelope_records


@dataclass(frozen=True)
class PageFile:
    """One fetched page on disk. `record_count` counts every record the provider sent."""

    path: Path
    record_count: int
    size: int


class PageFiles:
    """Writes the pages of one collection's pull to a temporary directory; a context manager
    that removes the directory, whatever is left in it, on exit."""

    def __init__(self, collection: Collection) -> None:
        self.collection = collection
        self.directory = Path(tempfile.mkdtemp(prefix=f"roster-{collection.name}-"))
        self._names = itertools.count()
        # json_array_length is NULL without the key and 0 for any non-list, so only a positive
        # count is certain; anything else is decided by the Python reading of the body
        self._count_sql = (
            f"SELECT json_array_length(content, '$.{collection.envelope}') FROM read_text(?)"
        )

    def __enter__(self) -> PageFiles:
        return self

    def __exit__(self, *exc_info: object) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)

    def __call__(self, body: Iterable[bytes]) -> PageFile:
        """Keep one response body, chunk by chunk; runs in the fetch worker threads."""
        path = self.directory / f"{next(self._names)}.json"
        size = 0
        with path.open("wb") as file:
            for chunk in body:
                size += file.write(chunk)
        count = self._count(path)
        if not count:
            count = len(envelope_records(path.read_bytes(), self.collection.envelope))
        return PageFile(path, count, size)

    def _count(self, path: Path) -> int | None:
        with _counting:
            try:
                row = _counter().execute(self._count_sql, [str(path)]).fetchone()
            except duckdb.Error:
                return None
        return row[0] if row else None


_counting = threading.Lock()


@functools.cache
def _counter() -> duckdb.DuckDBPyConnection:
    """One in-memory DuckDB for every pull's counting: opening one costs more than a small
    page does to count, and a delta pulls six collections of one small page each."""
    db = duckdb.connect()
    db.execute("SET threads = 1")
    return db
