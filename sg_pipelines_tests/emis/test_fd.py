"""FD rules: effective-dated spans within each enrollment, and the span properties."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sg_pipelines.emis.ranges import ReportRequest
from sg_pipelines.emis.records import build_fd
from sg_pipelines_tests.emis.warehouse_rows import Warehouse, at, rows

FY2026 = ReportRequest(fiscal_year=2026, reporting_period="N")
ENROLLED = date(2025, 8, 20)
SPAN = ("effective_start_date", "effective_end_date", "disability_condition", "section_504_plan")


def test_fd_span_closes_the_day_before_a_new_disability():
    warehouse = Warehouse()
    student = warehouse.student(1)
    warehouse.document(student, "etr_initial", date(2025, 9, 10), disability_condition="10")
    warehouse.document(student, "etr_reevaluation", date(2026, 2, 1), disability_condition="12")

    assert rows(build_fd(warehouse.connect(), FY2026), *SPAN) == [
        (ENROLLED, date(2025, 9, 9), "**", "N"),
        (date(2025, 9, 10), date(2026, 1, 31), "10", "N"),
        (date(2026, 2, 1), None, "12", "N"),
    ]


@pytest.mark.parametrize(
    ("documents", "expected"),
    [
        # an ETR before the enrollment is in effect from its first day
        (
            [("etr_initial", date(2025, 3, 1), {"disability_condition": "05"})],
            [(ENROLLED, "05", "N")],
        ),
        # not eligible: no condition
        (
            [("etr_initial", date(2025, 3, 1), {"disability_condition": "05", "outcome": "ETNE"})],
            [(ENROLLED, "**", "N")],
        ),
        # a re-evaluation with the same condition opens no span
        (
            [
                ("etr_initial", date(2025, 3, 1), {"disability_condition": "05"}),
                ("etr_reevaluation", date(2025, 10, 1), {"disability_condition": "05"}),
            ],
            [(ENROLLED, "05", "N")],
        ),
        # an exit ends the condition
        (
            [
                ("etr_initial", date(2025, 3, 1), {"disability_condition": "05"}),
                ("sped_exit", date(2025, 10, 1), {}),
            ],
            [(ENROLLED, "05", "N"), (date(2025, 10, 1), "**", "N")],
        ),
        # a 504 plan and its exit
        (
            [("504_plan", date(2025, 9, 1), {}), ("504_exit", date(2025, 11, 1), {})],
            [(ENROLLED, "**", "N"), (date(2025, 9, 1), "**", "Y"), (date(2025, 11, 1), "**", "N")],
        ),
        # an IEP alone (no ETR here) reports no condition (SG-ODBC)
        (
            [("iep_annual", date(2025, 9, 1), {"disability_condition": "10"})],
            [(ENROLLED, "**", "N")],
        ),
        # a draft ETR changes nothing (E7)
        (
            [
                ("etr_initial", date(2025, 3, 1), {"disability_condition": "05"}),
                (
                    "etr_reevaluation",
                    date(2025, 10, 1),
                    {"disability_condition": "12", "status": "draft"},
                ),
            ],
            [(ENROLLED, "05", "N")],
        ),
    ],
)
def test_fd_rule_table(documents, expected):
    warehouse = Warehouse()
    student = warehouse.student(1)
    for document_type, day, fields in documents:
        program = "section_504" if document_type.startswith("504") else "special_education"
        status = fields.pop("status", "completed")
        warehouse.document(student, document_type, day, program=program, status=status, **fields)

    found = rows(
        build_fd(warehouse.connect(), FY2026),
        "effective_start_date",
        "disability_condition",
        "section_504_plan",
    )
    assert found == expected


def test_each_enrollment_has_its_own_spans_and_a_closed_enrollment_closes_its_last():
    warehouse = Warehouse()
    student = warehouse.student(1, enrolled=(ENROLLED, date(2025, 11, 3)))
    warehouse.enroll(student, date(2025, 11, 3), None, building="054321")
    warehouse.document(student, "etr_initial", date(2025, 9, 10), disability_condition="10")

    assert rows(build_fd(warehouse.connect(), FY2026), "building_irn", *SPAN) == [
        ("012345", ENROLLED, date(2025, 9, 9), "**", "N"),
        ("012345", date(2025, 9, 10), date(2025, 11, 2), "10", "N"),
        ("054321", date(2025, 11, 3), None, "10", "N"),
    ]


def test_fields_campus_owns_stay_unknown():
    warehouse = Warehouse()
    warehouse.document(warehouse.student(1), "504_plan", date(2025, 9, 1), program="section_504")
    [record] = rows(
        build_fd(warehouse.connect(), FY2026),
        "attendance_pattern_override",
        "disadvantagement",
        "foreign_exchange_grad_plan",
        "immigrant_status",
    )[:1]
    assert record == (None, None, None, None)


# Property: any history of ETRs, exits and 504 documents gives spans with no gaps and no
# overlaps inside each enrollment, one span per change of either attribute.

CHANGE = st.tuples(
    st.integers(min_value=-100, max_value=330),
    st.sampled_from(
        ["etr_initial", "etr_reevaluation", "sped_exit", "504_plan", "504_exit", "iep_annual"]
    ),
    st.sampled_from(["05", "10", "12", "ETNE"]),
    st.integers(min_value=0, max_value=3),
)


def expected_values(history, day):
    """The attributes on `day` by the rules, computed the slow way."""
    disability, plan_504 = "**", "N"
    for offset, document_type, code, _order in sorted(history, key=lambda h: (h[0], h[3])):
        if ENROLLED + timedelta(days=offset) > day:
            continue
        if document_type.startswith("etr"):
            disability = "**" if code == "ETNE" else code
        elif document_type == "sped_exit":
            disability = "**"
        elif document_type == "504_plan":
            plan_504 = "Y"
        elif document_type == "504_exit":
            plan_504 = "N"
    return disability, plan_504


@settings(max_examples=30, deadline=None)
@given(history=st.lists(CHANGE, max_size=8), leave_after=st.integers(min_value=30, max_value=400))
def test_fd_spans_have_no_gaps_no_overlaps_and_every_change_opens_a_span(history, leave_after):
    warehouse = Warehouse()
    left = ENROLLED + timedelta(days=leave_after)
    student = warehouse.student(1, enrolled=(ENROLLED, left))
    # a plan long before makes the student an FD student without changing either attribute
    warehouse.document(student, "iep_annual", ENROLLED - timedelta(days=300))
    for offset, document_type, code, order in history:
        fields = {"outcome": "ETNE"} if code == "ETNE" else {"disability_condition": code}
        program = "section_504" if document_type.startswith("504") else "special_education"
        day = ENROLLED + timedelta(days=offset)
        warehouse.document(
            student, document_type, day, program=program, completed=at(day, 10 + order), **fields
        )
    request = ReportRequest(fiscal_year=2026, end_date=date(2026, 12, 31))

    spans = rows(build_fd(warehouse.connect(), request), *SPAN)

    # continuous from the first day of the enrollment to its last, no overlaps
    assert spans[0][0] == ENROLLED
    assert spans[-1][1] == left - timedelta(days=1)
    for (_, end, *_), (start, *_) in itertools.pairwise(spans):
        assert start == end + timedelta(days=1)

    # every span holds the values of each of its days, and neighbours differ
    for start, end, disability, plan_504 in spans:
        assert expected_values(history, start) == (disability, plan_504)
        assert expected_values(history, end) == (disability, plan_504)
    for before, after in itertools.pairwise(spans):
        assert before[2:] != after[2:]

    # every day where the values change opens a span
    starts = {start for start, *_ in spans}
    day = ENROLLED + timedelta(days=1)
    while day < left:
        if expected_values(history, day) != expected_values(history, day - timedelta(days=1)):
            assert day in starts
        day += timedelta(days=1)
