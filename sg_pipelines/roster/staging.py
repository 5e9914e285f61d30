"""Stream parsed pages into a per-collection staging table, one bulk insert per page."""

from __future__ import annotations

from datetime import datetime

import duckdb
import pandas as pd

from sg_pipelines.roster.collections import Collection
from sg_pipelines.roster.parsing import ParsedPage
from sg_pipelines.roster.queries import statements


def ensure_schema(conn: duckdb.DuckDBPyConnection) -> None:
    """Create the roster tables of docs/warehouse.md if they are missing."""
    for statement in statements("schema"):
        conn.execute(statement)


def create_staging(conn: duckdb.DuckDBPyConnection, collection: Collection) -> None:
    """An empty staging table shaped like the collection's columns (lists staged as JSON)."""
    columns = ", ".join(
        f"NULL::JSON AS {name}" if name in collection.list_columns else name
        for name in collection.columns
    )
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


def write_page(
    conn: duckdb.DuckDBPyConnection,
    collection: Collection,
    page: ParsedPage,
    sync_id: str,
    now: datetime,
) -> None:
    """Insert one page's rows, quarantined records and warnings in bulk."""
    if page.rows:
        frame = pd.DataFrame.from_records(page.rows, columns=list(collection.columns))
        _insert(conn, collection.staging_table, frame)

    if page.quarantined:
        frame = pd.DataFrame(
            {
                "sync_id": sync_id,
                "collection": collection.name,
                "sourced_id": [item.sourced_id for item in page.quarantined],
                "reason": [item.reason for item in page.quarantined],
                "record": [item.record for item in page.quarantined],
                "quarantined_at": now,
            }
        )
        _insert(conn, "roster_quarantine", frame)

    if page.warnings:
        frame = pd.DataFrame(
            {
                "sync_id": sync_id,
                "collection": collection.name,
                "sourced_id": [item.sourced_id for item in page.warnings],
                "field": [item.field for item in page.warnings],
                "reason": [item.reason for item in page.warnings],
                "recorded_at": now,
            }
        )
        _insert(conn, "roster_warnings", frame)


def _insert(conn: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> None:
    conn.register("roster_page", frame)
    try:
        conn.execute(f"INSERT INTO {table} BY NAME SELECT * FROM roster_page")
    finally:
        conn.unregister("roster_page")
