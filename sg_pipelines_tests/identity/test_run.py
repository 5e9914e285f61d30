"""A whole linking run against a real SQLite app database and a real DuckDB warehouse."""

from __future__ import annotations

from pathlib import Path

import pytest

from sg_pipelines.appdb import AppDatabase, NewStudent
from sg_pipelines.identity.run import link_roster_students
from sg_pipelines.warehouse import connect
from sg_pipelines_tests.identity.conftest import fetch, guardian, roster_student, write_roster


def run_linking(warehouse: Path, app_db: AppDatabase, run_id: str = "run-1"):
    with connect(warehouse) as conn:
        return link_roster_students(conn, app_db, run_id=run_id).summary


def test_unmatched_roster_students_are_created_with_their_guardians(warehouse, app_db):
    write_roster(
        warehouse,
        [roster_student(1), roster_student(2)],
        [
            guardian(1, "g-1"),
            guardian(1, "g-2", relationship="other", role="relative"),
            guardian(1, "g-3", is_active=False),
            guardian(2, "g-4", relationship="student"),
        ],
    )

    summary = run_linking(warehouse, app_db)

    assert summary.created == 2
    first = app_db.find_by_internal_sis_id("sourced-0001")
    assert (first.emis_student_id, first.first_name, first.active) == ("000000001", "Given1", True)
    assert [(c.external_id, c.relationship) for c in app_db.contacts(first.id)] == [
        ("g-1", "guardian"),
        ("g-2", "other"),
    ]
    assert app_db.contacts(app_db.find_by_internal_sis_id("sourced-0002").id) == []
    assert fetch(warehouse, "SELECT sourced_id, matched_by FROM student_links ORDER BY 1") == [
        ("sourced-0001", "created"),
        ("sourced-0002", "created"),
    ]


@pytest.mark.parametrize(
    ("existing", "matched_by"),
    [
        ({"emis_student_id": "000000001"}, "emis_student_id"),
        ({"state_id": "ST00001"}, "state_id"),
        ({"local_id": "L00001"}, "local_id"),
    ],
)
def test_existing_student_matched_by_second_key_gets_the_sourced_id_written_back(
    warehouse, app_db, existing, matched_by
):
    plan_id = app_db.create_student(NewStudent("Given1", "Family1", **existing), actor="test")
    write_roster(warehouse, [roster_student(1)])

    summary = run_linking(warehouse, app_db)

    assert getattr(summary, f"linked_by_{matched_by}") == 1
    assert (summary.created, summary.newly_linked) == (0, 1)
    assert app_db.student(plan_id).internal_sis_student_id == "sourced-0001"
    [entry] = app_db.audit_entries(action="student.internal_sis_id_set")
    assert (entry.subject_id, entry.detail) == (
        str(plan_id),
        {"matched_by": matched_by, "run_id": "run-1"},
    )
    assert fetch(warehouse, "SELECT plan_student_id, matched_by FROM student_links") == [
        (plan_id, matched_by)
    ]


def test_new_sourced_id_with_matching_emis_id_rekeys_instead_of_creating(warehouse, app_db):
    plan_id = app_db.create_student(
        NewStudent(
            "Given1", "Family1", internal_sis_student_id="sourced-old", emis_student_id="000000001"
        ),
        actor="test",
    )
    write_roster(warehouse, [roster_student(1)])

    summary = run_linking(warehouse, app_db)

    assert (summary.rekeyed, summary.created, app_db.student_count()) == (1, 0, 1)
    assert app_db.student(plan_id).internal_sis_student_id == "sourced-0001"
    [entry] = app_db.audit_entries(action="student.rekeyed")
    assert entry.subject_id == str(plan_id)
    assert fetch(
        warehouse, "SELECT plan_student_id, old_sourced_id, new_sourced_id FROM student_rekeys"
    ) == [(plan_id, "sourced-old", "sourced-0001")]
    assert fetch(warehouse, "SELECT previous_sourced_id FROM student_links") == [("sourced-old",)]


def test_ambiguous_and_name_only_matches_go_to_review_without_write_back(warehouse, app_db):
    for _ in range(2):
        app_db.create_student(
            NewStudent("Given1", "Family1", emis_student_id="000000001"), actor="t"
        )
    app_db.create_student(
        NewStudent("Given2", "Family2", birth_date=roster_student(2)["birth_date"]), actor="t"
    )
    write_roster(warehouse, [roster_student(1), roster_student(2)])

    summary = run_linking(warehouse, app_db)

    assert (summary.sent_to_review, summary.created) == (2, 0)
    assert all(student.internal_sis_student_id is None for student in app_db.students())
    assert fetch(
        warehouse,
        "SELECT sourced_id, candidate_plan_student_ids, proposed_by FROM link_review ORDER BY 1",
    ) == [("sourced-0001", ["1", "2"], "ambiguous"), ("sourced-0002", ["3"], "name_birth_date")]
    assert fetch(warehouse, "SELECT count(*) FROM student_links") == [(0,)]


