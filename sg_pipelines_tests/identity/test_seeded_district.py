"""Linking the demo seed's plan students: every planted case lands where it should."""

from __future__ import annotations

from datetime import date

from sg_pipelines.appdb.seed import seed_demo
from sg_pipelines.identity.run import link_roster_students
from sg_pipelines.warehouse import connect
from sg_pipelines_tests.identity.conftest import roster_student, write_roster


def test_seeded_district_links_rekeys_reviews_and_creates_as_planted(warehouse, app_db):
    students = [roster_student(number) for number in range(1, 601)]
    seed_rows = [
        {**student, "birth_date": date.isoformat(student["birth_date"])} for student in students
    ]
    seeded = seed_demo(app_db, seed_rows, seed=7)
    write_roster(warehouse, students)

    with connect(warehouse) as conn:
        summary = link_roster_students(conn, app_db, run_id="run-1").summary

    assert summary.linked_by_internal_sis_id == seeded.with_sourced_id
    assert summary.linked_by_emis_student_id == (
        seeded.older_by_emis_student_id + seeded.stale_sourced_id
    )
    assert summary.linked_by_state_id == seeded.older_by_state_id
    assert summary.linked_by_local_id == seeded.older_by_local_id
    assert summary.rekeyed == seeded.stale_sourced_id
    assert summary.sent_to_review == (
        seeded.shared_emis_student_id + seeded.name_and_birth_date_only
    )
    assert summary.created == seeded.not_created
