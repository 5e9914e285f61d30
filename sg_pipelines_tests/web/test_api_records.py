"""The record endpoints over real HTTP on loopback against a published snapshot of a generated
district: permissions and options (O14, O15, C2), paging, formats, FD's `@`, the snapshot
(503 before the first publish, `/healthz`, a run holding the warehouse never blocks a request)
and what reaches logs and error bodies (O16)."""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import httpx
import pytest

from sg_pipelines.appdb.exports import ExportStore
from sg_pipelines.emis.ranges import default_request
from sg_pipelines.emis.records import build_ge
from sg_pipelines.emis.snapshot import current_snapshot, open_snapshot
from sg_pipelines.settings import Settings
from sg_pipelines.web.api.options import ENDPOINTS, decide
from sg_pipelines.web.api.service import ReportingApi
from sg_pipelines.web.api.snapshots import ServedSnapshot
from sg_pipelines.web.exports.admin import build_permissions
from sg_pipelines_tests.web.api_support import (
    Account,
    api_settings,
    app_factory,
    make_account,
    publish_district,
    serve,
    token_for,
)

BASE = "/api/v1/stateReporting"


@dataclass
class Served:
    url: str
    settings: Settings
    client: httpx.Client
    home: Path
    warehouse: Path
    app_database_url: str
    ge_only: Account
    everything: Account
    fixed: Account

    def get(self, account: Account, path: str, **kwargs) -> httpx.Response:
        token = token_for(self.client, account)
        headers = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
        return self.client.get(f"{BASE}/{path}", headers=headers, **kwargs)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    home = tmp_path_factory.mktemp("api-records")
    built = publish_district(home)
    build = app_factory(home, built.app_database_url, failed_auth_limit_per_address=10_000)
    with serve(build) as url, httpx.Client(base_url=url) as client:
        settings = api_settings(home, url, built.app_database_url)
        ge_only = make_account(settings, client, "ge only", ["ge"])
        everything = make_account(
            settings,
            client,
            "everything",
            ["ge", "fd", "fe", "gq", "ohioPreId"],
            max_page_sizes=["25"],
            replace_unknown=True,
        )
        fixed = make_account(
            settings,
            client,
            "fixed",
            ["ge", "fd"],
            options=["limit=5", "ge.reportingPeriod=N"],
            locked=["limit", "reportingPeriod"],
            max_page_sizes=["10"],
        )
        yield Served(
            url, settings, client, home, built.warehouse, built.app_database_url,
            ge_only, everything, fixed,
        )  # fmt: skip


def snapshot_rows(builder, **request) -> list[tuple]:
    path = current_snapshot(Path(request.pop("home")))
    with open_snapshot(path) as conn:
        return builder(conn, default_request(date.today()).model_copy(update=request)).fetchall()


# C2 and O15: endpoint scope


@pytest.mark.parametrize("path", ["fd", "fe", "gq", "ohioPreId", "nonexistent", "ge/../fd"])
def test_c2_an_account_allowed_only_ge_gets_403_without_data_or_a_hint(served, path):
    response = served.get(served.ge_only, path)

    assert response.status_code == 403
    body = response.json()
    assert body["error"] == "insufficient_scope"
    assert "records" not in body
    assert set(body) == {"error", "error_description", "correlation_id"}


def test_c2_an_existing_and_a_nonexistent_endpoint_answer_the_same(served):
    real = served.get(served.ge_only, "fd")
    made_up = served.get(served.ge_only, "fx")

    assert real.status_code == made_up.status_code == 403
    assert real.json()["error_description"] == made_up.json()["error_description"]