def test_second_run_with_the_same_roster_changes_nothing(warehouse, app_db):
    app_db.create_student(NewStudent("Given1", "Family1", emis_student_id="000000001"), actor="t")
    app_db.create_student(
        NewStudent("Given2", "Family2", internal_sis_student_id="old", state_id="ST00002"),
        actor="t",
    )
    for _ in range(2):
        app_db.create_student(NewStudent("X", "Y", emis_student_id="000000004"), actor="t")
    students = [roster_student(number) for number in range(1, 5)]
    write_roster(warehouse, students, [guardian(1, "g-1"), guardian(3, "g-3")])
    first = run_linking(warehouse, app_db, run_id="run-1")
    snapshot = fetch(warehouse, "SELECT * FROM student_links ORDER BY sourced_id")
    reviews = fetch(warehouse, "SELECT * FROM link_review ORDER BY sourced_id")
    audit_rows = len(app_db.audit_entries())

    second = run_linking(warehouse, app_db, run_id="run-2")

    assert (first.created, first.newly_linked, first.rekeyed) == (1, 2, 1)
    assert (second.created, second.newly_linked, second.rekeyed, second.updated) == (0, 0, 0, 0)
    assert (second.linked_by_internal_sis_id, second.unchanged, second.sent_to_review) == (3, 3, 1)
    assert len(app_db.audit_entries()) == audit_rows
    assert fetch(warehouse, "SELECT * FROM student_links ORDER BY sourced_id") == snapshot
    assert fetch(warehouse, "SELECT * FROM link_review ORDER BY sourced_id") == reviews
    assert fetch(warehouse, "SELECT count(*) FROM student_rekeys") == [(1,)]


def test_inactive_roster_student_keeps_its_link_and_deactivates_the_plan_student(warehouse, app_db):
    write_roster(warehouse, [roster_student(1)])
    run_linking(warehouse, app_db)
    write_roster(warehouse, [roster_student(1, is_active=False)])

    summary = run_linking(warehouse, app_db, run_id="run-2")

    student = app_db.find_by_internal_sis_id("sourced-0001")
    assert (summary.deactivated, student.active, app_db.student_count()) == (1, False, 1)
    assert fetch(warehouse, "SELECT sourced_id FROM student_links") == [("sourced-0001",)]

    write_roster(warehouse, [roster_student(1)])
    assert run_linking(warehouse, app_db, run_id="run-3").reactivated == 1


def test_contacts_are_upserted_and_never_deleted_when_a_guardian_is_missing(warehouse, app_db):
    write_roster(warehouse, [roster_student(1)], [guardian(1, "g-1"), guardian(1, "g-2")])
    run_linking(warehouse, app_db)
    write_roster(warehouse, [roster_student(1)], [guardian(1, "g-1", phone="555-0199")])

    summary = run_linking(warehouse, app_db, run_id="run-2")

    student_id = app_db.find_by_internal_sis_id("sourced-0001").id
    assert summary.updated == 1
    assert [(c.external_id, c.phone) for c in app_db.contacts(student_id)] == [
        ("g-1", "555-0199"),
        ("g-2", "555-0100"),
    ]


def test_a_failure_mid_run_leaves_both_stores_at_their_last_good_state(
    warehouse, app_db, monkeypatch
):
    app_db.create_student(NewStudent("Given1", "Family1", emis_student_id="000000001"), actor="t")
    write_roster(warehouse, [roster_student(1)])
    run_linking(warehouse, app_db)
    write_roster(
        warehouse,
        [roster_student(1, grade="06"), roster_student(2), roster_student(3)],
        [guardian(2, "g-2")],
    )
    before = (app_db.students(), len(app_db.audit_entries()))
    links_before = fetch(warehouse, "SELECT * FROM student_links")

    # the second student created fails, after the update and the first creation were written
    original = AppDatabase.create_student
    calls = []

    def failing_create_student(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("injected failure")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(AppDatabase, "create_student", failing_create_student)
    with pytest.raises(RuntimeError, match="injected failure"):
        run_linking(warehouse, app_db, run_id="run-2")

    assert (app_db.students(), len(app_db.audit_entries())) == before
    assert app_db.contacts_by_student() == {}
    assert fetch(warehouse, "SELECT * FROM student_links") == links_before


def test_roster_emis_id_without_leading_zeros_still_matches_the_padded_one(warehouse, app_db):
    plan_id = app_db.create_student(
        NewStudent("Given1", "Family1", emis_student_id="000000001"), actor="t"
    )
    write_roster(warehouse, [roster_student(1, emis_student_id="1", state_id=None, local_id=None)])

    summary = run_linking(warehouse, app_db)

    assert (summary.linked_by_emis_student_id, summary.created) == (1, 0)
    assert app_db.student(plan_id).internal_sis_student_id == "sourced-0001"
