"""One linking run: read the roster, match, write the app database and the warehouse.

The app-database writes and the warehouse snapshot are staged in one transaction each; the
warehouse commits only after the app database has, so a failure anywhere leaves both stores at
their last good state.

Known limitation: the two stores cannot share one transaction. If the warehouse commit itself
fails after the app database committed, the next run re-derives every link from the app database,
but this run's rows in the append-only `student_rekeys` table are lost.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb

from sg_pipelines.appdb import AppDatabase
from sg_pipelines.identity.linking import LinkDecisions, match_students
from sg_pipelines.identity.tables import ensure_identity_tables, read_roster, write_identity_tables
from sg_pipelines.identity.writeback import LinkSummary, apply_decisions

logger = logging.getLogger(__name__)

PIPELINE_ACTOR = "pipeline:student_links"


@dataclass(frozen=True)
class LinkRun:
    summary: LinkSummary
    decisions: LinkDecisions


def link_roster_students(
    conn: duckdb.DuckDBPyConnection,
    app_db: AppDatabase,
    *,
    run_id: str,
    actor: str = PIPELINE_ACTOR,
    now: datetime | None = None,
) -> LinkRun:
    """Link every roster student in the warehouse to a plan-system student."""
    started = time.monotonic()
    now = now or datetime.now(UTC)
    ensure_identity_tables(conn)
    roster, contacts = read_roster(conn)

    conn.execute("BEGIN TRANSACTION")
    try:
        # holding the app database's write lock from the first read keeps the match current
        with app_db.transaction():
            decisions = match_students(roster, app_db.students())
            written = apply_decisions(
                app_db, decisions, roster, contacts, actor=actor, run_id=run_id
            )
            write_identity_tables(conn, written.links, decisions.reviews, now=now)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise

    summary = written.summary
    logger.info(
        "linked %d roster students in %.1fs: %d created, %d newly linked, %d re-keyed, "
        "%d sent to review, %d unchanged",
        len(roster),
        time.monotonic() - started,
        summary.created,
        summary.newly_linked,
        summary.rekeyed,
        summary.sent_to_review,
        summary.unchanged,
    )
    return LinkRun(summary=summary, decisions=decisions)
