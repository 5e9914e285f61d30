"""The identity tables in the warehouse, and the roster tables linking reads.

`student_links` and `link_review` are snapshots, replaced whole by every run; `student_rekeys`
only grows. A link or review that survives from one run to the next keeps its original time and
match key, so the snapshot of an unchanged roster is unchanged.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from importlib.resources import files

import duckdb
import pandas as pd

from sg_pipelines.appdb import Contact
from sg_pipelines.appdb.records import normalize_emis_student_id
from sg_pipelines.identity.linking import Link, Review, RosterStudent

logger = logging.getLogger(__name__)


def _sql(name: str) -> str:
    return files("sg_pipelines.identity").joinpath("sql", name).read_text(encoding="utf-8")


def ensure_identity_tables(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute(_sql("identity_tables.sql"))


def read_roster(
    conn: duckdb.DuckDBPyConnection,
) -> tuple[list[RosterStudent], dict[str, list[Contact]]]:
    """Roster students and their active contacts, from `roster_students` and `roster_guardians`."""
    students = []
    rejected_emis = 0
    for row in conn.execute(_sql("roster_students.sql")).fetchall():
        student = RosterStudent(*row)
        emis_student_id = normalize_emis_student_id(student.emis_student_id)
        rejected_emis += student.emis_student_id is not None and emis_student_id is None
        students.append(replace(student, emis_student_id=emis_student_id))
    if rejected_emis:
        logger.warning("ignored %d malformed EMIS Student IDs in roster_students", rejected_emis)

    contacts: dict[str, list[Contact]] = {}
    for row in conn.execute(_sql("roster_contacts.sql")).fetchall():
        student_sourced_id, contact_sourced_id, relationship, *details = row
        contacts.setdefault(student_sourced_id, []).append(
            Contact(contact_sourced_id, relationship, *details)
        )
    return students, contacts


@dataclass(frozen=True)
class LinkConflicts:
    shared_sourced_ids: int
    plan_students_with_two_sourced_ids: int
    pending_reviews: int

    @property
    def broken(self) -> bool:
        return bool(self.shared_sourced_ids or self.plan_students_with_two_sourced_ids)


def link_conflicts(conn: duckdb.DuckDBPyConnection) -> LinkConflicts:
    ensure_identity_tables(conn)
    return LinkConflicts(*conn.execute(_sql("link_conflicts.sql")).fetchone())


def write_identity_tables(
    conn: duckdb.DuckDBPyConnection,
    links: Sequence[Link],
    reviews: Sequence[Review],
    *,
    now: datetime,
) -> None:
    """Replace the `student_links` and `link_review` snapshots and append this run's re-keys.

    Runs inside the caller's transaction.
    """
    previous_links = {
        (plan_student_id, sourced_id): (matched_by, linked_at, previous_sourced_id)
        for plan_student_id, sourced_id, matched_by, linked_at, previous_sourced_id in conn.execute(
            "SELECT plan_student_id, sourced_id, matched_by, linked_at, previous_sourced_id "
            "FROM student_links"
        ).fetchall()
    }
    previous_reviews = dict(
        ((sourced_id, proposed_by), raised_at)
        for sourced_id, proposed_by, raised_at in conn.execute(
            "SELECT sourced_id, proposed_by, raised_at FROM link_review"
        ).fetchall()
    )

    # a link already in the snapshot keeps how and when it was first made
    link_rows = []
    for link in links:
        kept = previous_links.get((link.plan_student_id, link.sourced_id))
        if kept:
            link_rows.append((link.plan_student_id, link.sourced_id, *kept))
        else:
            previous = link.previous_sourced_id if link.is_rekey else None
            link_rows.append(
                (link.plan_student_id, link.sourced_id, link.matched_by, now, previous)
            )

    review_rows = [
        (
            review.sourced_id,
            [str(plan_id) for plan_id in review.candidate_plan_student_ids],
            review.reason,
            review.proposed_by,
            previous_reviews.get((review.sourced_id, review.proposed_by), now),
        )
        for review in reviews
    ]
    rekey_rows = [
        (link.plan_student_id, link.previous_sourced_id, link.sourced_id, link.matched_by, now)
        for link in links
        if link.is_rekey
    ]

    conn.execute("DELETE FROM student_links")
    _insert(conn, "student_links", link_rows)
    conn.execute("DELETE FROM link_review")
    _insert(conn, "link_review", review_rows)
    _insert(conn, "student_rekeys", rekey_rows)


def _insert(conn: duckdb.DuckDBPyConnection, table: str, rows: list[tuple]) -> None:
    if not rows:
        return
    columns = [column[0] for column in conn.execute(f"SELECT * FROM {table} LIMIT 0").description]
    conn.register("identity_rows", pd.DataFrame(rows, columns=columns))
    try:
        conn.execute(f"INSERT INTO {table} SELECT * FROM identity_rows")
    finally:
        conn.unregister("identity_rows")
