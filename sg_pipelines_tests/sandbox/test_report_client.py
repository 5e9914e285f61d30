"""Campus's report client against a small in-test stub of the reporting API.

The stub speaks the contract the client relies on: client credentials by HTTP Basic at
`/oauth/token`, bearer tokens, record pages linked by `Link: rel="next"` with `X-Total-Count`.
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import date, timedelta
from urllib.parse import parse_qsl, urlencode

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient
from typer.testing import CliRunner

from sg_pipelines.cli import app
from sg_pipelines.demo import DemoDistrict, demo_district_as_left, prepare_home
from sg_pipelines.sandbox import District
from sg_pipelines.sandbox.report_client import (
    CampusExclusions,
    CampusParameters,
    CampusReportClient,
    CampusRoster,
    ReportClientError,
)
from sg_pipelines.sandbox.runner import bind_socket

BASE = "http://api.test"
CLIENT_ID, CLIENT_SECRET = "sgx_campus", "sgs_secret"
PARAMETERS = CampusParameters(fiscal_year=2027, building_irn=None, reporting_period="N")


class StubApi:
    """Serves fixed records per endpoint, two to a page, and remembers what it was asked."""

    def __init__(self, records: dict[str, list[dict]]) -> None:
        self.records = records
        self.queries: list[tuple[str, dict[str, str]]] = []
        self.tokens_issued = 0
        self.expire_next_request = False
        self.not_permitted: set[str] = set()
        self.app = Starlette(
            routes=[
                Route("/oauth/token", self.token, methods=["POST"]),
                Route("/api/v1/stateReporting/{endpoint}", self.page),
            ]
        )

    async def token(self, request: Request) -> JSONResponse:
        expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        form = dict(parse_qsl((await request.body()).decode()))
        if request.headers.get("authorization") != f"Basic {expected}":
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        if form.get("grant_type") != "client_credentials":
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        self.tokens_issued += 1
        token = f"token-{self.tokens_issued}"
        return JSONResponse({"access_token": token, "token_type": "Bearer", "expires_in": 900})

    async def page(self, request: Request) -> JSONResponse:
        current = f"Bearer token-{self.tokens_issued}"
        if self.expire_next_request or request.headers.get("authorization") != current:
            self.expire_next_request = False
            return JSONResponse({"error": "invalid_token"}, status_code=401)
        endpoint = request.path_params["endpoint"]
        if endpoint in self.not_permitted:
            return JSONResponse({"error": "insufficient_scope"}, status_code=403)
        query = dict(request.query_params)
        self.queries.append((endpoint, query))
        offset, limit = int(query.pop("offset", 0)), 2
        records = self.records.get(endpoint, [])
        headers = {"X-Total-Count": str(len(records))}
        if offset + limit < len(records):
            following = urlencode({**query, "offset": offset + limit})
            headers["Link"] = f'</api/v1/stateReporting/{endpoint}?{following}>; rel="next"'
        return JSONResponse(records[offset : offset + limit], headers=headers)


def client(stub: StubApi, secret: str = CLIENT_SECRET) -> CampusReportClient:
    http = TestClient(stub.app, base_url=BASE)
    return CampusReportClient(BASE, CLIENT_ID, secret, http=http)


def students(roster: CampusRoster) -> list:
    """Active enrolled students of the roster, in a stable order."""
    return sorted(
        (s for s in roster.by_emis_id.values() if s.active and s.enrollments),
        key=lambda s: s.emis_student_id,
    )


def ge(student, day) -> dict:
    return {
        "emis_student_id": student.emis_student_id,
        "building_irn": student.enrollments[0].building_irn,
        "date_type": "IEPC",
        "event_date": day.strftime("%Y%m%d"),
    }


def test_the_client_pulls_every_page_with_campus_parameters(sandbox_district: District) -> None:
    roster = CampusRoster.from_district(sandbox_district)
    chosen = students(roster)[:5]
    records = [ge(s, s.enrollments[0].begin + timedelta(days=10)) for s in chosen]
    stub = StubApi({"ge": records})

    with client(stub) as campus:
        pull = campus.pull("ge", replace(PARAMETERS, emis_student_ids=["1", "2"]))

    assert pull.records == records
    assert pull.pages == 3 and pull.total == 5
    endpoint, first = stub.queries[0]
    assert endpoint == "ge"
    assert first == {
        "fiscalYear": "2027",
        "reportingPeriod": "N",
        "emisStudentIds": "1,2",
    }


def test_pre_id_gets_an_effective_date_not_a_window() -> None:
    parameters = CampusParameters(
        fiscal_year=2027,
        building_irn="123456",
        reporting_period="N",
        start_date=PARAMETERS.start_date,
        effective_date=date(2027, 3, 1),
    )

    assert parameters.query("ohioPreId") == {
        "fiscalYear": "2027",
        "buildingIrn": "123456",
        "effectiveDate": "2027-03-01",
    }
    assert "effectiveDate" not in parameters.query("ge")


def test_campus_drops_records_it_cannot_report_and_says_why(sandbox_district: District) -> None:
    first = CampusRoster.from_district(sandbox_district)
    kept, excluded, kindergarten, outside, other_school, inactive = _pick(first)
    exclusions = CampusExclusions(
        students=frozenset({excluded.emis_student_id}),
        grades=frozenset({kindergarten.grade}),
        schools=frozenset({other_school.enrollments[0].building_irn}),
    )
    roster = CampusRoster.from_district(sandbox_district, exclusions)
    inside = lambda s: s.enrollments[0].begin + timedelta(days=5)  # noqa: E731
    unknown = {**ge(kept, inside(kept)), "emis_student_id": "999999999"}
    stub = StubApi(
        {
            "ge": [
                ge(kept, inside(kept)),
                unknown,
                ge(excluded, inside(excluded)),
                ge(kindergarten, inside(kindergarten)),
                ge(outside, outside.enrollments[0].begin - timedelta(days=30)),
                ge(other_school, inside(other_school)),
            ],
            "gq": [
                {"emis_student_id": kept.emis_student_id, "program_code": "504P",
                 "program_start_date": inside(kept).strftime("%Y%m%d")},
                {"emis_student_id": kept.emis_student_id, "program_code": "504P",
                 "program_start_date": inside(kept).strftime("%Y%m%d")},
            ],
            "ohioPreId": [
                {"emis_student_id": inactive.emis_student_id, "effective_date": "20270301"},
                {"emis_student_id": kept.emis_student_id, "effective_date": "20270301"},
            ],
        }
    )  # fmt: skip

    with client(stub) as campus:
        report = campus.report(roster, PARAMETERS, endpoints=("ge", "gq", "ohioPreId"))

    assert [r["emis_student_id"] for r in report.records["ge"]] == [kept.emis_student_id]
    assert len(report.records["gq"]) == 1
    assert [r["emis_student_id"] for r in report.records["ohioPreId"]] == [kept.emis_student_id]
    assert sorted((d.endpoint, d.reason) for d in report.dropped) == [
        ("ge", "record outside an enrollment"),
        ("ge", "state-excluded grade"),
        ("ge", "state-excluded school"),
        ("ge", "state-excluded student"),
        ("ge", "student not linked"),
        ("gq", "duplicate GQ program code"),
        ("ohioPreId", "student inactive"),
    ]
    summary = report.summary()
    assert summary["ge"] == {"served": 6, "pages": 3, "kept": 1, "dropped": 5}


def test_a_record_only_in_an_excluded_calendar_is_dropped(sandbox_district: District) -> None:
    student = students(CampusRoster.from_district(sandbox_district))[0]
    calendar = student.enrollments[0].calendar
    roster = CampusRoster.from_district(
        sandbox_district, CampusExclusions(calendars=frozenset({calendar}))
    )
    record = ge(student, student.enrollments[0].begin)

    assert roster.judge("ge", record) == "state-excluded calendar"
    assert CampusRoster.from_district(sandbox_district).judge("ge", record) is None


def test_an_expired_token_is_renewed_once(sandbox_district: District) -> None:
    stub = StubApi({"fd": []})

    with client(stub) as campus:
        campus.token()
        stub.expire_next_request = True
        pull = campus.pull("fd", PARAMETERS)

    assert pull.records == [] and stub.tokens_issued == 2


def test_wrong_credentials_are_an_error_without_the_secret() -> None:
    with (
        client(StubApi({}), secret="sgs_wrong") as campus,
        pytest.raises(ReportClientError) as raised,
    ):
        campus.pull("ge", PARAMETERS)

    assert "401" in str(raised.value) and "invalid_client" in str(raised.value)
    assert "sgs_wrong" not in str(raised.value)


def _pick(roster: CampusRoster):
    """Six students: kept, excluded, of an excluded grade, outside, other school, inactive."""
    active = sorted(
        (s for s in roster.by_emis_id.values() if s.active and s.enrollments),
        key=lambda s: s.emis_student_id,
    )
    kept = active[0]
    schools = {s.enrollments[0].building_irn for s in active}
    other_school = next(
        s for s in active
        if s.enrollments[0].building_irn != kept.enrollments[0].building_irn
        and s.grade != kept.grade and all(e.building_irn != kept.enrollments[0].building_irn
                                          for e in s.enrollments)
    )  # fmt: skip
    assert len(schools) > 1
    rest = [
        s for s in active[1:]
        if s is not other_school
        and all(e.building_irn != other_school.enrollments[0].building_irn for e in s.enrollments)
    ]  # fmt: skip
    kindergarten = next(s for s in rest if s.grade not in (kept.grade,))
    rest = [s for s in rest if s.grade != kindergarten.grade]
    excluded, outside = rest[0], rest[1]
    inactive = next(
        s for s in roster.by_emis_id.values()
        if not s.active and s.grade != kindergarten.grade
        and all(e.building_irn != other_school.enrollments[0].building_irn for e in s.enrollments)
    )  # fmt: skip
    return kept, excluded, kindergarten, outside, other_school, inactive


@contextmanager
def serving(stub: StubApi) -> Iterator[str]:
    """The stub on a free loopback port, for the command to reach over HTTP."""
    sock = bind_socket("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(stub.app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_the_report_command_shows_permitted_endpoints_and_names_the_others() -> None:
    stub = StubApi({"ge": [{"emis_student_id": "000000001"}], "fd": [], "gq": [], "ohioPreId": []})
    stub.not_permitted = {"fe", "ohioPreId"}
    with serving(stub) as url:
        arguments = ["sandbox", "report", "--client-id", CLIENT_ID, "--client-secret"]
        arguments += [CLIENT_SECRET, "--api-url", url, "--students", "30"]
        result = CliRunner().invoke(app, arguments)

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == (
        "Judging Campus's drops against the generated district, seed 7, 30 students (as given)"
    )
    assert [line.split()[0] for line in lines[2:5]] == ["ge", "fd", "gq"]
    assert lines[-1] == (
        "not permitted for this account, so left out: fe (insufficient_scope), "
        "ohioPreId (insufficient_scope)"
    )


def test_the_report_command_judges_against_the_district_the_demo_recorded(tmp_path) -> None:
    home = tmp_path / "demo"
    prepare_home(home, DemoDistrict(students=30, seed=11))
    roster = CampusRoster.from_district(
        demo_district_as_left(DemoDistrict(students=30, seed=11))[0]
    )
    only_in_the_demo = next(
        s.emis_student_id for s in roster.by_emis_id.values() if s.active and s.enrollments
    )
    stub = StubApi({"ge": [{"emis_student_id": only_in_the_demo}], "fd": [], "gq": []})
    stub.not_permitted = {"fe", "ohioPreId"}

    with serving(stub) as url:
        arguments = ["sandbox", "report", "--client-id", CLIENT_ID, "--client-secret"]
        arguments += [CLIENT_SECRET, "--api-url", url, "--home", str(home)]
        result = CliRunner().invoke(app, arguments)

    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == (
        "Judging Campus's drops against the generated district, seed 11, 30 students "
        f"(recorded in {home.resolve()})"
    )
    assert "not linked" not in result.output
