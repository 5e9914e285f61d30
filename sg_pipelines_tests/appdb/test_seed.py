"""The demo seed: the plan system's students before the first Campus sync."""

from __future__ import annotations

import random
from dataclasses import asdict
from datetime import date
from pathlib import Path

import pytest

from sg_pipelines.appdb import AppDatabase, NewStudent
from sg_pipelines.appdb.seed import roster_rows_from_oneroster_users, seed_demo
from sg_pipelines.demo import add_data_defects
from sg_pipelines.sandbox.generator import generate_district


def roster_rows(count: int) -> list[dict]:
    return [
        {
            "sourced_id": f"sourced-{number:05d}",
            "emis_student_id": f"{number:09d}",
            "state_id": f"ST{number:05d}",
            "local_id": f"L{number:05d}",
            "given_name": f"Given{number}",
            "family_name": f"Family{number}",
            "birth_date": date(2010, 1 + number % 12, 1 + number % 28).isoformat(),
            "building_irn": "012345",
            "grade": "05",
        }
        for number in range(1, count + 1)
    ]


def seeded(tmp_path: Path, name: str, rows: list[dict], seed: int = 7):
    with AppDatabase(f"sqlite:///{tmp_path / name}") as app_db:
        summary = seed_demo(app_db, rows, seed=seed)
        students = [asdict(student) for student in app_db.students()]
    return summary, students


def test_same_roster_and_seed_give_the_same_students_whatever_the_row_order(tmp_path):
    rows = roster_rows(400)
    shuffled = random.Random(1).sample(rows, len(rows))

    first = seeded(tmp_path, "a.sqlite", rows)
    second = seeded(tmp_path, "b.sqlite", shuffled)
    other_seed = seeded(tmp_path, "c.sqlite", rows, seed=8)

    assert first == second
    assert first[1] != other_seed[1]


def test_seed_proportions_match_a_district_before_its_first_sync(tmp_path):
    summary, students = seeded(tmp_path, "app.sqlite", roster_rows(1000))

    older = summary.older_by_emis_student_id + summary.older_by_state_id + summary.older_by_local_id
    assert summary.with_sourced_id == 20
    assert older == 150
    assert summary.older_by_state_id > 0 and summary.older_by_local_id > 0
    assert summary.older_by_emis_student_id > summary.older_by_state_id
    assert (
        summary.shared_emis_student_id,
        summary.stale_sourced_id,
        summary.name_and_birth_date_only,
    ) == (5, 5, 5)
    assert summary.not_created == 1000 - 20 - 150 - 15
    # two plan students per shared EMIS Student ID, one for every other case
    assert summary.plan_students == len(students) == 20 + 150 + 2 * 5 + 5 + 5


def test_small_roster_still_gets_one_of_each_hard_case(tmp_path):
    summary, _ = seeded(tmp_path, "app.sqlite", roster_rows(30))

    assert (
        summary.shared_emis_student_id,
        summary.stale_sourced_id,
        summary.name_and_birth_date_only,
    ) == (1, 1, 1)


def test_seed_does_nothing_when_the_plan_system_already_has_students(tmp_path):
    with AppDatabase(f"sqlite:///{tmp_path / 'app.sqlite'}") as app_db:
        app_db.create_student(NewStudent("A", "B"), actor="test")

        summary = seed_demo(app_db, roster_rows(100))

        assert summary.skipped
        assert app_db.student_count() == 1


ORGS = [
    {"sourcedId": "district-1", "type": "district", "identifier": "043000"},
    {"sourcedId": "school-1", "type": "school", "identifier": "012345"},
]


def user(sourced_id: str, role: str = "student", **fields) -> dict:
    return {
        "sourcedId": sourced_id,
        "status": "active",
        "givenName": "Ada",
        "familyName": "Byron",
        "identifier": "L1234",
        "grades": ["05"],
        "roles": [
            {"roleType": "secondary", "role": role, "org": {"sourcedId": "district-1"}},
            {"roleType": "primary", "role": role, "org": {"sourcedId": "school-1"}},
        ],
        "metadata": {"ic": {"emisStudentId": "1234", "stateId": "ST1234"}},
        **fields,
    }


def test_oneroster_students_become_seed_rows_with_padded_emis_ids_and_building_irns():
    users = [
        user("s-1"),
        user("p-1", role="parent"),
        user("s-2", status="tobedeleted"),
        user("s-3", metadata={}, grades=[], identifier=""),
    ]
    demographics = [{"sourcedId": "s-1", "birthDate": "2012-12-10"}]

    rows = roster_rows_from_oneroster_users(users, ORGS, demographics)

    assert rows == [
        {
            "sourced_id": "s-1",
            "emis_student_id": "000001234",
            "state_id": "ST1234",
            "local_id": "L1234",
            "given_name": "Ada",
            "family_name": "Byron",
            "birth_date": "2012-12-10",
            "building_irn": "012345",
            "grade": "05",
        },
        {
            "sourced_id": "s-3",
            "emis_student_id": None,
            "state_id": None,
            "local_id": None,
            "given_name": "Ada",
            "family_name": "Byron",
            "birth_date": None,
            "building_irn": "012345",
            "grade": None,
        },
    ]


@pytest.mark.parametrize(
    ("emis_student_id", "expected"),
    [("1234", "000001234"), (1234, "000001234"), ("001234567", "001234567"), ("12-34", None)],
)
def test_emis_student_ids_are_padded_to_nine_characters(emis_student_id, expected):
    [row] = roster_rows_from_oneroster_users(
        [user("s-1", metadata={"ic": {"emisStudentId": emis_student_id}})], ORGS
    )

    assert row["emis_student_id"] == expected


def test_birth_dates_the_roster_cannot_read_are_unknown_to_the_seed():
    demographics = [
        {"sourcedId": "s-1", "birthDate": "03/14/2012"},
        {"sourcedId": "s-2", "birthDate": "2012-02-30"},
        {"sourcedId": "s-3", "birthDate": 20120314},
    ]
    users = [user("s-1"), user("s-2"), user("s-3")]

    rows = roster_rows_from_oneroster_users(users, ORGS, demographics)

    assert [row["birth_date"] for row in rows] == [None, None, None]


@pytest.mark.parametrize(("seed", "students"), [(1, 2000), (2, 2000), (3, 2000), (7, 200)])
def test_the_demo_district_with_its_us_order_birth_dates_seeds_the_plan_system(
    tmp_path, seed, students
):
    district = generate_district(students=students, seed=seed)
    add_data_defects(district)
    rows = roster_rows_from_oneroster_users(
        district.collection("users"),
        district.collection("orgs"),
        district.collection("demographics"),
    )

    summary, plan_students = seeded(tmp_path, "app.sqlite", rows, seed=seed)

    assert summary.plan_students == len(plan_students) > 0
    # a look-alike known by name and birth date only has a birth date to be known by
    keys = ("internal_sis_student_id", "emis_student_id", "state_id", "local_id")
    look_alikes = [student for student in plan_students if not any(student[k] for k in keys)]
    assert len(look_alikes) == summary.name_and_birth_date_only
    assert all(isinstance(student["birth_date"], date) for student in look_alikes)
