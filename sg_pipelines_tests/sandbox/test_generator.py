"""The generated district: deterministic, Campus-shaped, with the proportions we rely on."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date

import pytest

from sg_pipelines.sandbox import generate_district
from sg_pipelines.sandbox.district import has_role

CEDS_GRADES = {"KG", *(f"{n:02d}" for n in range(1, 13))}


@pytest.fixture(scope="module")
def district():
    return generate_district(2000, seed=7, school_year=2027)


def _snapshot(district):
    return {name: district.collection(name) for name in district}, district.unlisted_users


def test_the_same_seed_gives_the_same_district():
    first = generate_district(200, seed=3, school_year=2027)
    second = generate_district(200, seed=3, school_year=2027)
    other = generate_district(200, seed=4, school_year=2027)

    assert _snapshot(first) == _snapshot(second)
    assert first.sorted_ids("users") != other.sorted_ids("users")


def test_collection_sizes_scale_with_students(district):
    assert len(district.students()) == 2000
    assert len(district.schools()) == 4
    assert district.count("demographics") == 2000
    assert district.count("academicSessions") == 3
    # six subjects a semester, two semesters, plus the extra rows of students who moved
    assert 11 <= district.count("enrollments") / 2000 <= 14


def test_schools_have_six_digit_irns_under_one_district(district):
    orgs = district.collection("orgs")
    districts = [org for org in orgs if org["type"] == "district"]

    assert len(districts) == 1
    assert all(re.fullmatch(r"\d{6}", org["identifier"]) for org in orgs)
    assert len({org["identifier"] for org in orgs}) == len(orgs)
    parent = districts[0]["sourcedId"]
    assert all(school["parent"]["sourcedId"] == parent for school in district.schools())


def test_sessions_are_a_school_year_and_two_semesters(district):
    sessions = {s["type"]: s for s in district.collection("academicSessions")}
    semesters = [s for s in district.collection("academicSessions") if s["type"] == "semester"]

    assert sessions["schoolYear"]["schoolYear"] == "2027"
    assert sessions["schoolYear"]["startDate"] == "2026-08-20"
    assert len(semesters) == 2
    assert all(s["parent"]["sourcedId"] == sessions["schoolYear"]["sourcedId"] for s in semesters)


def test_about_one_and_a_half_guardians_per_student(district):
    guardians = district.guardians(include_unlisted=True)

    assert 1.35 <= len(guardians) / 2000 <= 1.65
    assert Counter(g["roles"][0]["role"] for g in guardians).keys() == {
        "parent",
        "guardian",
        "relative",
    }


def test_some_guardians_have_no_portal_account_and_are_not_users(district):
    listed = {u["sourcedId"] for u in district.collection("users")}
    unlisted = set(district.unlisted_users)
    referenced = {a["sourcedId"] for s in district.students() for a in s["agents"]}

    assert 0.05 <= len(unlisted) / len(district.guardians(include_unlisted=True)) <= 0.15
    assert not unlisted & listed
    assert unlisted <= referenced


def test_agents_link_students_and_guardians_both_ways(district):
    users = {u["sourcedId"]: u for u in district.collection("users")}
    users.update(district.unlisted_users)

    for student in district.students():
        assert student["agents"], "every student has a guardian"
        for agent in student["agents"]:
            back = {ref["sourcedId"] for ref in users[agent["sourcedId"]]["agents"]}
            assert student["sourcedId"] in back
    shared = [g for g in district.guardians() if len(g["agents"]) > 1]
    assert shared, "siblings share guardians"


def test_student_identifiers_look_like_campus_ones(district):
    students = district.students()
    emis = [s["metadata"]["ic"]["emisStudentId"] for s in students]
    unpadded = [value for value in emis if len(value) < 9]

    assert all(re.fullmatch(r"\d{1,9}", value) for value in emis)
    assert 0.005 <= len(unpadded) / len(emis) <= 0.05
    assert len({value.zfill(9) for value in emis}) == len(emis)
    assert all(re.fullmatch(r"[A-Z]{2}\d{7}", s["metadata"]["ic"]["stateId"]) for s in students)
    for student in students:
        kinds = {ref["type"]: ref["identifier"] for ref in student["userIds"]}
        assert kinds["stateId"] == student["metadata"]["ic"]["stateId"]
        assert kinds["local"] == student["identifier"]
        assert student["metadata"]["ic"]["legacysourceId"].isdigit()


def test_user_fields_follow_the_1_2_binding(district):
    users = district.collection("users")

    assert {u["enabledUser"] for u in users} == {"true", "false"}
    assert all(s["grades"][0] in CEDS_GRADES for s in district.students())
    assert 0.03 <= sum("preferredFirstName" in s for s in district.students()) / 2000 <= 0.15
    for user in users:
        orgs = [r["org"]["sourcedId"] for r in user["roles"] if r["roleType"] == "primary"]
        assert len(orgs) == len(set(orgs)) >= 1, "one primary role per org"
        assert user["primaryOrg"]["sourcedId"] in orgs


def test_every_guid_ref_has_href_sourced_id_and_type(district):
    def refs(value):
        if isinstance(value, dict):
            if "sourcedId" in value and "href" in value:
                yield value
            for item in value.values():
                yield from refs(item)
        elif isinstance(value, list):
            for item in value:
                yield from refs(item)

    for name in ("users", "enrollments", "classes", "courses", "orgs"):
        for record in district.collection(name)[:300]:
            for ref in refs({k: v for k, v in record.items() if k != "sourcedId"}):
                assert set(ref) == {"href", "sourcedId", "type"}
                assert ref["href"].endswith(f"/{ref['sourcedId']}")


def test_moved_students_end_at_one_school_and_start_at_another(district):
    moved = [s for s in district.students() if len(s["roles"]) == 2]
    enrollments = district.collection("enrollments")

    assert 0.01 <= len(moved) / 2000 <= 0.06
    student = moved[0]
    new_role, old_role = student["roles"]
    mine = [e for e in enrollments if e["user"]["sourcedId"] == student["sourcedId"]]
    at_old = [e for e in mine if e["school"]["sourcedId"] == old_role["org"]["sourcedId"]]
    at_new = [e for e in mine if e["school"]["sourcedId"] == new_role["org"]["sourcedId"]]

    assert at_old and at_new
    assert max(e["endDate"] for e in at_old) == old_role["endDate"] == new_role["beginDate"]
    assert min(e["beginDate"] for e in at_new) == new_role["beginDate"]
    assert student["primaryOrg"] == new_role["org"]


def test_withdrawn_students_have_enrollments_that_end_early(district):
    withdrawn = [s for s in district.students() if s["enabledUser"] == "false"]
    ends = {}
    for enrollment in district.collection("enrollments"):
        user = enrollment["user"]["sourcedId"]
        ends[user] = max(ends.get(user, ""), enrollment["endDate"])

    assert withdrawn
    for student in withdrawn:
        left_on = student["roles"][0]["endDate"]
        assert ends[student["sourcedId"]] <= left_on < "2027-06-06"


def test_demographics_are_keyed_by_student_and_typed_as_strings(district):
    students = {s["sourcedId"]: s for s in district.students()}
    demographics = district.collection("demographics")

    assert {d["sourcedId"] for d in demographics} == set(students)
    for record in demographics[:200]:
        assert date.fromisoformat(record["birthDate"])
        assert record["sex"] in {"male", "female", "unspecified", "other"}
        assert record["white"] in {"true", "false"}
        assert record["hispanicOrLatinoEthnicity"] in {"true", "false"}


def test_every_class_has_one_primary_teacher(district):
    teachers = Counter(
        e["class"]["sourcedId"]
        for e in district.collection("enrollments")
        if e["role"] == "teacher" and e["primary"] == "true"
    )

    assert set(teachers) == set(district.sorted_ids("classes"))
    assert set(teachers.values()) == {1}
    assert all(has_role(t, "teacher") for t in district.teachers())
