"""Every fault switch, in-process and over HTTP, and the request log."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from email.utils import parsedate_to_datetime

import pytest

from sg_pipelines.sandbox import SandboxServer, generate_district
from sg_pipelines_tests.sandbox.conftest import HTTP, api_client, fetch_token, minor_code


@pytest.fixture(scope="module")
def module_sandbox():
    with SandboxServer(generate_district(60, seed=11)) as sandbox:
        yield sandbox


@pytest.fixture
def faulty(module_sandbox):
    """The module's sandbox with faults and the request log reset before each test."""
    module_sandbox.faults.clear()
    module_sandbox.requests.clear()
    yield module_sandbox
    module_sandbox.faults.clear()


@pytest.fixture
def client(faulty):
    with api_client(faulty, fetch_token(faulty)) as client:
        yield client


def test_429_on_the_nth_request_with_retry_after_seconds(faulty, client):
    faulty.faults.rate_limit("users", request=3, retry_after=2, times=1)

    statuses = [client.get("/users", params={"limit": 5}).status_code for _ in range(2)]
    limited = client.get("/users", params={"limit": 5})
    retried = client.get("/users", params={"limit": 5})

    assert statuses == [200, 200]
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "2"
    assert minor_code(limited) == "server_busy"
    assert retried.status_code == 200


def test_429_retry_after_as_an_http_date(faulty, client):
    faulty.faults.rate_limit("users", offset=10, retry_after=2, http_date=True)

    response = client.get("/users", params={"limit": 10, "offset": 10})
    wait = parsedate_to_datetime(response.headers["retry-after"]).timestamp() - time.time()

    assert response.status_code == 429
    assert 1 <= wait <= 4


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_on_a_page_a_given_number_of_times(faulty, client, status):
    faulty.faults.fail("enrollments", status, offset=100, times=2)

    first = client.get("/enrollments", params={"offset": 100})
    second = client.get("/enrollments", params={"offset": 100})
    third = client.get("/enrollments", params={"offset": 100})
    other_page = client.get("/enrollments", params={"offset": 0})

    assert [first.status_code, second.status_code, third.status_code] == [status, status, 200]
    assert first.json()["imsx_codeMajor"] == "failure"
    assert other_page.status_code == 200


def test_a_failure_without_times_fails_for_good(faulty, client):
    faulty.faults.fail("classes", 500, times=None)

    assert {client.get("/classes").status_code for _ in range(4)} == {500}
    assert client.get("/courses").status_code == 200


def test_a_slow_page_is_held_for_the_delay(faulty, client):
    faulty.faults.slow("orgs", 0.4, offset=0)

    started = time.perf_counter()
    response = client.get("/orgs")

    assert response.status_code == 200
    assert time.perf_counter() - started >= 0.4


def test_total_count_drifts_after_the_first_page(faulty, client):
    faulty.faults.total_count = "drift"

    first = client.get("/users", params={"limit": 10})
    second = client.get("/users", params={"limit": 10, "offset": 10})

    assert int(second.headers["x-total-count"]) == int(first.headers["x-total-count"]) + 1


def test_total_count_and_link_can_be_omitted(faulty, client):
    faulty.faults.total_count = "omit"
    faulty.faults.omit_link = True

    response = client.get("/users", params={"limit": 10})

    assert response.status_code == 200
    assert "x-total-count" not in response.headers
    assert "link" not in response.headers


@pytest.mark.parametrize("body", [{}, {"errors": [{"message": "school year not visible"}]}])
def test_a_200_without_the_collection_key(faulty, client, body):
    faulty.faults.replace_body("students", body)

    response = client.get("/students")

    assert response.status_code == 200
    assert response.json() == body


def test_malformed_demographics_are_injected_into_a_page(faulty, client):
    faulty.faults.inject("demographics")

    records = client.get("/demographics", params={"limit": 5}).json()["demographics"]
    bad = records[5:]

    assert len(records) == 10
    assert [r.get("birthDate") for r in bad if isinstance(r, dict) and "birthDate" in r] == [
        "2012-13-01",
        "01/02/2012",
        "",
    ]
    assert any(isinstance(r, dict) and "sourcedId" not in r for r in bad)
    assert any(not isinstance(r, dict) for r in bad)


