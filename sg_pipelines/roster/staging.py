"""Stage pulled pages into a per-collection staging table.

Collections `staged_in_sql` are staged a batch of page files at a time by one set-based insert
(`sql/stage_*.sql`). Its fast source reads each page once into typed fields; the few records it
cannot read with certainty are staged `needs_exact` and read again, by page and position, by the
exact source, which takes each record as JSON and every field with its JSON type. The records the
rules are not certain of come back out and go through the pydantic model, which imports them by
its own rules or quarantines them. The other collections are parsed page by page by the model
and inserted in bulk.

DuckDB runs one such query on one thread (its source is a handful of files), so `BatchStaging`
runs them on cursors of their own, in worker threads, each inserting its rows into the staging
table while the pull goes on.
"""

from __future__ import annotations

import json
import queue
import re
import tempfile
import threading
import weakref
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import orjson

from sg_pipelines.roster.collections import STAGING_DATABASE, Collection
from sg_pipelines.roster.page_files import PageFile
from sg_pipelines.roster.parsing import PageParser, ParsedPage, parse_records
from sg_pipelines.roster.queries import statements

_CREATED_TABLE = re.compile(r"^CREATE TABLE IF NOT EXISTS (\w+) \(", re.M)

# what the staging SQL adds to a collection's columns; only needs_model rows carry `record`,
# only needs_exact rows need `page` and `position`
SQL_STAGING_COLUMNS = (
    "NULL::STRUCT(field VARCHAR, reason VARCHAR)[] AS warnings, "
    "NULL::BOOLEAN AS needs_model, NULL::VARCHAR AS record, "
    "NULL::BOOLEAN AS needs_exact, NULL::VARCHAR AS page, NULL::BIGINT AS position"
)


def ensure_schema(conn: duckdb.DuckDBPyConnection) -> None:
    """Create the roster tables of docs/warehouse.md if they are missing.

    One look at the catalog first: a sync calls this once per collection, and running every
    `CREATE TABLE IF NOT EXISTS` costs more than a small delta's merge.
    """
    existing = {
        name
        for (name,) in conn.execute(
            "SELECT table_name FROM duckdb_tables()"
            " WHERE database_name = current_database() AND schema_name = current_schema()"
        ).fetchall()
    }
    for statement in statements("schema"):
        created = _CREATED_TABLE.search(statement)
        if created is None or created.group(1) not in existing:
            conn.execute(statement)


def create_staging(conn: duckdb.DuckDBPyConnection, collection: Collection) -> None:
    """An empty staging table shaped like the collection's columns (lists staged as JSON).

    In an in-memory database attached beside the warehouse (`STAGING_DATABASE`): staged rows
    never reach the warehouse file or its write-ahead log, DuckDB spills them to its temp
    directory past the memory limit, and, unlike a temporary table, every cursor of the
    connection can insert into it.
    """
    conn.execute(f"ATTACH IF NOT EXISTS ':memory:' AS {STAGING_DATABASE}")
    columns = ", ".join(
        f"NULL::JSON AS {name}" if name in collection.list_columns else name
        for name in collection.columns
    )
    if collection.staged_in_sql:
        columns = f"{columns}, {SQL_STAGING_COLUMNS}"
    conn.execute(
        f"CREATE OR REPLACE TABLE {collection.staging_table} AS "
        f"SELECT {columns} FROM {collection.table} LIMIT 0"
    )


def drop_staging(conn: duckdb.DuckDBPyConnection, collection: Collection) -> None:
    conn.execute(f"DROP TABLE IF EXISTS {collection.staging_table}")


def clear_rejects(conn: duckdb.DuckDBPyConnection, sync_id: str, collection: Collection) -> None:
    """Forget this sync's quarantine and warnings for a collection before it is pulled again."""
    for table in ("roster_quarantine", "roster_warnings"):
        conn.execute(
            f"DELETE FROM {table} WHERE sync_id = ? AND collection = ?", [sync_id, collection.name]
        )


def stage_pages(
    conn: duckdb.DuckDBPyConnection,
    collection: Collection,
    pages: Sequence[PageFile],
    sync_id: str,
    now: datetime,
) -> int:
    """Stage a batch of page files. Returns how many records went through the model."""
    if not collection.staged_in_sql:
        parse = PageParser(collection)
        for page in pages:
            write_page(conn, collection, parse(page.path.read_bytes()), sync_id, now)
        return sum(page.record_count for page in pages)

    define_staging_macros(conn, collection)
    insert_pages(conn, collection, pages)
    return stage_uncertain(conn, collection, sync_id, now)


