"""Writing record relations to warehouse tables, and the request they were built for."""

from __future__ import annotations

import json

import duckdb

from sg_pipelines.emis.ranges import ReportRequest

REQUEST_TABLE = "emis_report_request"


def replace_table(
    conn: duckdb.DuckDBPyConnection, table: str, relation: duckdb.DuckDBPyRelation
) -> int:
    """Replace `table` with the relation's rows in one transaction; returns the row count."""
    conn.execute("BEGIN TRANSACTION")
    try:
        conn.execute(f"DROP TABLE IF EXISTS {table}")
        relation.create(table)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    [(count,)] = conn.execute(f"SELECT count(*) FROM {table}").fetchall()
    return count


def record_request(conn: duckdb.DuckDBPyConnection, request: ReportRequest) -> None:
    """Keep the request the record tables were built for (checks and the snapshot read it)."""
    conn.execute(
        f"CREATE OR REPLACE TABLE {REQUEST_TABLE} AS SELECT ?::JSON AS request",
        [json.dumps(request.model_dump(mode="json"))],
    )


def read_request(conn: duckdb.DuckDBPyConnection) -> ReportRequest | None:
    """The request of the last build, or None before the first."""
    try:
        [(text,)] = conn.execute(f"SELECT request FROM {REQUEST_TABLE}").fetchall()
    except duckdb.CatalogException:
        return None
    return ReportRequest.model_validate(json.loads(text))


def counts_by(conn: duckdb.DuckDBPyConnection, table: str, column: str) -> dict[str, int]:
    """Row counts per value of one column: metadata that carries no student."""
    rows = conn.execute(
        f"SELECT coalesce(CAST({column} AS VARCHAR), 'none'), count(*) FROM {table} "
        "GROUP BY ALL ORDER BY 1"
    ).fetchall()
    return {str(value): count for value, count in rows}
