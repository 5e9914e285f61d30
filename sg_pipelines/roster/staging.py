"""Stage pulled pages into a per-collection staging table.

Collections `staged_in_sql` are staged a batch of page files at a time by one set-based insert
(`sql/stage_*.sql`); the records its rules are not certain of come back out and go through the
pydantic model, which imports them by its own rules or quarantines them. The other collections
are parsed page by page by the model and inserted in bulk.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import duckdb
import orjson

from sg_pipelines.roster.collections import Collection
from sg_pipelines.roster.page_files import PageFile
from sg_pipelines.roster.parsing import PageParser, ParsedPage, parse_records
from sg_pipelines.roster.queries import statements

# what the staging SQL adds to a collection's columns; only needs_model rows carry `record`
SQL_STAGING_COLUMNS = (
    "NULL::STRUCT(field VARCHAR, reason VARCHAR)[] AS warnings, "
    "NULL::BOOLEAN AS needs_model, NULL::VARCHAR AS record"
)


def ensure_schema(conn: duckdb.DuckDBPyConnection) -> None:
    """Create the roster tables of docs/warehouse.md if they are missing."""
    for statement in statements("schema"):
        conn.execute(statement)


def create_staging(conn: duckdb.DuckDBPyConnection, collection: Collection) -> None:
    """An empty staging table shaped like the collection's columns (lists staged as JSON).

    A temporary table: staged rows never reach the warehouse file or its write-ahead log, and
    DuckDB spills them to its temp directory past the memory limit.
    """
    columns = ", ".join(
        f"NULL::JSON AS {name}" if name in collection.list_columns else name
        for name in collection.columns
    )
    if collection.staged_in_sql:
        columns = f"{columns}, {SQL_STAGING_COLUMNS}"
        for statement in statements("stage_rules"):
            conn.execute(statement)
    conn.execute(
        f"CREATE OR REPLACE TEMP TABLE {collection.staging_table} AS "
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

    *macros, insert = statements(collection.staging_query)
    for statement in macros:
        conn.execute(statement)
    conn.execute(insert, {"files": [str(page.path) for page in pages]})

    uncertain = conn.execute(
        f"DELETE FROM {collection.staging_table} WHERE needs_model RETURNING record"
    ).fetchall()
    if uncertain:
        records = [json.loads(record) for (record,) in uncertain]
        write_page(conn, collection, parse_records(collection, records), sync_id, now)
    return len(uncertain)


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
