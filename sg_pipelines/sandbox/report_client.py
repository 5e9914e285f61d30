"""Campus's report client: the sandbox playing Infinite Campus pulling a partner's EMIS records.

At report time Campus obtains a token with the API account's client credentials
(`POST {base}/oauth/token`, HTTP Basic), calls `GET {base}/api/v1/stateReporting/{ge,fd,fe,gq,
ohioPreId}` with the extract's parameters, follows the pages, and then applies its own rules
before anything reaches a report (emis.md §6, §10). Those drops are made here against the
sandbox district, which stands for what Campus knows:

- a record whose EMIS Student ID matches no Campus student: `student not linked`;
- a state-excluded student, grade, school or calendar: `state-excluded ...`;
- an event outside every enrollment of the student, or a span (FD, GQ) without a day inside
  one: `record outside an enrollment`;
- a Pre-ID row of a student Campus has inactive: `student inactive` (IC-PREID);
- a second GQ row with the same program code for a student: `duplicate GQ program code`.

The sandbox holds no state-exclusion flags, so the exclusions are given as `CampusExclusions`
(a user's `metadata.ic.stateExclude` is honoured too). A Campus calendar is a school's year,
named here `<building IRN>-<fiscal year>`.
"""

from __future__ import annotations

import logging
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httpx

from sg_pipelines.sandbox.district import District, has_role

logger = logging.getLogger(__name__)

ENDPOINTS = ("ge", "fd", "fe", "gq", "ohioPreId")
API_PATH = "/api/v1/stateReporting"
TOKEN_PATH = "/oauth/token"
# the field that dates each record for the enrollment check (Pre-ID rows carry none)
RECORD_DATE = {
    "ge": "event_date",
    "fd": "effective_start_date",
    "fe": "event_date",
    "gq": "program_start_date",
}
# where a record is a span, the field that ends it (open when null or 00000000)
RECORD_END = {"fd": "effective_end_date", "gq": "program_end_date"}
MAX_PAGES = 10_000
_LINK_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')


class ReportClientError(RuntimeError):
    """The token or a record call failed; the message has the status, never a credential."""


class EndpointNotPermitted(ReportClientError):
    """The account may not read this endpoint (HTTP 403); the others may still be readable."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class CampusParameters:
    """What a Campus OH extract passes (IC-FE R1): calendar (fiscal year and building IRN),
    reporting period, start and end dates, ad hoc EMIS Student IDs, and Pre-ID's effective date.
    None leaves a parameter out."""

    fiscal_year: int | None = None
    building_irn: str | None = None
    reporting_period: str | None = None
    start_date: date | None = None
    end_date: date | None = None
    emis_student_ids: Sequence[str] | None = None
    effective_date: date | None = None

    def query(self, endpoint: str) -> dict[str, str]:
        """The query parameters for one endpoint: Pre-ID takes an effective date, not a window."""
        values: dict[str, object | None] = {
            "fiscalYear": self.fiscal_year,
            "buildingIrn": self.building_irn,
        }
        if endpoint == "ohioPreId":
            values["effectiveDate"] = self.effective_date
        else:
            values.update(
                reportingPeriod=self.reporting_period,
                startDate=self.start_date,
                endDate=self.end_date,
            )
        if self.emis_student_ids:
            values["emisStudentIds"] = ",".join(self.emis_student_ids)
        return {
            name: value.isoformat() if isinstance(value, date) else str(value)
            for name, value in values.items()
            if value is not None
        }


@dataclass(frozen=True)
class CampusExclusions:
    """What Campus excludes from state reporting: students (EMIS Student IDs or sourcedIds),
    grades (`KG`, `01`, ...), schools (building IRNs) and calendars (`<IRN>-<fiscal year>`)."""

    students: frozenset[str] = frozenset()
    grades: frozenset[str] = frozenset()
    schools: frozenset[str] = frozenset()
    calendars: frozenset[str] = frozenset()


@dataclass(frozen=True)
class CampusEnrollment:
    building_irn: str
    begin: date
    end: date | None
    calendar: str


@dataclass(frozen=True)
class CampusStudent:
    sourced_id: str
    emis_student_id: str
    active: bool
    grade: str | None
    state_excluded: bool
    enrollments: tuple[CampusEnrollment, ...]


class CampusRoster:
    """Campus's truth for the drops: students by EMIS Student ID and their school enrollments."""

    def __init__(self, students: Iterable[CampusStudent], exclusions: CampusExclusions) -> None:
        self.exclusions = exclusions
        self.by_emis_id = {student.emis_student_id: student for student in students}

    @classmethod
    def from_district(
        cls, district: District, exclusions: CampusExclusions | None = None
    ) -> CampusRoster:
        """Read the sandbox district: students, their EMIS Student IDs and enrollment spans."""
        exclusions = exclusions or CampusExclusions()
        irn = {
            org["sourcedId"]: str(org.get("identifier") or "")
            for org in district.collection("orgs")
        }

        spans: dict[str, list[tuple[str, date, date | None]]] = defaultdict(list)
        for enrollment in district.collection("enrollments"):
            if enrollment.get("role") != "student" or enrollment.get("status") == "tobedeleted":
                continue
            # the demo's districts hold an enrollment naming no user; it is no one's span
            student_id = (enrollment.get("user") or {}).get("sourcedId")
            if not student_id:
                continue
            begin = _parse_date(enrollment.get("beginDate"))
            if begin is None:
                continue
            school = (enrollment.get("school") or {}).get("sourcedId", "")
            spans[student_id].append(
                (irn.get(school, ""), begin, _parse_date(enrollment.get("endDate")))
            )

        students = []
        for user in district.collection("users"):
            if not has_role(user, "student"):
                continue
            ic = (user.get("metadata") or {}).get("ic") or {}
            emis = _normalise_emis_id(ic.get("emisStudentId"))
            if emis is None:
                continue
            students.append(
                CampusStudent(
                    sourced_id=user["sourcedId"],
                    emis_student_id=emis,
                    active=user.get("status") != "tobedeleted"
                    and str(user.get("enabledUser", "true")).lower() == "true",
                    grade=(user.get("grades") or [None])[0],
                    state_excluded=bool(ic.get("stateExclude"))
                    or user["sourcedId"] in exclusions.students
                    or emis in exclusions.students,
                    enrollments=_merge_spans(spans.get(user["sourcedId"], ())),
                )
            )
        return cls(students, exclusions)

    def judge(self, endpoint: str, record: Mapping[str, Any]) -> str | None:
        """Why Campus drops this record, or None when it keeps it."""
        student = self.by_emis_id.get(_normalise_emis_id(record.get("emis_student_id")) or "")
        if student is None:
            return "student not linked"
        if student.state_excluded:
            return "state-excluded student"
        if student.grade is not None and student.grade in self.exclusions.grades:
            return "state-excluded grade"
        if endpoint == "ohioPreId" and not student.active:
            return "student inactive"

        start = _parse_date(record.get(RECORD_DATE.get(endpoint, "")))
        # spans (FD, GQ) need one day inside an enrollment; events their own day
        end = _parse_date(record.get(RECORD_END.get(endpoint, ""))) or (
            start if endpoint not in RECORD_END else None
        )
        enrollments = [
            e
            for e in student.enrollments
            if start is None
            or ((end is None or e.begin <= end) and (e.end is None or start <= e.end))
        ]
        if not enrollments:
            return "record outside an enrollment"
        if all(e.building_irn in self.exclusions.schools for e in enrollments):
            return "state-excluded school"
        if all(
            e.building_irn in self.exclusions.schools or e.calendar in self.exclusions.calendars
            for e in enrollments
        ):
            return "state-excluded calendar"
        return None


