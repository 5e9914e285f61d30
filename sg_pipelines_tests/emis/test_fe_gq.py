"""FE (exemption decisions matching a GE) and GQ (one record per program code, fault E1)."""

from __future__ import annotations

from datetime import date

import pytest

from sg_pipelines.emis.ranges import ReportRequest
from sg_pipelines.emis.records import build_fe, build_ge, build_gq
from sg_pipelines_tests.emis.warehouse_rows import Warehouse, at, rows

FY2026 = ReportRequest(fiscal_year=2026, reporting_period="N")


@pytest.mark.parametrize(
    ("previous", "current", "expected"),
    [
        (None, ["ela", "mathematics"], [("ELA", "Y"), ("MATH", "Y")]),
        (["ela"], ["ela"], [("ELA", "Y")]),
        (["ela", "science"], ["ela"], [("ELA", "Y"), ("SCI", "N")]),
        (None, [], []),
    ],
)
def test_fe_one_record_per_area_decision(previous, current, expected):
    warehouse = Warehouse()
    student = warehouse.student(1)
    if previous is not None:
        warehouse.document(
            student, "iep_annual", date(2024, 10, 1), graduation_test_exemptions=previous
        )
    warehouse.document(student, "iep_annual", date(2025, 10, 1), graduation_test_exemptions=current)

    assert rows(build_fe(warehouse.connect(), FY2026), "assessment_area", "exemption") == expected


def test_every_fe_matches_a_ge_on_date_type_and_date():
    warehouse = Warehouse()
    student = warehouse.student(1)
    warehouse.document(student, "iep_initial", date(2025, 9, 1), graduation_test_exemptions=["ela"])
    warehouse.document(
        student, "iep_amendment", date(2025, 11, 5), graduation_test_exemptions=["ela"]
    )
    conn = warehouse.connect()

    ge = set(rows(build_ge(conn, FY2026), "emis_student_id", "date_type", "event_date"))
    fe = rows(build_fe(conn, FY2026), "emis_student_id", "date_type", "event_date")
    assert len(fe) == 2
    assert set(fe) <= ge


def e1_warehouse() -> Warehouse:
    """S-1: two completed 504 plans in the range giving "504P", withdrew 2025-02-10.
    S-2: a plan but no enrollment in the range."""
    warehouse = Warehouse()
    s1 = warehouse.student(1, enrolled=(date(2024, 8, 20), date(2025, 2, 10)))
    for day in (date(2024, 9, 1), date(2024, 12, 1)):
        warehouse.document(
            s1,
            "504_plan",
            day,
            program="section_504",
            effective_end=date(2025, 8, 31),
            program_codes=["504P"],
        )
    s2 = warehouse.student(2, enrolled=(date(2023, 8, 20), date(2024, 6, 1)))
    warehouse.document(
        s2, "504_plan", date(2024, 9, 1), program="section_504", program_codes=["504P"]
    )
    return warehouse


def test_e1_duplicate_codes_and_overlapping_spans_report_once():
    gq = build_gq(e1_warehouse().connect(), ReportRequest(fiscal_year=2025))
    assert rows(
        gq, "emis_student_id", "program_code", "program_start_date", "program_end_date"
    ) == [("000000001", "504P", date(2024, 9, 1), None)]


def test_gq_program_ends_the_day_before_its_exit():
    warehouse = Warehouse()
    student = warehouse.student(1)
    warehouse.document(
        student, "iep_initial", date(2025, 9, 1), program_codes=["210013", "215010", "210013"]
    )
    warehouse.document(student, "sped_exit", date(2026, 3, 1))

    assert rows(build_gq(warehouse.connect(), FY2026), "program_code", "program_end_date") == [
        ("210013", date(2026, 2, 28)),
        ("215010", date(2026, 2, 28)),
    ]


def test_gq_codes_outside_the_window_and_from_drafts_never_report():
    warehouse = Warehouse()
    student = warehouse.student(1)
    warehouse.document(
        student, "iep_annual", date(2024, 9, 1), effective_end=date(2025, 6, 1), program_codes=["A"]
    )
    warehouse.document(student, "iep_annual", date(2025, 9, 1), status="draft", program_codes=["B"])
    assert rows(build_gq(warehouse.connect(), FY2026)) == []


@pytest.mark.parametrize(
    ("exit_completed_hour", "expected"),
    [
        (15, []),  # the exit is the team's later word that day: no participation at all
        (13, [("X", date(2025, 10, 1), None)]),  # the plan was completed after the exit
    ],
)
def test_gq_an_exit_on_the_plans_own_day_ends_it_by_completion_order(exit_completed_hour, expected):
    warehouse = Warehouse()
    student = warehouse.student(1)
    warehouse.document(
        student, "iep_initial", date(2025, 10, 1), completed=at(date(2025, 10, 1), 14),
        program_codes=["X"],
    )  # fmt: skip
    warehouse.document(
        student, "sped_exit", date(2025, 10, 1),
        completed=at(date(2025, 10, 1), exit_completed_hour),
    )  # fmt: skip

    assert (
        rows(build_gq(warehouse.connect(), FY2026), "program_code", "program_start_date",
             "program_end_date")
        == expected
    )  # fmt: skip
