"""Fiscal years, reporting periods and the request a report is built for.

Ohio's fiscal year FY runs from 1 July of FY-1 to 30 June of FY. The reporting period picks the
default window, inclusive at both ends as EMIS dates are:

- **K** (October): 1 June of the prior school year through 1 December (IC-GE, SCOCA-11);
- **N** (yearend): the fiscal year (INFERRED: IC's extract editor proposes its own range);
- **G** (graduate): the fiscal year (INFERRED).

A request's own start and end dates, when given, replace the period's window.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

ReportingPeriod = Literal["K", "N", "G"]
REPORTING_PERIODS: dict[str, str] = {"K": "October", "N": "Yearend", "G": "Graduate"}
DEFAULT_TIMEZONE = "America/New_York"


def fiscal_year_of(day: date) -> int:
    """The Ohio fiscal year a day belongs to (July starts the next one)."""
    return day.year + 1 if day.month >= 7 else day.year


def fiscal_year_window(fiscal_year: int) -> tuple[date, date]:
    """First and last day of a fiscal year."""
    return date(fiscal_year - 1, 7, 1), date(fiscal_year, 6, 30)


def period_window(fiscal_year: int, period: ReportingPeriod) -> tuple[date, date]:
    """The default window of a reporting period, both ends inclusive."""
    if period == "K":
        return date(fiscal_year - 1, 6, 1), date(fiscal_year - 1, 12, 1)
    return fiscal_year_window(fiscal_year)


def district_today(timezone: str = DEFAULT_TIMEZONE) -> date:
    """Today in the district's time zone, the default Pre-ID effective date."""
    return datetime.now(ZoneInfo(timezone)).date()


def normalize_emis_student_id(value: str | int) -> str:
    """A 9-character EMIS Student ID with leading zeros; ValueError when it cannot be one."""
    text = str(value).strip()
    if not text.isdigit() or not 1 <= len(text) <= 9 or not text.isascii():
        raise ValueError("an EMIS Student ID is 1 to 9 digits")
    return text.zfill(9)


class ReportRequest(BaseModel):
    """What a caller (Campus, or the nightly run) asks for: the parameters of one report.

    Args:
        fiscal_year: the fiscal year (`YYYY` of its June).
        reporting_period: K, N or G.
        start_date, end_date: replace the period's window when given (inclusive).
        building_irn: only records of this 6-digit building.
        emis_student_ids: only these students (normalized to 9 characters).
        effective_date: the Pre-ID "as of" date; the call date when not given.
        pull_prior: IC's "Pull Prior IEPs/Evals": for students admitted after the start date,
            also the most recent evaluation and plan before it (fault E5).
        include_inactive: Pre-ID rows for students Campus reports inactive, marked so (E4);
            left out by default.
    """

    model_config = ConfigDict(frozen=True)

    fiscal_year: int
    reporting_period: ReportingPeriod = "N"
    start_date: date | None = None
    end_date: date | None = None
    building_irn: str | None = None
    emis_student_ids: tuple[str, ...] | None = None
    effective_date: date | None = None
    pull_prior: bool = False
    include_inactive: bool = False

    @field_validator("fiscal_year")
    @classmethod
    def _plausible_year(cls, value: int) -> int:
        if not 2000 <= value <= 2100:
            raise ValueError("fiscal year out of range")
        return value

    @field_validator("building_irn")
    @classmethod
    def _irn(cls, value: str | None) -> str | None:
        if value is not None and (len(value) != 6 or not value.isdigit()):
            raise ValueError("a building IRN is 6 digits")
        return value

    @field_validator("emis_student_ids", mode="before")
    @classmethod
    def _ids(cls, value: object) -> tuple[str, ...] | None:
        if value is None:
            return None
        if isinstance(value, str | int):
            value = [value]
        return tuple(dict.fromkeys(normalize_emis_student_id(item) for item in value))

    @model_validator(mode="after")
    def _ordered(self) -> ReportRequest:
        start, end = self.window
        if start > end:
            raise ValueError("start date after end date")
        return self

    @property
    def window(self) -> tuple[date, date]:
        """The inclusive date range records must fall in."""
        start, end = period_window(self.fiscal_year, self.reporting_period)
        return self.start_date or start, self.end_date or end

    def pre_id_date(self, timezone: str = DEFAULT_TIMEZONE) -> date:
        """The Pre-ID effective date: the one asked for, else today in the district."""
        return self.effective_date or district_today(timezone)

    def summary(self) -> dict[str, str | int | bool]:
        """The request without student ids, for run metadata and the snapshot pointer."""
        start, end = self.window
        return {
            "fiscal_year": self.fiscal_year,
            "reporting_period": self.reporting_period,
            "start_date": start.isoformat(),
            "end_date": end.isoformat(),
            "building_irn": self.building_irn or "",
            "student_filter": len(self.emis_student_ids or ()),
            "pull_prior": self.pull_prior,
        }


def default_request(today: date) -> ReportRequest:
    """The nightly run's request: the collection in progress in the current fiscal year.

    October (K) until its window closes on 1 December, then yearend (N).
    """
    fiscal_year = fiscal_year_of(today)
    _, october_end = period_window(fiscal_year, "K")
    period: ReportingPeriod = "K" if today <= october_end else "N"
    return ReportRequest(fiscal_year=fiscal_year, reporting_period=period, effective_date=today)