# the connections (and cursors) that have the macros of each staging file, so that they are
# defined once per connection: defining them all costs more than staging a small delta
_with_macros: dict[str, weakref.WeakSet[duckdb.DuckDBPyConnection]] = defaultdict(weakref.WeakSet)
_macros_lock = threading.Lock()


def define_staging_macros(conn: duckdb.DuckDBPyConnection, collection: Collection) -> None:
    """The field rules and the collection's macros, on the connection or cursor that runs its
    staging query (macros are temporary: each cursor has its own), once per connection."""
    for name, macros in (
        ("stage_rules", statements("stage_rules")),
        (collection.staging_query, statements(collection.staging_query)[:-3]),
    ):
        with _macros_lock:
            if conn in _with_macros[name]:
                continue
        for statement in macros:
            conn.execute(statement)
        with _macros_lock:
            _with_macros[name].add(conn)


def insert_pages(
    conn: duckdb.DuckDBPyConnection, collection: Collection, pages: Sequence[PageFile]
) -> None:
    """The set-based insert of `sql/stage_*.sql` from its fast source; records it is not certain
    of are staged `needs_exact`, the rules' uncertain records `needs_model`."""
    conn.execute(
        f"INSERT INTO {collection.staging_table} BY NAME {staging_query(collection, exact=False)}",
        {"files": [str(page.path) for page in pages]},
    )


def stage_batch(
    conn: duckdb.DuckDBPyConnection, collection: Collection, pages: Sequence[PageFile]
) -> None:
    """`insert_pages` on a connection or cursor, then delete the page files, but for those
    holding `needs_exact` records, which `restage_exact` reads."""
    define_staging_macros(conn, collection)
    insert_pages(conn, collection, pages)
    files = [str(page.path) for page in pages]
    uncertain = {
        page
        for (page,) in conn.execute(
            f"SELECT DISTINCT page FROM {collection.staging_table}"
            " WHERE needs_exact AND list_contains(?, page)",
            [files],
        ).fetchall()
    }
    for page in pages:
        if str(page.path) not in uncertain:
            page.path.unlink()


# the staged rows of any `sql/stage_*.sql`, from the `rows` its last statement defines
STAGED_ROWS = """
SELECT
    * EXCLUDE (exact, source_record),
    -- a JSON null in the list arrives as SQL NULL
    CASE WHEN needs_model AND exact THEN coalesce(source_record, 'null') END AS record,
    needs_model AND NOT exact AS needs_exact
FROM rows
"""


def staging_query(collection: Collection, *, exact: bool) -> str:
    """The rows of `sql/stage_*.sql` from its exact source (parameters `$files`, one page, and
    `$positions`) or its fast one (`$files`)."""
    *_, exact_source, fast_source, rows = statements(collection.staging_query)
    return f"WITH fields AS ({exact_source if exact else fast_source}), {rows} {STAGED_ROWS}"


def restage_exact(conn: duckdb.DuckDBPyConnection, collection: Collection) -> int:
    """Take the `needs_exact` rows out of staging and stage their records from the exact source,
    a page at a time; their page files must still exist, and are deleted once read. Returns how
    many there were."""
    uncertain = conn.execute(
        f"DELETE FROM {collection.staging_table} WHERE needs_exact RETURNING page, position"
    ).fetchall()
    if uncertain:
        define_staging_macros(conn, collection)
    positions: defaultdict[str, list[int]] = defaultdict(list)
    for page, position in uncertain:
        positions[page].append(position)
    query = staging_query(collection, exact=True)
    for page, listed in positions.items():
        conn.execute(
            f"INSERT INTO {collection.staging_table} BY NAME {query}",
            {"files": [page], "positions": listed},
        )
        Path(page).unlink(missing_ok=True)
    return len(uncertain)


def stage_uncertain(
    conn: duckdb.DuckDBPyConnection, collection: Collection, sync_id: str, now: datetime
) -> int:
    """Take the `needs_model` rows out of staging and stage them by the model instead (after
    the `needs_exact` rows, if any are left, have been read again)."""
    restage_exact(conn, collection)
    uncertain = conn.execute(
        f"DELETE FROM {collection.staging_table} WHERE needs_model RETURNING record"
    ).fetchall()
    if uncertain:
        records = [json.loads(record) for (record,) in uncertain]
        write_page(conn, collection, parse_records(collection, records), sync_id, now)
    return len(uncertain)