@pytest.mark.parametrize("method", ["GET", "HEAD", "POST", "DELETE"])
def test_c2_a_forbidden_endpoint_and_a_made_up_one_cannot_be_told_apart(served, method):
    token = token_for(served.client, served.ge_only)
    headers = {"Authorization": f"Bearer {token}"}

    real, made_up = (
        served.client.request(method, f"{BASE}/{name}", headers=headers) for name in ("fd", "fx")
    )

    def seen(response: httpx.Response, name: str) -> tuple:
        # everything a caller sees, but the correlation id and the name it asked for itself
        correlation = response.headers["x-correlation-id"]
        shown = {
            key: value.replace(correlation, "ID").replace(f"emis:{name}", "emis:NAME")
            for key, value in response.headers.items()
        }
        return response.status_code, shown, response.text.replace(correlation, "ID")

    assert real.status_code == 403
    assert seen(real, "fd") == seen(made_up, "fx")
    rows = audit_rows(served, [r.headers["x-correlation-id"] for r in (real, made_up)])
    assert [(row.endpoint, row.result, row.status) for row in rows] == [
        ("fd", "forbidden", 403),
        ("fx", "forbidden", 403),
    ]


def audit_rows(served: Served, correlation_ids: list[str], within: float = 1.5) -> list:
    """The audit rows of these requests, waiting for the writer behind the requests at most
    `within` seconds (the audit is committed within about a second of each request)."""
    deadline = time.monotonic() + within
    with ExportStore(served.app_database_url) as store:
        while True:
            found = {row.correlation_id: row for row in store.audit()}
            if all(i in found for i in correlation_ids) or time.monotonic() > deadline:
                return [found.get(i) for i in correlation_ids]
            time.sleep(0.05)


def test_c2_every_request_leaves_an_audit_row_with_account_endpoint_time_and_result(served):
    before = time.time()
    responses = [served.get(served.ge_only, "fd"), served.get(served.ge_only, "ge")]

    forbidden, allowed = audit_rows(served, [r.headers["x-correlation-id"] for r in responses])
    with ExportStore(served.app_database_url) as store:
        account = store.export_by_name("ge only")
    assert (forbidden.endpoint, forbidden.result, forbidden.status) == ("fd", "forbidden", 403)
    assert (allowed.endpoint, allowed.result, allowed.status) == ("ge", "ok", 200)
    assert forbidden.export_id == allowed.export_id == account.id
    assert forbidden.at >= time.strftime("%Y-%m-%d", time.gmtime(before))


def test_c2_each_of_many_concurrent_requests_gets_its_own_audit_row_within_a_second(served):
    token = token_for(served.client, served.everything)
    headers = {"Authorization": f"Bearer {token}"}
    paths = [("ge", "fd", "gq", "fx")[n % 4] for n in range(48)]

    def call(path: str) -> httpx.Response:
        with httpx.Client(base_url=served.url) as client:
            return client.get(f"{BASE}/{path}", headers=headers)

    with ThreadPoolExecutor(max_workers=16) as pool:
        responses = list(pool.map(call, paths))

    rows = audit_rows(served, [r.headers["x-correlation-id"] for r in responses])
    assert None not in rows
    assert [(row.endpoint, row.status) for row in rows] == [
        (path, response.status_code) for path, response in zip(paths, responses, strict=True)
    ]
    assert {r.status_code for r in responses} == {200, 403}


def test_o15_a_student_id_of_another_district_returns_nothing(served):
    response = served.get(served.everything, "ge", params={"emisStudentIds": "999999999"})

    assert response.status_code == 200
    assert response.json()["records"] == []
    assert response.headers["x-total-count"] == "0"


# the records


@pytest.mark.parametrize("endpoint", ["ge", "fd", "fe", "gq", "ohioPreId"])
def test_every_endpoint_serves_json_records_from_the_snapshot(served, endpoint):
    response = served.get(served.everything, endpoint)

    assert response.status_code == 200, response.text
    body = response.json()
    assert int(response.headers["x-total-count"]) == body["total"]
    assert body["snapshot"] == current_snapshot(served.home).name
    assert len(body["records"]) == min(body["total"], 25)
    assert all("document_id" not in record for record in body["records"])


def test_ge_records_are_the_builders_records_for_the_same_request(served):
    expected = snapshot_rows(build_ge, home=served.home)

    response = served.get(served.ge_only, "ge", params={"limit": "1000"})

    records = response.json()["records"]
    assert len(records) == len(expected) > 0
    assert [r["emis_student_id"] for r in records] == [row[2] for row in expected]