def test_custom_records_can_be_injected(faulty, client):
    faulty.faults.inject("users", [{"sourcedId": "x", "status": "bogus"}])

    users = client.get("/users", params={"limit": 2}).json()["users"]

    assert users[-1] == {"sourcedId": "x", "status": "bogus"}


def test_a_silent_page_cap_returns_fewer_records_than_asked(faulty, client):
    faulty.faults.page_cap = 2

    response = client.get("/orgs", params={"limit": 100})

    assert len(response.json()["orgs"]) == 2
    assert int(response.headers["x-total-count"]) == faulty.district.count("orgs")


def test_a_token_valid_for_n_requests_then_401(faulty, client):
    faulty.faults.token_max_requests = 2
    with api_client(faulty, fetch_token(faulty)) as fresh:
        statuses = [fresh.get("/orgs").status_code for _ in range(3)]

    assert statuses == [200, 200, 401]


def test_a_token_that_expires_early_while_expires_in_promises_more(faulty):
    faulty.faults.token_max_age_seconds = 0.3
    token = HTTP.post(
        faulty.token_url,
        auth=(faulty.client_id, faulty.client_secret),
        data={"grant_type": "client_credentials"},
    ).json()
    with api_client(faulty, token["access_token"]) as client:
        before = client.get("/orgs")
        time.sleep(0.4)
        after = client.get("/orgs")

    assert token["expires_in"] == 3600
    assert before.status_code == 200
    assert after.status_code == 401
    assert minor_code(after) == "unauthorisedrequest"


def test_demographics_can_be_forbidden_whatever_the_scope(faulty, client):
    faulty.faults.forbid_demographics = True

    assert client.get("/users").status_code == 200
    assert client.get("/demographics").status_code == 403


def test_faults_are_switched_over_http(faulty, client):
    switches = {
        "page_cap": 3,
        "total_count": "omit",
        "rules": [{"collection": "users", "request": 1, "status": 429, "retry_after": 1}],
    }
    shown = HTTP.post(f"{faulty.root_url}/sandbox/faults", json=switches).json()

    limited = client.get("/users")
    capped = client.get("/users")
    HTTP.delete(f"{faulty.root_url}/sandbox/faults")
    cleared = client.get("/users")

    assert shown["page_cap"] == 3 and len(shown["rules"]) == 1
    assert limited.status_code == 429 and limited.headers["retry-after"] == "1"
    assert len(capped.json()["users"]) == 3 and "x-total-count" not in capped.headers
    assert len(cleared.json()["users"]) == 100 and "x-total-count" in cleared.headers


@pytest.mark.parametrize(
    "switches",
    [{"page_cap": 0}, {"total_count": "sometimes"}, {"rules": [{"status": 200}]}, {"nope": 1}],
)
def test_invalid_fault_switches_are_a_422(faulty, switches):
    response = HTTP.post(f"{faulty.root_url}/sandbox/faults", json=switches)

    assert response.status_code == 422
    assert minor_code(response) == "invaliddata"


def test_the_request_log_records_each_api_request(faulty, client):
    client.get("/users", params={"limit": 3})
    client.get("/nope")

    entries = list(faulty.requests)

    assert [(e.method, e.path, e.status) for e in entries] == [
        ("POST", "/oauth2/token", 200),
        ("GET", "/ims/oneroster/rostering/v1p2/users", 200),
        ("GET", "/ims/oneroster/rostering/v1p2/nope", 404),
    ]
    assert entries[1].query == "limit=3"
    assert entries[1].duration_seconds > 0


def test_the_request_log_measures_peak_concurrency(faulty):
    faulty.faults.slow("orgs", 0.3)
    token = fetch_token(faulty)
    faulty.requests.clear()

    def pull(_: int) -> int:
        with api_client(faulty, token) as client:
            return client.get("/orgs").status_code

    with ThreadPoolExecutor(max_workers=4) as pool:
        statuses = list(pool.map(pull, range(4)))

    assert statuses == [200] * 4
    assert faulty.requests.max_concurrency == 4
    shown = HTTP.get(f"{faulty.root_url}/sandbox/requests").json()
    assert shown["max_concurrency"] == 4 and len(shown["requests"]) == 4
