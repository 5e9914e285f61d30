"""The sandbox's program-flags endpoint keeps the contract in docs/campus-flags-api.md."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import httpx
import pytest

from sg_pipelines.sandbox import SandboxServer
from sg_pipelines.sandbox.flags import SANDBOX_VENDOR_KEY, VENDOR_HEADER
from sg_pipelines.settings import SANDBOX_VENDOR_SECRET
from sg_pipelines_tests.sandbox.conftest import HTTP, TLS, fetch_token, minor_code

VENDOR = f"{SANDBOX_VENDOR_KEY}:{SANDBOX_VENDOR_SECRET}"


@pytest.fixture
def flags_api(sandbox: SandboxServer) -> Iterator[httpx.Client]:
    """A client on the flags base URL with a bearer token and the vendor header."""
    headers = {"Authorization": f"Bearer {fetch_token(sandbox)}", VENDOR_HEADER: VENDOR}
    with httpx.Client(
        base_url=sandbox.flags_url, headers=headers, timeout=10, verify=TLS
    ) as client:
        yield client


def participation(student: str, start: str = "2025-03-01", end: str | None = None) -> dict:
    return {
        "participation": {"student": {"sourcedId": student}, "startDate": start, "endDate": end}
    }


@pytest.mark.parametrize(
    ("with_token", "vendor"),
    [
        pytest.param(True, None, id="no vendor header"),
        pytest.param(True, f"{SANDBOX_VENDOR_KEY}:wrong", id="wrong vendor secret"),
        pytest.param(True, SANDBOX_VENDOR_KEY, id="vendor key without secret"),
        pytest.param(False, VENDOR, id="no bearer token"),
    ],
)
def test_a_request_without_both_credentials_is_a_401_with_an_imsx_body(sandbox, with_token, vendor):
    headers = {VENDOR_HEADER: vendor} if vendor else {}
    if with_token:
        headers["Authorization"] = f"Bearer {fetch_token(sandbox)}"

    response = HTTP.get(f"{sandbox.flags_url}/programs", headers=headers)

    assert response.status_code == 401
    assert minor_code(response) == "unauthorisedrequest"
    assert SANDBOX_VENDOR_SECRET not in response.text


def test_a_repeated_put_never_creates_a_second_participation(sandbox, flags_api):
    program = sandbox.flags.add_program("Section 504")
    student = sandbox.district.students()[0]["sourcedId"]
    url = f"/programs/{program.sourced_id}/participations/p-1"

    first = flags_api.put(url, json=participation(student))
    again = flags_api.put(url, json=participation(student))
    ended = flags_api.put(url, json=participation(student, end="2025-06-30"))

    assert [first.status_code, again.status_code, ended.status_code] == [201, 200, 200]
    assert len(sandbox.flags.participations) == 1
    assert sandbox.flags.participations["p-1"].end_date == date(2025, 6, 30)
    assert ended.json()["participation"]["createdBy"] == SANDBOX_VENDOR_KEY


def test_participations_are_paged_with_a_total_and_a_next_link(sandbox, flags_api):
    program = sandbox.flags.add_program("Special Education")
    for number, student in enumerate(sandbox.district.students()[:5]):
        sandbox.flags.add_participation(
            program.sourced_id, student["sourcedId"], date(2025, 3, 1), sourced_id=f"p-{number}"
        )

    page = flags_api.get(
        f"/programs/{program.sourced_id}/participations", params={"limit": 2, "offset": 2}
    )

    assert page.headers["X-Total-Count"] == "5"
    assert [p["sourcedId"] for p in page.json()["participations"]] == ["p-2", "p-3"]
    assert "offset=4" in page.headers["Link"] and 'rel="next"' in page.headers["Link"]


@pytest.mark.parametrize(
    ("created_by", "body", "status"),
    [
        pytest.param(None, {}, 403, id="a hand-made flag cannot be changed"),
        pytest.param("other-vendor", {}, 403, id="another vendor's flag cannot be changed"),
        pytest.param(SANDBOX_VENDOR_KEY, {"end": "2025-01-01"}, 422, id="end before start"),
    ],
)
def test_refused_participation_writes(sandbox, flags_api, created_by, body, status):
    program = sandbox.flags.add_program("Special Education")
    student = sandbox.district.students()[0]["sourcedId"]
    sandbox.flags.add_participation(
        program.sourced_id, student, date(2025, 3, 1), created_by=created_by, sourced_id="p-1"
    )

    response = flags_api.put(
        f"/programs/{program.sourced_id}/participations/p-1",
        json=participation(student, end=body.get("end")),
    )

    assert response.status_code == status
    assert student not in response.text


def test_an_unknown_student_or_a_flag_without_special_ed_is_refused(sandbox, flags_api):
    plain = sandbox.flags.add_program("Gifted", special_ed=False)
    sped = sandbox.flags.add_program("Special Education")
    student = sandbox.district.students()[0]["sourcedId"]

    unknown = flags_api.put(
        f"/programs/{sped.sourced_id}/participations/p-1", json=participation("nobody")
    )
    not_sped = flags_api.put(
        f"/programs/{plain.sourced_id}/participations/p-2", json=participation(student)
    )

    assert (unknown.status_code, not_sped.status_code) == (422, 403)


def test_creating_a_program_flag_is_idempotent_and_names_are_unique(sandbox, flags_api):
    body = {"program": {"name": "English Learners", "specialEd": True, "active": True}}

    first = flags_api.put("/programs/prog-1", json=body)
    again = flags_api.put("/programs/prog-1", json=body)
    clash = flags_api.put("/programs/prog-2", json=body)

    assert [first.status_code, again.status_code, clash.status_code] == [201, 200, 409]
    listed = flags_api.get("/programs").json()["programs"]
    assert [(p["name"], p["specialEd"], p["createdBy"]) for p in listed] == [
        ("English Learners", True, SANDBOX_VENDOR_KEY)
    ]


def test_the_state_can_be_read_and_seeded_over_http(sandbox):
    student = sandbox.district.students()[0]["sourcedId"]
    seeded = HTTP.post(
        f"{sandbox.root_url}/sandbox/flags",
        json={
            "programs": [{"name": "Section 504"}],
            "participations": [
                {"program": "Section 504", "student": student, "startDate": "2024-09-01"}
            ],
        },
    )

    state = HTTP.get(f"{sandbox.root_url}/sandbox/flags").json()

    assert seeded.status_code == 200
    assert [p["startDate"] for p in state["participations"]] == ["2024-09-01"]
    assert state["participations"][0]["createdBy"] is None


def test_a_put_fault_answers_429_with_retry_after(sandbox, flags_api):
    program = sandbox.flags.add_program("Special Education")
    student = sandbox.district.students()[0]["sourcedId"]
    sandbox.faults.rate_limit("participations.put", retry_after=3)

    response = flags_api.put(
        f"/programs/{program.sourced_id}/participations/p-1", json=participation(student)
    )

    assert (response.status_code, response.headers["Retry-After"]) == (429, "3")
    assert sandbox.flags.participations == {}