@dataclass(frozen=True)
class DroppedRecord:
    endpoint: str
    reason: str
    record: Mapping[str, Any]


@dataclass
class Pull:
    """One endpoint's records as served, with the pages it took and the total announced."""

    endpoint: str
    records: list[dict[str, Any]]
    pages: int
    total: int | None


@dataclass
class CampusReport:
    """What a Campus report would contain, and what Campus dropped and why."""

    records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    dropped: list[DroppedRecord] = field(default_factory=list)
    pulls: dict[str, Pull] = field(default_factory=dict)
    not_permitted: dict[str, str] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """Counts only: served, kept and dropped per endpoint, and drops per reason."""
        dropped = Counter(record.endpoint for record in self.dropped)
        return {
            endpoint: {
                "served": len(pull.records),
                "pages": pull.pages,
                "kept": len(self.records.get(endpoint, ())),
                "dropped": dropped[endpoint],
            }
            for endpoint, pull in self.pulls.items()
        } | {"reasons": dict(Counter(record.reason for record in self.dropped))}


class CampusReportClient:
    """Calls the reporting API as Campus does.

    Args:
        base_url: the API's public address (`api.public_url`), without a trailing slash.
        client_id, client_secret: the data export's credentials.
        http: an httpx client to send through (tests pass one bound to an ASGI app).
        page_size: a `limit` to ask for; None leaves the page size to the account.
    """

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        *,
        http: httpx.Client | None = None,
        page_size: int | None = None,
        timeout_seconds: float = 30.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._credentials = (client_id, client_secret)
        self._http = http or httpx.Client(timeout=timeout_seconds)
        self._owns_http = http is None
        self.page_size = page_size
        self._token: str | None = None

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> CampusReportClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def token(self) -> str:
        """A bearer token by client credentials, HTTP Basic, as Campus sends them."""
        response = self._http.post(
            f"{self.base_url}{TOKEN_PATH}",
            data={"grant_type": "client_credentials"},
            auth=httpx.BasicAuth(*self._credentials),
            headers={"Accept": "application/json"},
        )
        if response.status_code != 200:
            raise ReportClientError(f"token request refused: HTTP {response.status_code} "
                                    f"{_oauth_error(response)}")  # fmt: skip
        self._token = response.json()["access_token"]
        return self._token

    def pull(self, endpoint: str, parameters: CampusParameters) -> Pull:
        """Every record of one endpoint for the parameters, following `Link: rel=next`."""
        if endpoint not in ENDPOINTS:
            raise ValueError(f"unknown endpoint {endpoint!r}")
        query = parameters.query(endpoint)
        if self.page_size is not None:
            query["limit"] = str(self.page_size)
        url: str | None = f"{self.base_url}{API_PATH}/{endpoint}"
        params: dict[str, str] | None = query
        records: list[dict[str, Any]] = []
        pages, total = 0, None

        while url is not None:
            response = self._get(url, params)
            pages += 1
            if pages > MAX_PAGES:
                raise ReportClientError(f"{endpoint}: more than {MAX_PAGES} pages")
            records.extend(_records(response.json()))
            if "X-Total-Count" in response.headers:
                total = int(response.headers["X-Total-Count"])
            url, params = _next_link(response), None
        if total is not None and total != len(records):
            raise ReportClientError(f"{endpoint}: {len(records)} records for a total of {total}")
        logger.info("pulled %d %s records in %d pages", len(records), endpoint, pages)
        return Pull(endpoint, records, pages, total)

    def report(
        self,
        roster: CampusRoster,
        parameters: CampusParameters,
        endpoints: Sequence[str] = ENDPOINTS,
    ) -> CampusReport:
        """Pull each endpoint and apply Campus's drops: what the report would contain."""
        report = CampusReport()
        for endpoint in endpoints:
            try:
                pull = self.pull(endpoint, parameters)
            except EndpointNotPermitted as refusal:
                # Campus reports what the account may read and leaves the rest out
                report.not_permitted[endpoint] = refusal.reason
                continue
            report.pulls[endpoint] = pull
            kept: list[dict[str, Any]] = []
            seen_programs: set[tuple[str, str]] = set()
            for record in pull.records:
                reason = roster.judge(endpoint, record)
                if reason is None and endpoint == "gq":
                    key = (str(record.get("emis_student_id")), str(record.get("program_code")))
                    reason = "duplicate GQ program code" if key in seen_programs else None
                    seen_programs.add(key)
                if reason is None:
                    kept.append(record)
                else:
                    report.dropped.append(DroppedRecord(endpoint, reason, record))
            report.records[endpoint] = kept
        return report

    def _get(self, url: str, params: Mapping[str, str] | None) -> httpx.Response:
        for attempt in (1, 2):
            if self._token is None:
                self.token()
            response = self._http.get(
                url,
                params=params,
                headers={"Authorization": f"Bearer {self._token}", "Accept": "application/json"},
            )
            # an expired token is renewed once, as a long report outlives a short token
            if response.status_code == 401 and attempt == 1:
                self._token = None
                continue
            message = (
                f"GET {httpx.URL(url).path}: HTTP {response.status_code} {_oauth_error(response)}"
            )
            if response.status_code == 403:
                raise EndpointNotPermitted(message, _oauth_error(response) or "forbidden")
            if response.status_code != 200:
                raise ReportClientError(message)
            return response
        raise AssertionError("unreachable")


