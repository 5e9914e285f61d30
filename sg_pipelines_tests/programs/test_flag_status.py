"""program_status: each program's pushes and unflaggable badges, as counts, read-only."""

from __future__ import annotations

from datetime import date

import duckdb

from sg_pipelines.programs.flag_deltas import compute_flag_deltas
from sg_pipelines.programs.gateways import CampusFlag
from sg_pipelines.programs.push import push_flags
from sg_pipelines.programs.status import program_status
from sg_pipelines_tests.programs.flag_helpers import (
    CUTOVER,
    SPED,
    Badge,
    FakeGateway,
    today,
    write_badges,
)

DAY = today()


def test_status_counts_pushes_and_students_who_cannot_be_flagged(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as conn:
        write_badges(conn, DAY, [Badge("s1", date(2025, 3, 1)), Badge("s2", date(2025, 3, 1))])
        conn.execute(
            "CREATE TABLE unflaggable_badges AS SELECT * FROM (VALUES "
            "('special_education', ?::DATE, 7, 'not linked'), "
            "('special_education', ?::DATE, 8, 'not linked'), "
            "('special_education', ?::DATE, 9, 'student inactive')) "
            "AS t(program, as_of_date, plan_student_id, reason)",
            [DAY, DAY, DAY],
        )
        held = CampusFlag("theirs", "s2", date(2025, 1, 15), None, "another-vendor")
        gateway = FakeGateway([held])
        compute_flag_deltas(conn, SPED, DAY, CUTOVER, gateway, current=True)
        push_flags(conn, gateway, SPED, DAY, "push-1")

    [status] = program_status(path)

    assert status.program == SPED.key
    assert (status.last_attempt_status, status.flags_set, status.changes_failed) == (
        "complete",
        1,
        0,
    )
    assert status.healthy
    assert status.unflaggable == {
        "not linked": 2,
        "student inactive": 1,
        "held by another owner": 1,
    }
    assert "s1" not in str(status.as_metadata())


def test_status_before_any_run_is_empty(tmp_path):
    assert program_status(tmp_path / "missing.duckdb") == []
