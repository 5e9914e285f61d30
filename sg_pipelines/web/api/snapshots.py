"""The published report snapshot, as the record endpoints read it.

The web app never opens the warehouse. It attaches the snapshot the pointer
`snapshots/current.json` names, `READ_ONLY`, to an in-memory DuckDB database of its own, and
keeps that while the pointer stays: a nightly run writes the warehouse and publishes a new file
without waiting on any reader, and a request never waits on a run. When the pointer moves, the
next request attaches the new file; requests already running finish on the old one.

Records are built with the EMIS builders for the caller's parameters, once per snapshot and
parameter set (building and student filters aside), into a table of the in-memory database; a
page is then a filter, a sort, a limit and an offset over it. The parameters the nightly run
published with need no build: the snapshot's own record tables were built by the same builders
from the same inputs, so those pages are read from them directly. Rendered pages are kept too (64 MB
at most, least recently used first out), so a page asked again (a retry, a second client, the
next report of the day) costs only the token check and the audit row.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from sg_pipelines.emis.ranges import ReportRequest
from sg_pipelines.emis.records import BUILDERS
from sg_pipelines.emis.snapshot import POINTER, snapshot_dir
from sg_pipelines.web.api.options import Endpoint, PageRequest

logger = logging.getLogger(__name__)

MAX_CACHED_RECORD_SETS = 64
MAX_CACHED_PAGE_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Page:
    rows: list[dict[str, Any]]
    total: int


class ServedSnapshot:
    """One published snapshot, attached read-only, with the record sets built from it so far."""

    def __init__(self, path: Path, pointer: dict[str, Any]) -> None:
        self.path = path
        self.name = path.name
        self.published_at: str | None = pointer.get("published_at")
        self.row_counts: dict[str, int] = dict(pointer.get("row_counts") or {})
        self._db = duckdb.connect(":memory:")
        quoted = str(path).replace("'", "''")
        self._db.execute(f"ATTACH '{quoted}' AS snapshot (READ_ONLY)")
        self._published_request, self._tables = self._read_published_request()
        self._built: OrderedDict[tuple[str, Any], str] = OrderedDict()
        self._lock = threading.Lock()
        self._building: dict[tuple[str, Any], threading.Lock] = {}
        self._serial = 0
        self._pages: OrderedDict[Any, tuple[bytes, int]] = OrderedDict()
        self._page_bytes = 0

    def rendered(self, key: Any) -> tuple[bytes, int] | None:
        """A response body rendered before for the same endpoint and effective options, with
        its total; the snapshot never changes, so neither does the page."""
        with self._lock:
            found = self._pages.get(key)
            if found is not None:
                self._pages.move_to_end(key)
            return found

    def keep_rendered(self, key: Any, body: bytes, total: int) -> None:
        """Remember a rendered page, dropping the least recently used beyond the byte budget."""
        with self._lock:
            if key in self._pages or len(body) > MAX_CACHED_PAGE_BYTES // 8:
                return
            self._pages[key] = (body, total)
            self._page_bytes += len(body)
            while self._page_bytes > MAX_CACHED_PAGE_BYTES:
                _, (dropped, _) = self._pages.popitem(last=False)
                self._page_bytes -= len(dropped)

    @contextmanager
    def _cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        cursor = self._db.cursor()
        try:
            cursor.execute("USE snapshot")
            cursor.execute("SET TimeZone = 'UTC'")
            yield cursor
        finally:
            cursor.close()

    def _read_published_request(self) -> tuple[dict[str, Any] | None, frozenset[str]]:
        """The nightly run's request summary (`emis_report_request`, None in a snapshot without
        one) and the names of the snapshot's tables."""
        with self._cursor() as cursor:
            tables = frozenset(
                name
                for (name,) in cursor.execute(
                    "SELECT table_name FROM duckdb_tables() WHERE database_name = 'snapshot'"
                ).fetchall()
            )
            if "emis_report_request" not in tables:
                return None, tables
            row = cursor.execute("SELECT request FROM emis_report_request LIMIT 1").fetchone()
        return (json.loads(row[0]) if row and row[0] else None), tables

    def _published_table(self, endpoint: Endpoint, report: ReportRequest) -> str | None:
        """The snapshot's own record table when `report` is the request it was built for.

        Pre-ID is never taken from it: its rows depend on the day of the build, which the
        published summary does not record.
        """
        published = self._published_request
        if (
            published is None
            or endpoint.table == "ohio_pre_id"
            or report.effective_date is not None
            or report.include_inactive
            or endpoint.table not in self._tables
            or report.summary() != published
        ):
            return None
        return f"snapshot.main.{endpoint.table}"

    def page(self, endpoint: Endpoint, request: PageRequest) -> Page:
        """One page of records for a request, and how many records match it in all."""
        report = request.report
        key = (endpoint.name, report.model_copy(update={"building_irn": None,
                                                         "emis_student_ids": None}))  # fmt: skip
        table = self._record_set(endpoint, key)

        filters, parameters = [], []
        if report.building_irn is not None:
            filters.append("building_irn = ?")
            parameters.append(report.building_irn)
        if report.emis_student_ids is not None:
            filters.append("list_contains(?::VARCHAR[], emis_student_id)")
            parameters.append(list(report.emis_student_ids))
        where = f"WHERE {' AND '.join(filters)}" if filters else ""
        # sort keys come from the endpoint's allow-list only; the builder's order breaks ties
        order = [f'"{column}" {"DESC" if desc else "ASC"}' for column, desc in request.sort]
        order.append(endpoint.order)

        with self._cursor() as cursor:
            [(total,)] = cursor.execute(
                f"SELECT count(*) FROM {table} {where}", parameters
            ).fetchall()
            result = cursor.execute(
                f"SELECT * FROM {table} {where} ORDER BY {', '.join(order)} LIMIT ? OFFSET ?",
                [*parameters, request.limit, request.offset],
            )
            columns = [column[0] for column in result.description]
            rows = [dict(zip(columns, values, strict=True)) for values in result.fetchall()]
        return Page(rows, total)

    def _record_set(self, endpoint: Endpoint, key: tuple[str, Any]) -> str:
        """The table holding a record set: the snapshot's own, or an in-memory one built on
        first use (once, under a lock)."""
        published = self._published_table(endpoint, key[1])
        if published is not None:
            return published
        with self._lock:
            table = self._built.get(key)
            if table is not None:
                self._built.move_to_end(key)
                return table
            building = self._building.setdefault(key, threading.Lock())

        with building:
            with self._lock:
                table = self._built.get(key)
            if table is not None:
                return table
            started = time.perf_counter()
            with self._lock:
                self._serial += 1
                table = f"memory.main.{endpoint.table}_{self._serial}"
            with self._cursor() as cursor:
                BUILDERS[endpoint.table](cursor, key[1]).to_table(table)
            with self._lock:
                self._built[key] = table
                self._building.pop(key, None)
                evicted = (
                    self._built.popitem(last=False)[1]
                    if len(self._built) > MAX_CACHED_RECORD_SETS
                    else None
                )
            if evicted:
                with self._cursor() as cursor:
                    cursor.execute(f"DROP TABLE IF EXISTS {evicted}")
            logger.info(
                "built %s from snapshot %s in %.0f ms",
                endpoint.table,
                self.name,
                (time.perf_counter() - started) * 1000,
            )
        return table

    def describe(self) -> dict[str, Any]:
        """What `/healthz` says about the snapshot served."""
        return {"file": self.name, "publishedAt": self.published_at, "rowCounts": self.row_counts}


class SnapshotSource:
    """The snapshot to serve now, following the pointer under the district's home."""

    def __init__(self, home: Path) -> None:
        self.home = Path(home)
        self._served: ServedSnapshot | None = None
        self._seen: tuple[int, int, int] | None = None
        self._lock = threading.Lock()

    def current(self) -> ServedSnapshot | None:
        """The published snapshot, or None before the first publish."""
        pointer = snapshot_dir(self.home) / POINTER
        try:
            stat = pointer.stat()
        except FileNotFoundError:
            return None
        seen = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        with self._lock:
            if self._served is not None and seen == self._seen:
                return self._served
            try:
                data = json.loads(pointer.read_text(encoding="utf-8"))
                path = snapshot_dir(self.home) / data["file"]
            except (OSError, ValueError, KeyError, TypeError):
                logger.warning("the snapshot pointer could not be read; serving the last one")
                return self._served
            if not path.exists():
                return self._served
            if self._served is None or self._served.path != path:
                self._served = ServedSnapshot(path, data)
                logger.info("serving report snapshot %s", path.name)
            self._seen = seen
            return self._served