def test_the_published_request_is_paged_from_the_snapshots_own_tables_without_a_build(
    served, caplog
):
    snapshot = ServedSnapshot(current_snapshot(served.home), {})
    [permission] = build_permissions(served.settings, ["ge"])

    def page(*query: tuple[str, str]):
        request = decide(
            ENDPOINTS["ge"], permission, [("limit", "1000"), *query], today=date.today()
        )
        return snapshot.page(ENDPOINTS["ge"], request)

    with caplog.at_level(logging.INFO, logger="sg_pipelines.web.api.snapshots"):
        published = page()
        prior = page(("pullPrior", "true"))

    builds = [r.getMessage() for r in caplog.records if r.getMessage().startswith("built ")]
    assert len(builds) == 1 and builds[0].startswith("built emis_ge")
    expected = snapshot_rows(build_ge, home=served.home)
    assert [r["emis_student_id"] for r in published.rows] == [row[2] for row in expected]
    assert published.total == len(expected) > 0
    assert prior.total >= published.total


def test_building_and_student_filters_narrow_the_records(served):
    everything = served.get(served.ge_only, "ge", params={"limit": "1000"}).json()["records"]
    student = everything[0]["emis_student_id"]
    building = everything[0]["building_irn"]

    by_student = served.get(served.ge_only, "ge", params={"emisStudentIds": student.lstrip("0")})
    by_building = served.get(
        served.ge_only, "ge", params={"buildingIrn": building, "limit": "1000"}
    )

    assert {r["emis_student_id"] for r in by_student.json()["records"]} == {student}
    assert {r["building_irn"] for r in by_building.json()["records"]} == {building}


def test_paging_headers_walk_every_record_once(served):
    total = int(served.get(served.everything, "fd").headers["x-total-count"])
    token = token_for(served.client, served.everything)
    seen, url, pages = [], f"{BASE}/fd?limit=7", 0
    while url:
        response = served.client.get(url, headers={"Authorization": f"Bearer {token}"})
        seen += response.json()["records"]
        links = response.links
        url = links["next"]["url"] if "next" in links else None
        pages += 1

    assert len(seen) == total > 7
    assert pages == -(-total // 7)
    assert "last" in response.links and "prev" in response.links


def test_sort_orders_by_an_allowed_field_descending(served):
    response = served.get(served.ge_only, "ge", params={"sort": "-event_date", "limit": "1000"})

    dates = [r["event_date"] for r in response.json()["records"]]
    assert dates == sorted(dates, reverse=True)


# O14: limits, offsets, sort, overrides


def test_o14_a_limit_above_the_maximum_is_clamped(served):
    response = served.get(served.everything, "ge", params={"limit": "100000"})

    assert response.status_code == 200
    assert response.json()["limit"] == 25
    assert response.headers["x-limit-clamped"] == "25"


def test_o14_an_override_the_account_does_not_allow_is_ignored_and_named(served):
    response = served.get(served.fixed, "ge", params={"limit": "8", "reportingPeriod": "K"})

    body = response.json()
    assert response.status_code == 200
    assert body["limit"] == 5
    assert response.headers["x-ignored-parameters"] == "limit,reportingPeriod"


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"limit": "-1"}, "limit"),
        ({"limit": "0"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"offset": "-5"}, "offset"),
        ({"offset": "99999999999999999999"}, "offset"),
        ({"sort": "document_id"}, "sort"),
        ({"sort": "emis_student_id; DROP TABLE emis_ge"}, "sort"),
        ({"sort": '"event_date" desc'}, "sort"),
        ({"fiscalYear": "26"}, "fiscalYear"),
        ({"reportingPeriod": "X"}, "reportingPeriod"),
        ({"startDate": "2026-02-30"}, "startDate"),
        ({"startDate": "2026-06-30", "endDate": "2025-07-01"}, "startDate"),
        ({"buildingIrn": "12345"}, "buildingIrn"),
        ({"emisStudentIds": "12a"}, "emisStudentIds"),
        ({"pullPrior": "maybe"}, "pullPrior"),
        ({"effectiveDate": "2026-01-01"}, "effectiveDate"),
        ({"colour": "blue"}, "colour"),
        ({"format": "xml"}, "format"),
    ],
)
def test_o14_malformed_values_get_400_naming_the_parameter_never_a_500(served, params, parameter):
    response = served.get(served.everything, "ge", params=params)

    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid_request"
    assert parameter in [detail["parameter"] for detail in body["details"]]
    # the body names the parameter and the problem, never echoes a value
    for value in params.values():
        assert len(value) < 4 or value not in response.text


