"""GE rules: one record per event and key, completed documents and linked students only."""

from __future__ import annotations

from datetime import date

import pytest

from sg_pipelines.emis.ranges import ReportRequest
from sg_pipelines.emis.records import build_ge
from sg_pipelines_tests.emis.warehouse_rows import Warehouse, at, rows

FY2026 = ReportRequest(fiscal_year=2026, reporting_period="N")


@pytest.mark.parametrize(
    ("document_type", "fields", "expected"),
    [
        ("etr_initial", {"outcome": "ET10"}, ("IETR", "ET10", "***", "*")),
        ("etr_reevaluation", {"outcome": "ETEX"}, ("RETR", "ETEX", "***", "*")),
        ("etr_transfer", {"outcome": "ET12"}, ("TETR", "ET12", "***", "*")),
        ("etr_initial", {"outcome": "ET07"}, ("IETR", "****", "***", "*")),
        (
            "iep_initial",
            {"placement": "IE14", "test_type": "standard", "extended_school_year": True},
            ("IIEP", "IE14", "STR", "Y"),
        ),
        ("iep_annual", {"test_type": "alternate"}, ("RIEP", "****", "ALT", "*")),
        (
            "iep_transfer",
            {"outcome": "IEPR", "extended_school_year": False},
            ("TIEP", "IEPR", "***", "N"),
        ),
        ("iep_amendment", {"placement": "IE15"}, ("AIEP", "IE15", "***", "*")),
    ],
)
def test_document_types_give_their_event_and_fields(document_type, fields, expected):
    warehouse = Warehouse()
    warehouse.document(warehouse.student(1), document_type, date(2025, 10, 1), **fields)

    [record] = rows(
        build_ge(warehouse.connect(), FY2026),
        "date_type",
        "outcome_id",
        "iep_test_type",
        "extended_school_year",
    )
    assert record == expected


def test_exits_and_other_programs_give_no_event():
    warehouse = Warehouse()
    student = warehouse.student(1)
    warehouse.document(student, "sped_exit", date(2025, 10, 1))
    warehouse.document(student, "504_plan", date(2025, 10, 1), program="section_504")
    assert rows(build_ge(warehouse.connect(), FY2026)) == []


def test_referral_and_consent_come_from_the_initial_report():
    warehouse = Warehouse()
    warehouse.document(
        warehouse.student(1),
        "etr_initial",
        date(2025, 10, 1),
        referral_date="2025-08-01",
        consent_date="2025-08-15",
        consent_outcome="CNGI",
    )
    assert rows(build_ge(warehouse.connect(), FY2026), "date_type", "event_date", "outcome_id") == [
        ("RFRL", date(2025, 8, 1), "****"),
        ("CNST", date(2025, 8, 15), "CNGI"),
        ("IETR", date(2025, 10, 1), "****"),
    ]


def test_several_completed_versions_on_one_key_give_the_latest():
    warehouse = Warehouse()
    student = warehouse.student(1)
    warehouse.document(student, "iep_annual", date(2025, 10, 1), placement="IE14")
    latest = warehouse.document(
        student, "iep_annual", date(2025, 10, 1), placement="IE16", completed=at(date(2025, 10, 3))
    )
    warehouse.document(
        student, "iep_annual", date(2025, 10, 1), placement="IE17", completed=at(date(2025, 10, 2))
    )

    assert rows(build_ge(warehouse.connect(), FY2026), "outcome_id", "document_id") == [
        ("IE16", latest)
    ]


def test_drafts_never_report_e7():
    warehouse = Warehouse()
    student = warehouse.student(1)
    warehouse.document(student, "iep_annual", date(2025, 10, 1), status="draft")
    warehouse.document(student, "iep_initial", date(2025, 9, 1))

    assert rows(build_ge(warehouse.connect(), FY2026), "date_type") == [("IIEP",)]


def test_only_linked_students_with_an_emis_id_report():
    warehouse = Warehouse()
    for student in (
        warehouse.student(1),
        warehouse.student(2, linked=False),
        warehouse.student(3, emis_student_id="ABC"),
    ):
        warehouse.document(student, "iep_initial", date(2025, 9, 1))
    warehouse.student(4, emis_student_id="44")
    warehouse.document(4, "iep_initial", date(2025, 9, 1))

    assert rows(build_ge(warehouse.connect(), FY2026), "emis_student_id") == [
        ("000000001",),
        ("000000044",),
    ]


@pytest.mark.parametrize(
    ("consent_days_before", "reason", "expected"),
    [(45, "04", "**"), (60, "04", "**"), (61, "04", "04"), (75, None, "**"), (75, "77", "**")],
)
def test_non_compliance_only_when_the_60_day_timeline_was_missed(
    consent_days_before, reason, expected
):
    warehouse = Warehouse()
    meeting = date(2025, 11, 20)
    consent = date.fromordinal(meeting.toordinal() - consent_days_before)
    fields = {"consent_date": consent.isoformat()} | ({"non_compliance": reason} if reason else {})
    warehouse.document(warehouse.student(1), "etr_initial", meeting, **fields)

    [(found, missed)] = (
        build_ge(warehouse.connect(), FY2026)
        .filter("date_type = 'IETR'")
        .select("non_compliance_id, timeline_missed")
        .fetchall()
    )
    assert found == expected
    assert missed == (consent_days_before > 60)


