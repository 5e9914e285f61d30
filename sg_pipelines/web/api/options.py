"""The five record endpoints, the options each takes, and how a request's options are decided.

Every option an endpoint takes has, per API account, a district default and an "allow caller
override" switch. The effective value of an option is:

- the caller's value, when the caller sends one and the account allows the override;
- otherwise the district default (a caller value the account does not allow is **ignored**, and
  named in the `X-Ignored-Parameters` response header, so Campus's fixed parameters never break
  a report);
- otherwise the system default (the current fiscal year and collection, the whole page).

A limit is always clamped to the account's maximum page size. Every value the caller sends is
checked, allowed or not: a malformed one, an unknown parameter or a repeated one is a 400.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import ValidationError

from sg_pipelines.appdb.exports import Permission
from sg_pipelines.emis.layouts import LAYOUTS, Layout
from sg_pipelines.emis.ranges import REPORTING_PERIODS, ReportRequest, default_request
from sg_pipelines.emis.records import fd, fe, ge, gq, pre_id

PAGING = ("limit", "offset", "sort")
WINDOW = ("fiscalYear", "reportingPeriod", "startDate", "endDate")
NARROWING = ("buildingIrn", "emisStudentIds")
FORMAT_PARAMETER = "format"
FORMATS = ("json", "fixed")

MAX_OFFSET = 10_000_000
MAX_LIMIT_TEXT = 1_000_000
MAX_SORT_KEYS = 5
MAX_STUDENT_IDS = 1000


@dataclass(frozen=True)
class Endpoint:
    """One record endpoint: `/api/v1/stateReporting/{name}`."""

    name: str
    table: str
    title: str
    options: tuple[str, ...]
    order: str

    @property
    def scope(self) -> str:
        """The OAuth scope that reaches this endpoint (one scope per endpoint)."""
        return f"emis:{self.name}"

    @property
    def layout(self) -> Layout:
        return LAYOUTS[self.table]

    @property
    def fields(self) -> tuple[str, ...]:
        """The record's JSON fields, which are also the columns `sort` may name."""
        return tuple(e.column for e in self.layout.elements if e.kind != "constant")

    @property
    def sortable(self) -> tuple[str, ...]:
        return tuple(e.column for e in self.layout.elements if e.kind not in ("constant", "flags"))


ENDPOINTS: dict[str, Endpoint] = {
    endpoint.name: endpoint
    for endpoint in (
        Endpoint("ge", "emis_ge", "GE special education events",
                 (*PAGING, *WINDOW, *NARROWING, "pullPrior"), ge.ORDER),
        Endpoint("fd", "emis_fd", "FD student attributes (effective-dated)",
                 (*PAGING, *WINDOW, *NARROWING), fd.ORDER),
        Endpoint("fe", "emis_fe", "FE graduation requirement exemptions",
                 (*PAGING, *WINDOW, *NARROWING, "pullPrior"), fe.ORDER),
        Endpoint("gq", "emis_gq", "GQ student programs", (*PAGING, *WINDOW, *NARROWING), gq.ORDER),
        Endpoint("ohioPreId", "ohio_pre_id", "Ohio state-test Pre-ID rows",
                 (*PAGING, "fiscalYear", *NARROWING, "effectiveDate", "includeInactive"),
                 pre_id.ORDER),
    )
}  # fmt: skip
SCOPES = {endpoint.scope: endpoint for endpoint in ENDPOINTS.values()}
ALL_OPTIONS = tuple(dict.fromkeys(name for e in ENDPOINTS.values() for name in e.options))

OPTION_HELP = {
    "limit": "records per page (1 or more; clamped to the account's maximum page size)",
    "offset": "records to skip (0 to 10,000,000)",
    "sort": "comma-separated record fields, `-` before a field for descending",
    "fiscalYear": "fiscal year, YYYY of its June",
    "reportingPeriod": "K (October), N (yearend) or G (graduate)",
    "startDate": "first day of the window, YYYY-MM-DD (replaces the period's)",
    "endDate": "last day of the window, YYYY-MM-DD (replaces the period's)",
    "buildingIrn": "only this building: 6 digits",
    "emisStudentIds": f"only these students: comma-separated EMIS Student IDs (up to "
    f"{MAX_STUDENT_IDS})",
    "effectiveDate": "the Pre-ID 'as of' date, YYYY-MM-DD (today in the district by default)",
    "pullPrior": "true: also the prior evaluation and plan of students admitted after the start",
    "includeInactive": "true: also rows of students Campus reports inactive, marked so",
}


