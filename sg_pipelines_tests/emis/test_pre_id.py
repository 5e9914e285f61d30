"""Pre-ID rows: who has a plan in effect on the date, which plan gives the row (fault E4)."""

from __future__ import annotations

from datetime import date

import pytest

from sg_pipelines.emis.ranges import ReportRequest
from sg_pipelines.emis.records import build_pre_id
from sg_pipelines_tests.emis.warehouse_rows import Warehouse, rows

CALL_DATE = date(2025, 3, 1)
COLUMNS = ("emis_student_id", "plan_type", "iep", "section_504_plan", "english_learner")


def request(**extra) -> ReportRequest:
    return ReportRequest(fiscal_year=2025, effective_date=CALL_DATE, **extra)


def e4_warehouse() -> Warehouse:
    """S-3: an IEP completed 2024-10-01 and a 504 plan completed 2025-01-15, both in effect.
    S-4: a plan, but inactive in Campus."""
    warehouse = Warehouse()
    s3 = warehouse.student(3)
    warehouse.document(s3, "iep_annual", date(2024, 10, 1), state_test_accommodations=["scribe"])
    warehouse.document(
        s3,
        "504_plan",
        date(2025, 1, 15),
        program="section_504",
        state_test_accommodations=["extended_time"],
    )
    s4 = warehouse.student(4, active=False)
    warehouse.document(s4, "iep_annual", date(2024, 10, 1))
    return warehouse


def test_e4_iep_and_504_give_one_row_from_the_most_recent():
    found = rows(build_pre_id(e4_warehouse().connect(), request()), *COLUMNS, "accommodations")
    assert found == [("000000003", "504", "Y", "Y", "N", ["extended_time"])]


def test_e4_inactive_students_are_left_out_or_marked_when_asked():
    found = rows(
        build_pre_id(e4_warehouse().connect(), request(include_inactive=True)),
        "emis_student_id",
        "student_active",
    )
    assert found == [("000000003", True), ("000000004", False)]


@pytest.mark.parametrize(
    ("documents", "expected"),
    [
        ([("el_identification", date(2024, 9, 1))], [("000000001", "EL", "N", "N", "Y")]),
        ([("iep_initial", date(2024, 9, 1)), ("sped_exit", date(2025, 2, 1))], []),
        (
            [("504_plan", date(2024, 9, 1)), ("504_exit", date(2025, 3, 2))],
            [("000000001", "504", "N", "Y", "N")],
        ),
        (
            [("504_plan", date(2024, 9, 1)), ("el_plan", date(2024, 9, 5))],
            [("000000001", "504", "N", "Y", "Y")],
        ),
        ([("iep_initial", date(2025, 3, 2))], []),
    ],
)
def test_plans_in_effect_on_the_date(documents, expected):
    warehouse = Warehouse()
    student = warehouse.student(1)
    programs = {"el": "english_learners", "50": "section_504"}
    for document_type, day in documents:
        program = programs.get(document_type[:2], "special_education")
        warehouse.document(student, document_type, day, program=program)
    assert rows(build_pre_id(warehouse.connect(), request()), *COLUMNS) == expected


def test_accommodations_are_the_plans_as_of_the_date():
    warehouse = Warehouse()
    student = warehouse.student(1)
    iep = warehouse.document(
        student,
        "iep_annual",
        date(2024, 10, 1),
        test_type="standard",
        state_test_accommodations=["read_aloud"],
    )
    for day, accommodations in (
        (date(2025, 1, 10), ["scribe"]),
        (date(2025, 4, 1), ["calculator"]),
    ):
        warehouse.document(
            student,
            "iep_amendment",
            day,
            amends=iep,
            test_type="alternate",
            state_test_accommodations=accommodations,
        )
    found = rows(build_pre_id(warehouse.connect(), request()), "test_type", "accommodations")
    assert found == [("ALT", ["scribe"])]


def test_drafts_never_give_a_row_e7():
    warehouse = Warehouse()
    warehouse.document(warehouse.student(1), "iep_annual", date(2024, 10, 1), status="draft")
    assert rows(build_pre_id(warehouse.connect(), request())) == []


@pytest.mark.parametrize(
    ("amendment_status", "accommodations"),
    [("draft", ["scribe"]), ("completed", ["extended_time"])],
)
def test_a_draft_amendment_never_changes_the_plan_as_of_the_date_e7(
    amendment_status, accommodations
):
    warehouse = Warehouse()
    student = warehouse.student(1)
    plan = warehouse.document(
        student, "iep_annual", date(2024, 10, 1), state_test_accommodations=["scribe"]
    )
    warehouse.document(
        student,
        "iep_amendment",
        date(2025, 1, 10),
        status=amendment_status,
        amends=plan,
        state_test_accommodations=["extended_time"],
    )

    found = rows(build_pre_id(warehouse.connect(), request()), "plan_type", "accommodations")
    assert found == [("IEP", accommodations)]