def test_o14_a_malformed_value_is_refused_even_where_the_override_is_ignored(served):
    response = served.get(served.fixed, "ge", params={"limit": "lots"})

    assert response.status_code == 400


def test_o14_an_offset_past_the_end_is_an_empty_page(served):
    response = served.get(served.ge_only, "ge", params={"offset": "10000000"})

    assert response.status_code == 200
    assert response.json()["records"] == []


# formats and FD's @


def test_fixed_width_is_served_on_request_with_crlf_records_of_the_layout_width(served):
    by_param = served.get(served.ge_only, "ge", params={"format": "fixed", "limit": "3"})
    by_accept = served.get(
        served.ge_only, "ge", params={"limit": "3"}, headers={"Accept": "text/plain"}
    )

    assert by_param.headers["content-type"].startswith("text/plain")
    assert by_param.text == by_accept.text
    lines = by_param.text.split("\r\n")[:-1]
    assert len(lines) == 3
    assert {len(line) for line in lines} == {300}
    assert all(line.startswith("GE") for line in lines)


def test_fd_marks_unknown_fields_with_at_only_when_the_account_asks(served):
    marked = served.get(served.everything, "fd", params={"limit": "1"}).json()["records"][0]
    plain = served.get(served.fixed, "fd", params={"limit": "1"}).json()["records"][0]
    marked_text = served.get(served.everything, "fd", params={"limit": "1", "format": "fixed"}).text
    plain_text = served.get(served.fixed, "fd", params={"limit": "1", "format": "fixed"}).text

    assert marked["attendance_pattern_override"] == "@"
    assert plain["attendance_pattern_override"] is None
    marked_line, plain_line = marked_text.split("\r\n")[0], plain_text.split("\r\n")[0]
    assert marked_line.endswith("@@@@")
    assert "@" not in plain_line
    assert len(marked_line) == len(plain_line)


# the snapshot


def test_healthz_names_the_snapshot_served(served):
    body = served.client.get("/healthz").json()

    assert body["status"] == "ok"
    assert body["snapshot"]["file"] == current_snapshot(served.home).name
    assert body["snapshot"]["rowCounts"]["emis_ge"] > 0


def test_before_the_first_publish_the_records_are_503_with_a_clear_body(tmp_path):
    built = publish_district(tmp_path / "district", students=30)
    empty_home = tmp_path / "new-home"
    build = app_factory(empty_home, built.app_database_url)
    with serve(build) as url, httpx.Client(base_url=url) as client:
        settings = api_settings(empty_home, url, built.app_database_url)
        account = make_account(settings, client, "early", ["ge"])
        token = token_for(client, account)
        response = client.get(f"{BASE}/ge", headers={"Authorization": f"Bearer {token}"})
        health = client.get("/healthz").json()

    assert response.status_code == 503
    assert response.json()["error"] == "no_snapshot"
    assert "published" in response.json()["error_description"]
    assert health == {"status": "ok"}


NIGHTLY_RUN = """
import sys, duckdb
conn = duckdb.connect(sys.argv[1])
conn.execute("CREATE OR REPLACE TABLE nightly_scratch AS SELECT range AS i FROM range(10)")
print("holding", flush=True)
for _ in sys.stdin:
    conn.execute("INSERT INTO nightly_scratch SELECT range FROM range(1000)")
"""


