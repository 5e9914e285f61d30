"""Pushing flags to the Campus sandbox: round trip, E8, partial failure, idempotence, guards."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import pytest

from sg_pipelines.programs.flag_deltas import change_guard, compute_flag_deltas
from sg_pipelines.programs.gateways import FlagProgram
from sg_pipelines.programs.push import push_flags
from sg_pipelines.sandbox import SandboxServer
from sg_pipelines_tests.programs.flag_helpers import (
    CUTOVER,
    SPED,
    Badge,
    rest_gateway,
    student_ids,
    today,
    write_badges,
)

DAY = today()


@pytest.fixture
def conn():
    with duckdb.connect() as connection:
        yield connection


def nightly(conn, sandbox: SandboxServer, day: date = DAY, push_id: str = "push-1", **options):
    """One night: deltas against the sandbox, then the push."""
    with rest_gateway(sandbox, **options) as gateway:
        summary = compute_flag_deltas(conn, SPED, day, CUTOVER, gateway, current=True)
        outcome = push_flags(conn, gateway, SPED, day, push_id)
    return summary, outcome


def participations(sandbox: SandboxServer) -> dict[str, tuple]:
    return {
        p["student"]["sourcedId"]: (p["startDate"], p["endDate"], p["createdBy"])
        for p in sandbox.flags.as_dict()["participations"]
    }


def test_badges_reach_campus_and_a_second_night_changes_nothing(conn, sandbox):
    s1, s2, s3 = student_ids(sandbox, 3)
    write_badges(
        conn,
        DAY,
        [
            Badge(s1, date(2024, 9, 1)),
            Badge(s2, date(2025, 3, 1), DAY - timedelta(days=3)),
            Badge(s3, date(2025, 2, 1), active_student=False),
        ],
    )

    summary, outcome = nightly(conn, sandbox)

    assert (summary.set_count, outcome.status, outcome.set_count) == (2, "complete", 2)
    assert participations(sandbox) == {
        s1: ("2025-01-01", None, "sg-sandbox-vendor"),
        s2: ("2025-03-01", (DAY - timedelta(days=3)).isoformat(), "sg-sandbox-vendor"),
    }
    program = sandbox.flags.program_named("Special Education")
    assert program is not None and program.special_ed

    puts = sandbox.flags.puts
    summary, outcome = nightly(conn, sandbox, push_id="push-2")

    assert summary.changes == 0
    assert (outcome.status, sandbox.flags.puts) == ("complete", puts)
    log = conn.execute("SELECT push_id, status, set_count FROM flag_push_log ORDER BY 1").fetchall()
    assert log == [("push-1", "complete", 2), ("push-2", "complete", 0)]


def test_ending_a_badge_ends_the_flag_next_night(conn, sandbox):
    (s1,) = student_ids(sandbox, 1)
    write_badges(conn, DAY, [Badge(s1, date(2025, 3, 1))])
    nightly(conn, sandbox)
    write_badges(conn, DAY, [Badge(s1, date(2025, 3, 1), DAY - timedelta(days=1))])

    summary, outcome = nightly(conn, sandbox, push_id="push-2")

    assert (summary.end_count, outcome.ended_count) == (1, 1)
    assert participations(sandbox)[s1][1] == (DAY - timedelta(days=1)).isoformat()


def test_e8_a_hand_made_flag_from_before_the_cutover_is_never_touched(conn, sandbox):
    s1, s2 = student_ids(sandbox, 2)
    program = sandbox.flags.add_program("Special Education")
    hand_made = sandbox.flags.add_participation(program.sourced_id, s1, date(2024, 9, 1))
    other_vendor = sandbox.flags.add_participation(
        program.sourced_id, s2, date(2025, 2, 1), created_by="another-vendor"
    )
    write_badges(conn, DAY, [Badge(s2, date(2025, 3, 1))])  # s1 has no plan with us at all

    summary, outcome = nightly(conn, sandbox)

    assert (summary.changes, summary.held_count, outcome.status) == (0, 1, "complete")
    assert sandbox.flags.participations == {
        hand_made.sourced_id: hand_made,
        other_vendor.sourced_id: other_vendor,
    }


def test_a_partial_failure_is_recorded_and_retried_the_next_night(conn, sandbox):
    ids = student_ids(sandbox, 4)
    write_badges(conn, DAY, [Badge(sourced_id, date(2025, 3, 1)) for sourced_id in ids])
    # PUTs 3, 4 and 5 answer 500: the third change fails after one try and two retries
    for request in (3, 4, 5):
        sandbox.faults.fail("participations.put", 500, request=request)

    _, outcome = nightly(conn, sandbox, max_retries=2)

    assert (outcome.status, outcome.set_count, outcome.failed_count) == ("partial", 3, 1)
    [(attempts, error)] = conn.execute(
        "SELECT attempts, error FROM flag_push_results WHERE status = 'failed'"
    ).fetchall()
    assert attempts == 3
    assert "HTTP 500" in error and not any(sourced_id in error for sourced_id in ids)
    assert len(participations(sandbox)) == 3

    sandbox.faults.clear()
    summary, outcome = nightly(conn, sandbox, day=DAY, push_id="push-2")

    # Campus still lacks the failed flag, so it is a delta again
    assert (summary.set_count, outcome.status, outcome.set_count) == (1, "complete", 1)
    assert set(participations(sandbox)) == set(ids)


def test_a_rate_limited_put_waits_as_told_and_succeeds(conn, sandbox):
    (s1,) = student_ids(sandbox, 1)
    write_badges(conn, DAY, [Badge(s1, date(2025, 3, 1))])
    sandbox.faults.rate_limit("participations.put", retry_after=7)
    waits: list[float] = []

    _, outcome = nightly(conn, sandbox, sleep=waits.append)

    assert outcome.status == "complete"
    assert waits == [7]
    assert conn.execute("SELECT attempts FROM flag_push_results").fetchall() == [(2,)]


def test_pushing_the_same_deltas_twice_changes_nothing_the_second_time(conn, sandbox):
    s1, s2 = student_ids(sandbox, 2)
    write_badges(conn, DAY, [Badge(s1, date(2025, 3, 1)), Badge(s2, date(2025, 4, 1))])
    nightly(conn, sandbox)
    state, puts = sandbox.flags.as_dict()["participations"], sandbox.flags.puts

    with rest_gateway(sandbox) as gateway:
        outcome = push_flags(conn, gateway, SPED, DAY, "push-again")

    assert outcome.set_count == 2  # the same PUTs, answered 200
    assert (sandbox.flags.as_dict()["participations"], sandbox.flags.puts) == (state, puts)


def test_a_blocked_guard_withholds_the_whole_push(conn, sandbox):
    ids = student_ids(sandbox, 3)
    write_badges(conn, DAY, [Badge(sourced_id, date(2025, 3, 1)) for sourced_id in ids])
    nightly(conn, sandbox)
    write_badges(conn, DAY, [])

    with rest_gateway(sandbox) as gateway:
        summary = compute_flag_deltas(conn, SPED, DAY, CUTOVER, gateway, current=True)
        guard = change_guard(summary, max_share=0.25, floor=0, confirmed=False)
        outcome = push_flags(conn, gateway, SPED, DAY, "push-2", guard=guard)

    assert (guard.blocked, outcome.status) == (True, "withheld")
    assert all(end is None for _, end, _ in participations(sandbox).values())


def test_a_missing_flag_in_existing_mode_fails_with_the_name_to_create(conn, sandbox):
    (s1,) = student_ids(sandbox, 1)
    write_badges(conn, DAY, [Badge(s1, date(2025, 3, 1))])
    sandbox.flags.add_program("Special Education", special_ed=False)
    program = FlagProgram("section_504", "Section 504")

    with rest_gateway(sandbox, flag_mode="existing") as gateway:
        outcome = push_flags(conn, gateway, program, DAY, "push-1")
        sped = push_flags(conn, gateway, SPED, DAY, "push-2")

    assert outcome.status == "failed"
    assert "'Section 504' does not exist" in outcome.message
    assert "Flags Setup" in outcome.message
    assert sped.status == "failed" and "not Special Ed" in sped.message
    assert conn.execute("SELECT count(*) FROM flag_push_log").fetchall() == [(2,)]
