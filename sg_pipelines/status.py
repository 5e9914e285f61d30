"""What the integration did lately, read from the warehouse without ever writing it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sg_pipelines.warehouse import connect_read_only


@dataclass(frozen=True)
class SyncStatus:
    started_at: datetime
    mode: str
    status: str
    fetched: int
    rejected: int
    warnings: int
    message: str | None


@dataclass
class RosterStatus:
    syncs: list[SyncStatus] = field(default_factory=list)
    active_students: int = 0
    inactive_students: int = 0
    linked: int = 0
    pending_reviews: int = 0
    rekeyed: int = 0


def roster_status(warehouse: Path, last: int = 5) -> RosterStatus:
    """The last syncs and the state of linking, as counts."""
    report = RosterStatus()
    with connect_read_only(warehouse) as conn:
        tables = {row[0] for row in conn.execute("SHOW TABLES").fetchall()}
        if "roster_sync_log" in tables:
            rows = conn.execute(
                "SELECT l.started_at, l.mode, l.status, "
                "coalesce(sum(c.fetched), 0), coalesce(sum(c.rejected), 0), "
                "coalesce(sum(c.warnings), 0), l.message "
                "FROM roster_sync_log l LEFT JOIN roster_sync_collections c USING (sync_id) "
                "GROUP BY ALL ORDER BY l.started_at DESC LIMIT ?",
                [last],
            ).fetchall()
            report.syncs = [SyncStatus(*row) for row in rows]
        if "roster_students" in tables:
            report.active_students, report.inactive_students = conn.execute(
                "SELECT count(*) FILTER (is_active), count(*) FILTER (NOT is_active) "
                "FROM roster_students"
            ).fetchall()[0]
        if "student_links" in tables:
            report.linked = conn.execute("SELECT count(*) FROM student_links").fetchall()[0][0]
        if "link_review" in tables:
            report.pending_reviews = conn.execute("SELECT count(*) FROM link_review").fetchall()[0][
                0
            ]
        if "student_rekeys" in tables:
            report.rekeyed = conn.execute("SELECT count(*) FROM student_rekeys").fetchall()[0][0]
    return report
