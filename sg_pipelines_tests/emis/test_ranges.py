"""Reporting windows and the request's parameters."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from sg_pipelines.emis.ranges import (
    ReportRequest,
    default_request,
    fiscal_year_of,
    normalize_emis_student_id,
    period_window,
)


@pytest.mark.parametrize(
    ("period", "window"),
    [
        ("K", (date(2025, 6, 1), date(2025, 12, 1))),
        ("N", (date(2025, 7, 1), date(2026, 6, 30))),
        ("G", (date(2025, 7, 1), date(2026, 6, 30))),
    ],
)
def test_period_windows_of_fiscal_year_2026(period, window):
    assert period_window(2026, period) == window


@pytest.mark.parametrize(
    ("day", "fiscal_year"),
    [(date(2025, 6, 30), 2025), (date(2025, 7, 1), 2026), (date(2026, 1, 15), 2026)],
)
def test_fiscal_year_turns_on_the_first_of_july(day, fiscal_year):
    assert fiscal_year_of(day) == fiscal_year


def test_request_dates_replace_the_period_window():
    request = ReportRequest(
        fiscal_year=2025,
        reporting_period="K",
        start_date=date(2025, 1, 1),
        end_date=date(2025, 6, 30),
    )
    assert request.window == (date(2025, 1, 1), date(2025, 6, 30))


@pytest.mark.parametrize(
    ("given", "normalized"), [("123", "000000123"), (45, "000000045"), ("012345678", "012345678")]
)
def test_emis_student_ids_are_nine_characters_with_leading_zeros(given, normalized):
    assert normalize_emis_student_id(given) == normalized
    assert ReportRequest(fiscal_year=2026, emis_student_ids=[given]).emis_student_ids == (
        normalized,
    )


@pytest.mark.parametrize(
    "bad",
    [
        {"emis_student_ids": ["1234567890"]},
        {"emis_student_ids": ["12a"]},
        {"building_irn": "12345"},
        {"start_date": date(2026, 3, 1), "end_date": date(2026, 2, 1)},
        {"reporting_period": "X"},
    ],
)
def test_bad_parameters_are_refused(bad):
    with pytest.raises(ValidationError):
        ReportRequest(fiscal_year=2026, **bad)


@pytest.mark.parametrize(
    ("today", "period", "fiscal_year"),
    [(date(2025, 9, 1), "K", 2026), (date(2025, 12, 1), "K", 2026), (date(2025, 12, 2), "N", 2026)],
)
def test_the_nightly_request_follows_the_collection_in_progress(today, period, fiscal_year):
    request = default_request(today)
    assert (request.reporting_period, request.fiscal_year) == (period, fiscal_year)
    assert request.pre_id_date() == today
