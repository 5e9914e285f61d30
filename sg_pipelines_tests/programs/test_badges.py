"""Badge computation over the warehouse snapshot: many days in one pass, cutover, lapse,
unflaggable badges and the delete-then-insert of slices."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import duckdb
import pytest

from sg_pipelines.programs.badges import compute_badges, ensure_tables, write_badges
from sg_pipelines.programs.documents import DOCUMENT_TYPES, SNAPSHOT_COLUMNS
from sg_pipelines.warehouse import prepare

PROGRAM_OF = {kind: program for program, kinds in DOCUMENT_TYPES.items() for kind in kinds}
EARLY_CUTOVER = date(2020, 1, 1)


def doc(
    document_id: int,
    document_type: str,
    effective: date,
    *,
    completed: date | datetime | None = None,
    status: str = "completed",
    end: date | None = None,
    amends: int | None = None,
    student: int = 1,
    sourced_id: str | None = "sourced-1",
) -> dict[str, Any]:
    """A warehouse `plan_documents` row; completed on its effective day unless told otherwise."""
    completed = completed or effective
    if not isinstance(completed, datetime):
        completed = datetime(completed.year, completed.month, completed.day, 15, tzinfo=UTC)
    return {
        "id": document_id,
        "student_id": student,
        "program": PROGRAM_OF[document_type],
        "document_type": document_type,
        "status": status,
        "completed_at": completed if status == "completed" else None,
        "meeting_date": effective,
        "effective_start": effective,
        "effective_end": end,
        "amends_document_id": amends,
        "fields": "{}",
        "created_at": completed,
        "updated_at": completed,
        "sourced_id": sourced_id,
    }


def load_documents(conn: duckdb.DuckDBPyConnection, documents: Sequence[dict[str, Any]]) -> None:
    ensure_tables(conn)
    conn.execute("DELETE FROM plan_documents")
    placeholders = ", ".join("?" * len(SNAPSHOT_COLUMNS))
    for row in documents:
        conn.execute(
            f"INSERT INTO plan_documents VALUES ({placeholders})",
            [row[column] for column in SNAPSHOT_COLUMNS],
        )


@pytest.fixture
def conn() -> Iterator[duckdb.DuckDBPyConnection]:
    with duckdb.connect() as connection:
        yield prepare(connection)


def badges_as_of(
    documents: Sequence[dict[str, Any]],
    program: str,
    day: date,
    cutover: date = EARLY_CUTOVER,
) -> list[tuple]:
    """(badge_start, badge_end, start_document_id, end_document_id, active_on_day) on the day."""
    with duckdb.connect() as connection:
        prepare(connection)
        load_documents(connection, documents)
        compute_badges(connection, {program: [day]}, {program: cutover})
        return connection.execute(
            "SELECT badge_start, badge_end, start_document_id, end_document_id, active_on_day "
            "FROM computed_badges WHERE as_of_date = ? ORDER BY badge_start",
            [day],
        ).fetchall()


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def test_one_pass_over_many_days_sees_each_day_as_known_then(conn):
    load_documents(
        conn,
        [
            doc(1, "iep_initial", date(2025, 9, 10), completed=date(2025, 9, 12)),
            doc(2, "sped_exit", date(2025, 9, 20), completed=date(2025, 9, 18)),
        ],
    )

    counts = compute_badges(
        conn,
        {"special_education": days(date(2025, 9, 9), date(2025, 9, 21))},
        {"special_education": EARLY_CUTOVER},
    )
    rows = dict(
        conn.execute(
            "SELECT as_of_date, (badge_start, badge_end, active_on_day) FROM computed_badges"
        ).fetchall()
    )

    assert date(2025, 9, 11) not in rows  # completed on the 12th
    assert rows[date(2025, 9, 12)] == (date(2025, 9, 10), None, True)
    assert rows[date(2025, 9, 18)] == (date(2025, 9, 10), date(2025, 9, 19), True)
    assert rows[date(2025, 9, 20)] == (date(2025, 9, 10), date(2025, 9, 19), False)
    opened = {count.as_of_date for count in counts if count.badges_opened}
    closed = {count.as_of_date for count in counts if count.badges_closed}
    assert (opened, closed) == ({date(2025, 9, 12)}, {date(2025, 9, 20)})


def test_intervals_that_ended_before_the_cutover_are_left_out():
    documents = [
        doc(1, "504_plan", date(2024, 9, 1)),
        doc(2, "504_exit", date(2025, 3, 1)),
        doc(3, "504_plan", date(2025, 5, 1)),
    ]

    on_day = badges_as_of(documents, "section_504", date(2025, 9, 1), cutover=date(2025, 8, 1))

    assert on_day == [(date(2025, 5, 1), None, 3, None, True)]


def test_a_plan_that_started_before_the_cutover_keeps_its_real_start():
    documents = [doc(1, "iep_initial", date(2024, 10, 1))]

    on_day = badges_as_of(documents, "special_education", date(2025, 8, 1), date(2025, 8, 1))

    assert on_day == [(date(2024, 10, 1), None, 1, None, True)]


@pytest.mark.parametrize(
    ("day", "expected_end", "active"),
    [
        (date(2026, 9, 3), None, True),  # the last day of grace: still open
        (date(2026, 9, 4), date(2026, 9, 3), False),  # lapsed: ended on the last day of grace
    ],
)
def test_a_written_education_plan_lapses_ninety_days_after_its_effective_end(
    day, expected_end, active
):
    documents = [doc(1, "wep", date(2025, 8, 20), end=date(2026, 6, 5))]

    assert badges_as_of(documents, "advanced_learners", day) == [
        (date(2025, 8, 20), expected_end, 1, None, active)
    ]


def test_a_renewal_after_a_lapse_opens_a_second_interval_and_dates_the_first():
    documents = [
        doc(1, "rimp", date(2024, 9, 1), end=date(2025, 5, 30)),
        doc(2, "rimp", date(2025, 10, 1), end=date(2026, 5, 29), completed=date(2025, 8, 5)),
    ]

    # on 5 August the renewal is known, so the first plan's lapse is a fact before it comes
    assert badges_as_of(documents, "k4_literacy", date(2025, 8, 5)) == [
        (date(2024, 9, 1), date(2025, 8, 28), 1, None, True),
        (date(2025, 10, 1), None, 2, None, False),
    ]


def test_unflaggable_badges_name_unlinked_and_inactive_students(conn):
    day = date(2025, 10, 1)
    load_documents(
        conn,
        [
            doc(1, "el_plan", date(2025, 9, 1), student=1, sourced_id=None),
            doc(2, "el_plan", date(2025, 9, 1), student=2, sourced_id="sourced-2"),
            doc(3, "el_plan", date(2025, 9, 1), student=3, sourced_id="sourced-3"),
            doc(4, "el_plan", date(2025, 9, 1), student=4, sourced_id=None),
            doc(5, "el_exit", date(2025, 9, 15), student=4, sourced_id=None),
        ],
    )
    conn.execute("CREATE TABLE roster_students (sourced_id VARCHAR, is_active BOOLEAN)")
    conn.execute("INSERT INTO roster_students VALUES ('sourced-2', true), ('sourced-3', false)")

    [count] = write_badges(conn, {"english_learners": [day]}, {"english_learners": EARLY_CUTOVER})

    assert conn.execute(
        "SELECT plan_student_id, reason FROM unflaggable_badges ORDER BY plan_student_id"
    ).fetchall() == [(1, "not linked"), (3, "student inactive")]
    assert (count.badges, count.badges_active, count.unflaggable) == (4, 3, 2)


def test_write_badges_replaces_only_its_own_slices(conn):
    load_documents(conn, [doc(1, "504_plan", date(2025, 9, 1))])
    cutovers = {"section_504": EARLY_CUTOVER}
    write_badges(conn, {"section_504": [date(2025, 9, 1), date(2025, 9, 2)]}, cutovers)

    # the plan gets an exit; only 2 September is recomputed
    load_documents(
        conn, [doc(1, "504_plan", date(2025, 9, 1)), doc(2, "504_exit", date(2025, 9, 2))]
    )
    write_badges(conn, {"section_504": [date(2025, 9, 2)]}, cutovers)

    assert conn.execute(
        "SELECT as_of_date, badge_end FROM program_participation_badges ORDER BY as_of_date"
    ).fetchall() == [(date(2025, 9, 1), None), (date(2025, 9, 2), date(2025, 9, 1))]
