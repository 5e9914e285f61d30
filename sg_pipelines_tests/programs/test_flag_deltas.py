"""flag_deltas: badges against what Campus holds, changing only the flags this system owns."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import pytest

from sg_pipelines.programs.flag_deltas import DeltaSummary, change_guard, compute_flag_deltas
from sg_pipelines.programs.gateways import CampusFlag, participation_id
from sg_pipelines_tests.programs.flag_helpers import (
    CUTOVER,
    SPED,
    VENDOR_KEY,
    Badge,
    FakeGateway,
    today,
    write_badges,
)

DAY = today()
YESTERDAY = DAY - timedelta(days=1)
ANOTHER_VENDOR = "other-vendor"
# the ids a new flag of student s1 is PUT to
NEW_MARCH = participation_id(SPED.key, "s1", date(2025, 3, 1))
NEW_CUTOVER = participation_id(SPED.key, "s1", CUTOVER)


def ours(sourced_id: str, start: date, end: date | None = None, pid: str = "ours-1") -> CampusFlag:
    return CampusFlag(pid, sourced_id, start, end, VENDOR_KEY)


def deltas(badges: list[Badge], campus: list[CampusFlag]) -> list[tuple]:
    conn = duckdb.connect()
    write_badges(conn, DAY, badges)
    compute_flag_deltas(conn, SPED, DAY, CUTOVER, FakeGateway(campus), current=True)
    return conn.execute(
        "SELECT sourced_id, action, start_date, end_date, campus_participation_id, reason "
        "FROM flag_deltas ORDER BY sourced_id, start_date"
    ).fetchall()


@pytest.mark.parametrize(
    ("badges", "campus", "expected"),
    [
        pytest.param(
            [Badge("s1", date(2025, 3, 1))],
            [],
            [("s1", "set", date(2025, 3, 1), None, NEW_MARCH, "new badge")],
            id="a new badge sets a flag with a deterministic id",
        ),
        pytest.param(
            [Badge("s1", date(2024, 9, 1), date(2025, 6, 30))],
            [],
            [("s1", "set", CUTOVER, date(2025, 6, 30), NEW_CUTOVER, "new badge")],
            id="a flag never starts before the cutover",
        ),
        pytest.param(
            [Badge("s1", date(2024, 1, 1), date(2024, 12, 31))],
            [],
            [],
            id="a badge that ended before the cutover is history",
        ),
        pytest.param(
            [Badge("s1", date(2025, 3, 1), YESTERDAY)],
            [ours("s1", date(2025, 3, 1))],
            [("s1", "end", date(2025, 3, 1), YESTERDAY, "ours-1", "badge ended")],
            id="an ended badge ends our flag on the badge end",
        ),
        pytest.param(
            [Badge("s1", date(2025, 4, 1))],
            [ours("s1", date(2025, 3, 1))],
            [("s1", "update", date(2025, 4, 1), None, "ours-1", "dates changed")],
            id="a moved start updates our flag",
        ),
        pytest.param(
            [Badge("s1", date(2025, 3, 1), active_student=False)],
            [ours("s1", date(2025, 3, 1))],
            [("s1", "end", date(2025, 3, 1), YESTERDAY, "ours-1", "student inactive")],
            id="an inactive student's flag ends the day before",
        ),
        pytest.param(
            [],
            [ours("s1", date(2025, 3, 1))],
            [("s1", "end", date(2025, 3, 1), YESTERDAY, "ours-1", "no badge")],
            id="our flag without a badge ends the day before",
        ),
        pytest.param(
            [Badge("s1", date(2025, 3, 1))],
            [ours("s1", date(2025, 3, 1))],
            [],
            id="an unchanged flag is left alone",
        ),
        pytest.param(
            [Badge(None, date(2025, 3, 1))],
            [],
            [],
            id="an unlinked student cannot be flagged",
        ),
        pytest.param(
            [],
            [CampusFlag("hand-1", "s1", date(2024, 9, 1), None, None)],
            [],
            id="E8: a hand-made flag from before the cutover is untouched",
        ),
        pytest.param(
            [],
            [ours("s1", date(2024, 9, 1))],
            [],
            id="E8: even our own vendor's flag from before the cutover is untouched",
        ),
        pytest.param(
            [Badge("s1", date(2025, 3, 1))],
            [CampusFlag("theirs-1", "s1", date(2025, 2, 1), None, ANOTHER_VENDOR)],
            [("s1", "hold", date(2025, 3, 1), None, "theirs-1", "held by another owner")],
            id="a badge covered by another owner's flag is held, not flagged twice",
        ),
        pytest.param(
            [Badge("s1", date(2025, 3, 1))],
            [CampusFlag("theirs-1", "s1", date(2024, 9, 1), date(2025, 1, 31), ANOTHER_VENDOR)],
            [("s1", "set", date(2025, 3, 1), None, NEW_MARCH, "new badge")],
            id="another owner's flag that ended earlier does not hold a new badge",
        ),
    ],
)
def test_flag_delta_rules(badges, campus, expected):
    assert deltas(badges, campus) == expected


BEFORE_CUTOVER = CUTOVER - timedelta(days=1)


@pytest.mark.parametrize(
    ("badges", "campus", "expected"),
    [
        pytest.param(
            [],
            [ours("s1", CUTOVER)],
            [("s1", "end", CUTOVER, YESTERDAY, "ours-1", "no badge")],
            id="our flag started on the cutover day is ours to end",
        ),
        pytest.param(
            [],
            [ours("s1", BEFORE_CUTOVER)],
            [],
            id="our flag started the day before the cutover is left alone",
        ),
        pytest.param(
            [],
            [CampusFlag("hand-1", "s1", CUTOVER, None, None)],
            [],
            id="a hand-made flag started on the cutover day is left alone",
        ),
        pytest.param(
            [Badge("s1", date(2025, 3, 1))],
            [ours("s1", BEFORE_CUTOVER)],
            [("s1", "hold", date(2025, 3, 1), None, "ours-1", "held by another owner")],
            id="our open flag from before the cutover holds a badge, never changed",
        ),
        pytest.param(
            [Badge("s1", BEFORE_CUTOVER)],
            [ours("s1", CUTOVER)],
            [],
            id="a badge from the day before the cutover matches our flag on the cutover",
        ),
        pytest.param(
            [Badge("s1", date(2024, 9, 1), BEFORE_CUTOVER)],
            [],
            [],
            id="a badge that ended the day before the cutover is history",
        ),
        pytest.param(
            [Badge("s1", date(2024, 9, 1), CUTOVER)],
            [],
            [("s1", "set", CUTOVER, CUTOVER, NEW_CUTOVER, "new badge")],
            id="a badge that ends on the cutover day is flagged for that one day",
        ),
    ],
)
def test_e8_cutover_edges(badges, campus, expected):
    assert deltas(badges, campus) == expected


def test_flags_of_another_program_student_are_not_confused_with_this_one():
    badges = [Badge("s1", date(2025, 3, 1), program="section_504")]

    assert deltas(badges, []) == []


def test_a_historical_day_writes_no_deltas_and_says_so():
    conn = duckdb.connect()
    write_badges(conn, DAY - timedelta(days=30), [Badge("s1", date(2025, 3, 1))])
    gateway = FakeGateway()

    summary = compute_flag_deltas(
        conn, SPED, DAY - timedelta(days=30), CUTOVER, gateway, current=False
    )

    assert summary.note == "historical day: not pushed"
    assert conn.execute("SELECT count(*) FROM flag_deltas").fetchall() == [(0,)]


def test_a_day_before_the_cutover_does_nothing_and_says_so():
    conn = duckdb.connect()
    write_badges(conn, date(2024, 12, 1), [Badge("s1", date(2024, 9, 1))])

    summary = compute_flag_deltas(
        conn, SPED, date(2024, 12, 1), CUTOVER, FakeGateway(), current=True
    )

    assert summary.state == "before cutover"
    assert summary.changes == 0


def test_recomputing_a_day_replaces_its_slice():
    conn = duckdb.connect()
    write_badges(conn, DAY, [Badge("s1", date(2025, 3, 1)), Badge("s2", date(2025, 3, 1))])
    compute_flag_deltas(conn, SPED, DAY, CUTOVER, FakeGateway(), current=True)
    write_badges(conn, DAY, [Badge("s1", date(2025, 3, 1))])

    summary = compute_flag_deltas(conn, SPED, DAY, CUTOVER, FakeGateway(), current=True)

    assert summary.set_count == 1
    assert conn.execute("SELECT count(*) FROM flag_deltas").fetchall() == [(1,)]
    assert conn.execute("SELECT count(*) FROM flag_delta_summary").fetchall() == [(1,)]


def summary(owned_open: int, sets: int = 0, ends: int = 0) -> DeltaSummary:
    return DeltaSummary(SPED.key, DAY, "current", "fake", owned_open, owned_open, sets, ends)


@pytest.mark.parametrize(
    ("owned_open", "sets", "ends", "confirmed", "blocked"),
    [
        pytest.param(500, 0, 497, False, True, id="A6: ending 497 of 500 flags is blocked"),
        pytest.param(500, 0, 497, True, False, id="a confirmed run goes through"),
        pytest.param(500, 100, 25, False, False, id="125 of 500 is within a quarter"),
        pytest.param(500, 126, 0, False, True, id="126 of 500 is more than a quarter"),
        pytest.param(10, 0, 10, False, False, id="the floor keeps small programs moving"),
        pytest.param(0, 300, 0, False, False, id="a program's first push is its initial load"),
    ],
)
def test_the_mass_change_guard(owned_open, sets, ends, confirmed, blocked):
    guard = change_guard(
        summary(owned_open, sets, ends), max_share=0.25, floor=20, confirmed=confirmed
    )

    assert guard.blocked is blocked


def test_a_blocked_push_says_how_to_confirm_it():
    guard = change_guard(summary(500, 0, 497), max_share=0.25, floor=20, confirmed=False)

    assert "sg/confirm_large_change=true" in guard.message
    assert "flags.confirm_large_change: true" in guard.message