def _records(body: Any) -> list[dict[str, Any]]:
    if isinstance(body, list):
        return body
    for key in ("records", "data", "items"):
        if isinstance(body, dict) and isinstance(body.get(key), list):
            return body[key]
    raise ReportClientError("a record page is neither a list nor an object with records")


def _next_link(response: httpx.Response) -> str | None:
    for value in response.headers.get_list("Link"):
        match = _LINK_NEXT.search(value)
        if match:
            return str(response.url.join(match.group(1)))
    return None


def _oauth_error(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get("error", "")) if isinstance(body, dict) else ""


def _normalise_emis_id(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    if not text.isdigit() or len(text) > 9:
        return None
    return text.zfill(9)


def _parse_date(value: Any) -> date | None:
    if not value or value == "00000000":
        return None
    text = str(value)
    if len(text) == 8 and text.isdigit():
        text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def _fiscal_year(day: date) -> int:
    return day.year + 1 if day.month >= 7 else day.year


def _merge_spans(spans: Iterable[tuple[str, date, date | None]]) -> tuple[CampusEnrollment, ...]:
    """Class enrollments merged into school spans per building (overlapping or adjacent)."""
    merged: list[CampusEnrollment] = []
    far = date.max
    for building, begin, end in sorted(spans, key=lambda s: (s[0], s[1], s[2] or far)):
        last = merged[-1] if merged else None
        if last and last.building_irn == building and (last.end is None or begin <= last.end):
            longer = None if last.end is None or end is None else max(last.end, end)
            merged[-1] = CampusEnrollment(building, last.begin, longer, last.calendar)
        else:
            merged.append(
                CampusEnrollment(building, begin, end, f"{building}-{_fiscal_year(begin)}")
            )
    return tuple(merged)