class BatchStaging:
    """Stages batches of page files of a `staged_in_sql` collection, up to `workers` at a time.

    Each worker inserts a batch's rows (from the fast source) into the staging table on its own
    cursor, while the caller's thread goes on pulling. A context manager: on exit it waits for
    every batch and raises the first error. Page files are deleted once staged, but for the
    pages holding `needs_exact` records, which `restage_exact` reads.
    """

    def __init__(
        self, conn: duckdb.DuckDBPyConnection, collection: Collection, *, workers: int
    ) -> None:
        self.conn = conn
        self.collection = collection
        self.workers = workers
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="roster-staging")
        self._pending: list[Future[None]] = []
        self._cursors: list[duckdb.DuckDBPyConnection] = []
        self._idle: queue.SimpleQueue[duckdb.DuckDBPyConnection] = queue.SimpleQueue()

    def __enter__(self) -> BatchStaging:
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            if exc_info[0] is None:
                for batch in self._pending:
                    batch.result()
            else:
                for batch in self._pending:
                    batch.cancel()
            self._pool.shutdown(wait=True)
        finally:
            for cursor in self._cursors:
                cursor.close()

    def submit(self, pages: Sequence[PageFile]) -> None:
        """Queue a batch; a batch that failed already raises here."""
        # cursors are opened here, in the connection's own thread, and only as many as are used
        running = sum(not batch.done() for batch in self._pending)
        if len(self._cursors) < min(self.workers, running + 1):
            self._idle.put(self._open_cursor())
        for batch in self._pending:
            if batch.done():
                batch.result()
        self._pending = [batch for batch in self._pending if not batch.done()]
        self._pending.append(self._pool.submit(self._stage, list(pages)))

    def _stage(self, pages: list[PageFile]) -> None:
        cursor = self._idle.get()
        try:
            stage_batch(cursor, self.collection, pages)
        finally:
            self._idle.put(cursor)

    def _open_cursor(self) -> duckdb.DuckDBPyConnection:
        (time_zone,) = self.conn.execute("SELECT current_setting('TimeZone')").fetchall()[0]
        cursor = self.conn.cursor()
        self._cursors.append(cursor)
        quoted = time_zone.replace("'", "''")
        cursor.execute(f"SET TimeZone = '{quoted}'")
        define_staging_macros(cursor, self.collection)
        return cursor


def record_staged_warnings(
    conn: duckdb.DuckDBPyConnection, collection: Collection, sync_id: str, now: datetime
) -> None:
    """Move the row warnings of the staging SQL into `roster_warnings`."""
    if not collection.staged_in_sql:
        return
    conn.execute(
        f"""
        INSERT INTO roster_warnings BY NAME
        SELECT $sync_id AS sync_id, $collection AS collection, sourced_id,
            item.field AS field, item.reason AS reason, $now AS recorded_at
        FROM (SELECT sourced_id, unnest(warnings) AS item FROM {collection.staging_table})
        """,
        {"sync_id": sync_id, "collection": collection.name, "now": now},
    )


def write_page(
    conn: duckdb.DuckDBPyConnection,
    collection: Collection,
    page: ParsedPage,
    sync_id: str,
    now: datetime,
) -> None:
    """Insert one page's rows, quarantined records and warnings in bulk."""
    if page.rows:
        _insert(conn, collection.staging_table, collection.columns, page.rows)

    if page.quarantined:
        _insert(
            conn,
            "roster_quarantine",
            ("sync_id", "collection", "sourced_id", "reason", "record", "quarantined_at"),
            [
                (sync_id, collection.name, item.sourced_id, item.reason, item.record, now)
                for item in page.quarantined
            ],
        )

    if page.warnings:
        _insert(
            conn,
            "roster_warnings",
            ("sync_id", "collection", "sourced_id", "field", "reason", "recorded_at"),
            [
                (sync_id, collection.name, item.sourced_id, item.field, item.reason, now)
                for item in page.warnings
            ],
        )


def _insert(
    conn: duckdb.DuckDBPyConnection,
    table: str,
    columns: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
) -> None:
    """Insert rows through a JSON-lines file: text values, cast to the table's types by DuckDB."""
    with tempfile.NamedTemporaryFile(suffix=".jsonl") as handle:
        for row in rows:
            handle.write(orjson.dumps(dict(zip(columns, row, strict=True)), default=str))
            handle.write(b"\n")
        handle.flush()
        types = ", ".join(f"'{name}': 'VARCHAR'" for name in columns)
        conn.execute(
            f"INSERT INTO {table} BY NAME SELECT * FROM read_json(?, "
            f"format = 'newline_delimited', columns = {{{types}}})",
            [handle.name],
        )