def test_a_run_holding_the_warehouse_write_lock_never_blocks_a_request(served):
    """A nightly-like run in another process keeps the warehouse open read-write (DuckDB's
    exclusive file lock) and writes while requests are answered from the snapshot."""
    run = subprocess.Popen(
        [sys.executable, "-c", NIGHTLY_RUN, str(served.warehouse)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert run.stdout.readline().strip() == "holding"
        # the lock is real: no other process can open the warehouse now
        with pytest.raises(duckdb.IOException):
            duckdb.connect(str(served.warehouse), read_only=True)
        token = token_for(served.client, served.everything)
        started = time.monotonic()
        statuses = []
        for endpoint in ("ge", "fd", "fe", "gq", "ohioPreId") * 4:
            run.stdin.write("write\n")
            run.stdin.flush()
            statuses.append(
                served.client.get(
                    f"{BASE}/{endpoint}", headers={"Authorization": f"Bearer {token}"}
                ).status_code
            )
        elapsed = time.monotonic() - started
        assert run.poll() is None, "the run kept its lock throughout"
    finally:
        run.stdin.close()
        run.wait(10)

    assert statuses == [200] * 20
    assert elapsed < 10


def test_a_new_publish_is_served_at_once_and_the_old_snapshot_is_not_needed(served, tmp_path):
    from sg_pipelines.emis.snapshot import publish_snapshot
    from sg_pipelines.warehouse import connect

    before = served.client.get("/healthz").json()["snapshot"]["file"]
    with connect(served.warehouse) as conn:
        publish_snapshot(conn, served.home, request_summary={"republished": True})
    after = served.client.get("/healthz").json()["snapshot"]["file"]
    response = served.get(served.ge_only, "ge")

    assert after != before
    assert response.headers["x-snapshot"] == after
    assert response.status_code == 200


# O16: nothing personal in logs or error bodies


def test_o16_logs_and_errors_carry_no_student_ids_tokens_or_secrets(served, caplog):
    student = served.get(served.ge_only, "ge").json()["records"][0]["emis_student_id"]
    token = token_for(served.client, served.ge_only)
    with caplog.at_level(logging.DEBUG):
        bad = served.client.get(
            f"{BASE}/ge",
            params={"emisStudentIds": f"{student},12x"},
            headers={"Authorization": f"Bearer {token}"},
        )
        served.client.get(f"{BASE}/ge", params={"emisStudentIds": student},
                          headers={"Authorization": f"Bearer {token}"})  # fmt: skip
        served.client.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            headers={"Authorization": "Basic " + "eDp5"},
        )

    # the server's own log lines (the test's HTTP client logs its URLs, as any client would)
    logged = "\n".join(
        record.getMessage()
        for record in caplog.records
        if record.name.startswith(("sg_pipelines", "uvicorn", "starlette"))
    )
    for secret in (student, student.lstrip("0"), token, served.ge_only.secret):
        assert secret not in logged
        assert secret not in bad.text
    assert bad.status_code == 400


def test_o16_access_logs_lose_query_strings_and_acceptance_link_tokens():
    from sg_pipelines.web.api.errors import RedactedAccessLog

    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5", "GET", "/api/v1/stateReporting/ge?emisStudentIds=004371330", "1.1", 200),
        None,
    )  # fmt: skip
    link = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5", "POST", "/exports/accept/s3cretLinkToken", "1.1", 200), None,
    )  # fmt: skip

    RedactedAccessLog().filter(record)
    RedactedAccessLog().filter(link)

    assert "004371330" not in record.getMessage()
    assert "/api/v1/stateReporting/ge" in record.getMessage()
    assert "s3cretLinkToken" not in link.getMessage()


def test_audit_rows_queued_behind_requests_are_written_by_the_writer_and_by_a_final_flush(
    tmp_path,
):
    app_database_url = f"sqlite:///{tmp_path / 'app.sqlite'}"
    api = ReportingApi(Settings(home=tmp_path, app_database_url=app_database_url))
    api.record_request("ge", "ok", 200, correlation_id="by-the-writer")
    deadline = time.monotonic() + 2
    with ExportStore(app_database_url) as store:
        while not store.audit() and time.monotonic() < deadline:
            time.sleep(0.02)
        written = [row.correlation_id for row in store.audit()]

        # the exit flush runs in another thread than the writer's
        api.record_request("fd", "ok", 200, correlation_id="at-exit")
        api.audit.flush()
        flushed = [row.correlation_id for row in store.audit()]

    assert written == ["by-the-writer"]
    assert flushed == ["by-the-writer", "at-exit"]