def test_a_reevaluation_past_three_years_is_late():
    warehouse = Warehouse()
    student = warehouse.student(1)
    warehouse.document(student, "etr_initial", date(2022, 9, 1))
    warehouse.document(student, "etr_reevaluation", date(2025, 9, 2), non_compliance="02")
    assert rows(build_ge(warehouse.connect(), FY2026), "date_type", "non_compliance_id") == [
        ("RETR", "02")
    ]


def test_transfer_report_outcome_dates_run_three_years_from_the_original():
    warehouse = Warehouse()
    warehouse.document(
        warehouse.student(1), "etr_transfer", date(2025, 9, 10), original_etr_date="2024-03-01"
    )
    assert rows(
        build_ge(warehouse.connect(), FY2026), "outcome_begin_date", "outcome_end_date"
    ) == [(date(2025, 9, 10), date(2027, 2, 28))]


# E5: student admitted 2025-01-06, IEP meeting 2024-12-10 under a previous enrollment.


def e5_warehouse() -> Warehouse:
    warehouse = Warehouse()
    student = warehouse.student(1, enrolled=(date(2024, 8, 20), date(2024, 12, 20)))
    warehouse.enroll(student, date(2025, 1, 6), None)
    warehouse.document(student, "etr_initial", date(2024, 9, 15), outcome="ET10")
    warehouse.document(student, "etr_reevaluation", date(2024, 11, 1), outcome="ET10")
    warehouse.document(student, "iep_initial", date(2024, 10, 1))
    warehouse.document(student, "iep_annual", date(2024, 12, 10))
    warehouse.document(student, "iep_amendment", date(2024, 12, 12))
    warehouse.document(student, "iep_annual", date(2025, 3, 1))
    return warehouse


E5_WINDOW = {"fiscal_year": 2025, "start_date": date(2025, 1, 1), "end_date": date(2025, 6, 30)}


def test_e5_without_pull_prior_events_before_the_window_are_excluded():
    ge = build_ge(e5_warehouse().connect(), ReportRequest(**E5_WINDOW))
    assert rows(ge, "date_type", "event_date", "pulled_prior") == [
        ("RIEP", date(2025, 3, 1), False)
    ]


def test_e5_with_pull_prior_only_the_latest_prior_evaluation_and_plan_are_added():
    ge = build_ge(e5_warehouse().connect(), ReportRequest(**E5_WINDOW, pull_prior=True))
    assert rows(ge, "date_type", "event_date", "pulled_prior") == [
        ("RETR", date(2024, 11, 1), True),
        ("RIEP", date(2024, 12, 10), True),
        ("RIEP", date(2025, 3, 1), False),
    ]


def test_pull_prior_adds_nothing_for_a_student_enrolled_from_the_start():
    warehouse = Warehouse()
    student = warehouse.student(1, enrolled=(date(2024, 8, 20), None))
    warehouse.document(student, "iep_annual", date(2024, 12, 10))
    assert rows(build_ge(warehouse.connect(), ReportRequest(**E5_WINDOW, pull_prior=True))) == []


def test_building_and_student_filters_narrow_the_records():
    warehouse = Warehouse()
    warehouse.document(warehouse.student(1), "iep_initial", date(2025, 9, 1))
    warehouse.document(warehouse.student(2, building="054321"), "iep_initial", date(2025, 9, 1))
    conn = warehouse.connect()

    by_building = ReportRequest(fiscal_year=2026, building_irn="054321")
    by_student = ReportRequest(fiscal_year=2026, emis_student_ids=["1"])
    assert rows(build_ge(conn, by_building), "emis_student_id") == [("000000002",)]
    assert rows(build_ge(conn, by_student), "emis_student_id") == [("000000001",)]


def test_students_not_enrolled_in_the_window_report_nothing():
    warehouse = Warehouse()
    student = warehouse.student(1, enrolled=(date(2024, 8, 20), date(2025, 6, 1)))
    warehouse.document(student, "iep_initial", date(2025, 9, 1))
    assert rows(build_ge(warehouse.connect(), FY2026)) == []


@pytest.mark.parametrize(
    ("plan_status", "expected"),
    [("draft", [("IIEP",)]), ("completed", [("IIEP",), ("IIEP",), ("AIEP",)])],
)
def test_an_amendment_reports_only_with_the_completed_plan_it_amends_e7(plan_status, expected):
    warehouse = Warehouse()
    student = warehouse.student(1)
    warehouse.document(student, "iep_initial", date(2025, 9, 1))
    plan = warehouse.document(student, "iep_initial", date(2025, 10, 1), status=plan_status)
    warehouse.document(student, "iep_amendment", date(2025, 10, 20), amends=plan)

    assert rows(build_ge(warehouse.connect(), FY2026), "date_type") == expected


@pytest.mark.parametrize(
    ("admitted", "expected"),
    [
        (date(2025, 1, 1), []),  # enrolled on the window's first day: nothing is pulled prior
        (date(2025, 1, 2), [("RIEP", date(2024, 12, 10), True)]),
        (date(2025, 6, 30), [("RIEP", date(2024, 12, 10), True)]),
    ],
)
def test_e5_pull_prior_follows_the_admission_date_not_the_event(admitted, expected):
    warehouse = Warehouse()
    student = warehouse.student(1, enrolled=(date(2024, 8, 20), date(2024, 12, 20)))
    warehouse.enroll(student, admitted, None)
    warehouse.document(student, "iep_annual", date(2024, 12, 10))
    warehouse.document(student, "iep_annual", date(2024, 10, 1))

    ge = build_ge(warehouse.connect(), ReportRequest(**E5_WINDOW, pull_prior=True))
    assert rows(ge, "date_type", "event_date", "pulled_prior") == expected
