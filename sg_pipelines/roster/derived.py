"""Derived roster tables for the rest of the pipeline: students, guardians, enrollment spans."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from sg_pipelines.roster.queries import query, statements
from sg_pipelines.roster.staging import ensure_schema
from sg_pipelines.settings import RosterSettings


@dataclass(frozen=True)
class GuardianLinks:
    links: int
    active_links: int
    unresolved_agents: int


def ensure_derived_schema(conn: duckdb.DuckDBPyConnection) -> None:
    ensure_schema(conn)
    for statement in statements("derived_schema"):
        conn.execute(statement)


def build_students(conn: duckdb.DuckDBPyConnection) -> int:
    """Rebuild `roster_students` from the current-state tables; returns its row count."""
    return _rebuild(conn, "roster_students")


def build_enrollment_periods(conn: duckdb.DuckDBPyConnection) -> int:
    """Rebuild `roster_enrollment_periods`; returns its row count."""
    return _rebuild(conn, "roster_enrollment_periods")


def build_guardians(conn: duckdb.DuckDBPyConnection, rules: RosterSettings) -> GuardianLinks:
    """Upsert student-contact links from `agents`; links are never deleted."""
    ensure_derived_schema(conn)
    params = {"guardian_roles": rules.guardian_roles, "other_roles": rules.other_contact_roles}
    conn.execute("BEGIN TRANSACTION")
    try:
        for statement in statements("roster_guardians"):
            conn.execute(statement, {k: v for k, v in params.items() if f"${k}" in statement})
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise

    links, active = conn.execute(
        "SELECT count(*), count(*) FILTER (WHERE is_active) FROM roster_guardians"
    ).fetchall()[0]
    (unresolved,) = conn.execute(
        """
        SELECT count(*)
        FROM roster_agent_links AS link
        WHERE NOT EXISTS (
            SELECT 1 FROM oneroster_users AS u WHERE u.sourced_id = link.contact_sourced_id
        )
        """
    ).fetchall()[0]
    return GuardianLinks(links, active, unresolved)


def record_unresolved_references(conn: duckdb.DuckDBPyConnection, sync_id: str) -> dict[str, int]:
    """Store this sync's unresolved references; returns counts by `collection.kind`."""
    ensure_schema(conn)
    conn.execute("DELETE FROM roster_unresolved_references WHERE sync_id = ?", [sync_id])
    conn.execute(query("unresolved_references"), {"sync_id": sync_id})
    rows = conn.execute(
        """
        SELECT collection || '.' || reference_kind, count(*)
        FROM roster_unresolved_references
        WHERE sync_id = ?
        GROUP BY ALL
        ORDER BY 1
        """,
        [sync_id],
    ).fetchall()
    return dict(rows)


def _rebuild(conn: duckdb.DuckDBPyConnection, table: str) -> int:
    ensure_derived_schema(conn)
    conn.execute("BEGIN TRANSACTION")
    try:
        conn.execute(f"DELETE FROM {table}")
        conn.execute(query(table))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return conn.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