class OptionError(ValueError):
    """A parameter value that cannot be used; the message names the problem, never the value."""


@dataclass(frozen=True)
class Problem:
    parameter: str
    problem: str


class InvalidParameters(ValueError):
    """One or more parameters are malformed, unknown or repeated."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__("; ".join(f"{p.parameter}: {p.problem}" for p in problems))
        self.problems = tuple(problems)


def _integer(text: str, low: int, high: int) -> int:
    if not text.isascii() or not text.isdigit() or len(text) > 10:
        raise OptionError("must be a whole number")
    value = int(text)
    if not low <= value <= high:
        raise OptionError(f"must be between {_number(low)} and {_number(high)}")
    return value


def _number(value: int) -> str:
    """Thousands separated, except a number of four digits or fewer (so years read as years)."""
    return f"{value:,}" if value >= 10_000 else str(value)


def _date(text: str) -> date:
    candidate = text
    if len(text) == 8 and text.isascii() and text.isdigit():
        candidate = f"{text[:4]}-{text[4:6]}-{text[6:]}"
    try:
        if len(candidate) != 10:
            raise ValueError
        return date.fromisoformat(candidate)
    except ValueError:
        raise OptionError("must be a date, YYYY-MM-DD") from None


def _boolean(text: str) -> bool:
    if text.lower() in ("true", "1", "yes"):
        return True
    if text.lower() in ("false", "0", "no"):
        return False
    raise OptionError("must be true or false")


def _digits(text: str, width: int, what: str) -> str:
    if len(text) != width or not text.isascii() or not text.isdigit():
        raise OptionError(f"must be {what}")
    return text


def _student_ids(text: str) -> tuple[str, ...]:
    items = [item.strip() for item in text.split(",")]
    if not items or len(items) > MAX_STUDENT_IDS:
        raise OptionError(f"must list 1 to {MAX_STUDENT_IDS} EMIS Student IDs")
    for item in items:
        if not item.isascii() or not item.isdigit() or not 1 <= len(item) <= 9:
            raise OptionError("each EMIS Student ID must be 1 to 9 digits")
    return tuple(dict.fromkeys(item.zfill(9) for item in items))


def _sort(text: str, endpoint: Endpoint) -> tuple[tuple[str, bool], ...]:
    keys = [key.strip() for key in text.split(",")]
    if not 1 <= len(keys) <= MAX_SORT_KEYS:
        raise OptionError(f"must name 1 to {MAX_SORT_KEYS} fields")
    parsed = []
    for key in keys:
        descending = key.startswith("-")
        column = key[1:] if descending else key
        if column not in endpoint.sortable:
            raise OptionError(f"may name only these fields: {', '.join(endpoint.sortable)}")
        parsed.append((column, descending))
    return tuple(parsed)


def parse_option(name: str, text: str, endpoint: Endpoint) -> Any:
    """The value of one option from its text; OptionError when it is malformed."""
    text = text.strip()
    match name:
        case "limit":
            return _integer(text, 1, MAX_LIMIT_TEXT)
        case "offset":
            return _integer(text, 0, MAX_OFFSET)
        case "sort":
            return _sort(text, endpoint)
        case "fiscalYear":
            return _integer(text, 2000, 2100)
        case "reportingPeriod":
            if text not in REPORTING_PERIODS:
                raise OptionError("must be K, N or G")
            return text
        case "startDate" | "endDate" | "effectiveDate":
            return _date(text)
        case "buildingIrn":
            return _digits(text, 6, "a building IRN of 6 digits")
        case "emisStudentIds":
            return _student_ids(text)
        case "pullPrior" | "includeInactive":
            return _boolean(text)
    raise OptionError("is not an option of this endpoint")


@dataclass(frozen=True)
class PageRequest:
    """What one record request will be served: the report, the page and its order."""

    report: ReportRequest
    limit: int
    offset: int
    sort: tuple[tuple[str, bool], ...]
    format: str
    ignored: tuple[str, ...]
    clamped: bool
    replace_unknown: bool


def decide(
    endpoint: Endpoint,
    permission: Permission,
    query: Sequence[tuple[str, str]],
    *,
    today: date,
    accept: str | None = None,
) -> PageRequest:
    """The effective options of a request under the account's rules; InvalidParameters if not.

    Args:
        endpoint: the endpoint called.
        permission: the account's permission for it.
        query: the query string's (name, value) pairs, in order, repeats included.
        today: the district's today, for the system defaults.
        accept: the request's Accept header (`text/plain` asks for the fixed-width format).
    """
    problems: list[Problem] = []
    given: dict[str, str] = {}
    for name, text in query:
        if name in given:
            problems.append(Problem(name, "is given more than once"))
        elif name != FORMAT_PARAMETER and name not in endpoint.options:
            problems.append(Problem(name, "is not a parameter of this endpoint"))
        given.setdefault(name, text)

    # every value the caller sent is checked, whether the account lets it count or not
    values: dict[str, Any] = {}
    ignored: list[str] = []
    for name in endpoint.options:
        rule = permission.options.get(name) or {}
        chosen: Any = None
        if name in given:
            try:
                chosen = parse_option(name, given[name], endpoint)
            except OptionError as error:
                problems.append(Problem(name, str(error)))
            if not rule.get("allow_override", True):
                ignored.append(name)
                chosen = None
        if chosen is None and rule.get("default") is not None:
            chosen = parse_option(name, str(rule["default"]), endpoint)
        values[name] = chosen

    response_format = given.get(FORMAT_PARAMETER)
    if response_format is not None and response_format not in FORMATS:
        problems.append(Problem(FORMAT_PARAMETER, "must be json or fixed"))
    if response_format is None:
        response_format = "fixed" if _prefers_text(accept) else "json"

    report = None
    if not problems:
        try:
            report = _report(endpoint, values, today)
        except ValidationError as error:
            problems.extend(_report_problems(error))
    if problems:
        raise InvalidParameters(problems)

    asked = values["limit"] or permission.max_page_size
    return PageRequest(
        report=report,
        limit=min(asked, permission.max_page_size),
        offset=values["offset"] or 0,
        sort=values["sort"] or (),
        format=response_format,
        ignored=tuple(ignored),
        clamped=asked > permission.max_page_size,
        replace_unknown=permission.replace_unknown and endpoint.name == "fd",
    )


def _prefers_text(accept: str | None) -> bool:
    """True when the Accept header ranks text/plain above JSON."""
    if not accept:
        return False
    ranked: dict[str, float] = {}
    for part in accept.split(","):
        media, _, parameters = part.strip().partition(";")
        quality = 1.0
        for parameter in parameters.split(";"):
            key, _, value = parameter.strip().partition("=")
            if key == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        ranked[media.strip().lower()] = quality
    text = ranked.get("text/plain", 0.0)
    json = max(ranked.get("application/json", 0.0), ranked.get("*/*", 0.0) * 0.99)
    return text > 0 and text > json


def _report(endpoint: Endpoint, values: Mapping[str, Any], today: date) -> ReportRequest:
    nightly = default_request(today)
    fields: dict[str, Any] = {
        "fiscal_year": values.get("fiscalYear") or nightly.fiscal_year,
        "building_irn": values.get("buildingIrn"),
        "emis_student_ids": values.get("emisStudentIds"),
    }
    if endpoint.name == "ohioPreId":
        fields["effective_date"] = values.get("effectiveDate") or today
        fields["include_inactive"] = bool(values.get("includeInactive"))
    else:
        same_year = fields["fiscal_year"] == nightly.fiscal_year
        fields["reporting_period"] = values.get("reportingPeriod") or (
            nightly.reporting_period if same_year else "N"
        )
        fields["start_date"] = values.get("startDate")
        fields["end_date"] = values.get("endDate")
        fields["pull_prior"] = bool(values.get("pullPrior"))
    return ReportRequest(**fields)


def _report_problems(error: ValidationError) -> list[Problem]:
    problems = []
    for issue in error.errors():
        message = str(issue.get("msg", "is not valid")).removeprefix("Value error, ")
        if "start date after end date" in message:
            problems.append(Problem("startDate", "must not be after endDate"))
        else:
            field = ".".join(str(part) for part in issue.get("loc", ())) or "request"
            problems.append(Problem(field, message))
    return problems


def default_options(endpoint: Endpoint, max_page_size: int) -> dict[str, dict[str, Any]]:
    """A new permission's options: no district defaults, every override allowed."""
    options: dict[str, dict[str, Any]] = {
        name: {"default": None, "allow_override": True} for name in endpoint.options
    }
    options["limit"]["default"] = str(max_page_size)
    return options
