"""Paging: limit/offset, the clamp, X-Total-Count and the Link header."""

from __future__ import annotations

import pytest

from sg_pipelines.sandbox import SandboxConfig, SandboxServer
from sg_pipelines_tests.sandbox.conftest import api_client, fetch_token, minor_code


def _ids(response) -> list[str]:
    key = next(iter(response.json()))
    return [record["sourcedId"] for record in response.json()[key]]


def test_default_page_is_100_records_in_sourced_id_order(session_api, sandbox_session):
    response = session_api.get("/users")
    expected = sandbox_session.district.sorted_ids("users")[:100]

    assert response.status_code == 200
    assert _ids(response) == expected
    assert response.headers["x-total-count"] == str(sandbox_session.district.count("users"))


def test_paging_by_offset_covers_every_record_exactly_once(session_api, sandbox_session):
    seen, offset = [], 0
    while True:
        page = _ids(session_api.get("/enrollments", params={"limit": 37, "offset": offset}))
        if not page:
            break
        seen += page
        offset += len(page)

    assert seen == sandbox_session.district.sorted_ids("enrollments")


def test_link_header_names_first_prev_next_and_last(session_api, sandbox_session):
    total = sandbox_session.district.count("users")
    response = session_api.get("/users", params={"limit": 10, "offset": 20})
    links = {rel: link["url"] for rel, link in response.links.items()}

    assert set(links) == {"first", "prev", "next", "last"}
    assert links["first"].endswith("/users?limit=10&offset=0")
    assert links["prev"].endswith("/users?limit=10&offset=10")
    assert links["next"].endswith("/users?limit=10&offset=30")
    assert links["last"].endswith(f"/users?limit=10&offset={(total - 1) // 10 * 10}")


def test_the_first_page_has_no_prev_and_the_last_no_next(session_api, sandbox_session):
    total = sandbox_session.district.count("orgs")
    first = session_api.get("/orgs", params={"limit": 2})
    last = session_api.get("/orgs", params={"limit": 2, "offset": (total - 1) // 2 * 2})

    assert "prev" not in first.links and "next" in first.links
    assert "next" not in last.links and "prev" in last.links


def test_links_keep_the_other_query_parameters(session_api):
    response = session_api.get("/users", params={"limit": 5, "filter": "status='active'"})

    assert "filter=status%3D%27active%27" in response.links["next"]["url"]


def test_an_offset_past_the_end_returns_an_empty_page(session_api):
    response = session_api.get("/orgs", params={"offset": 10_000})

    assert response.status_code == 200
    assert response.json() == {"orgs": []}


def test_limits_above_the_ceiling_are_clamped_silently(sandbox_district):
    with (
        SandboxServer(sandbox_district, SandboxConfig(max_page_size=25)) as sandbox,
        api_client(sandbox, fetch_token(sandbox)) as client,
    ):
        response = client.get("/users", params={"limit": 1000})

    assert response.status_code == 200
    assert len(response.json()["users"]) == 25
    assert response.links["next"]["url"].endswith("limit=25&offset=25")


@pytest.mark.parametrize(
    "params",
    [
        {"limit": "0"},
        {"limit": "-1"},
        {"limit": "ten"},
        {"limit": "2.5"},
        {"limit": ""},
        {"offset": "-5"},
        {"offset": "x"},
        {"limit": "99999999999999999999"},
    ],
)
def test_malformed_paging_is_a_400_with_an_imsx_body(session_api, params):
    response = session_api.get("/users", params=params)

    assert response.status_code == 400
    assert minor_code(response) == "invalid_selection_field"
    assert response.json()["imsx_severity"] == "error"


@pytest.mark.parametrize(
    ("path", "key"),
    [
        ("/users", "users"),
        ("/students", "users"),
        ("/teachers", "users"),
        ("/demographics", "demographics"),
        ("/enrollments", "enrollments"),
        ("/orgs", "orgs"),
        ("/schools", "orgs"),
        ("/academicSessions", "academicSessions"),
        ("/classes", "classes"),
        ("/courses", "courses"),
    ],
)
def test_each_collection_answers_under_its_oneroster_key(session_api, path, key):
    response = session_api.get(path, params={"limit": 5})

    assert response.status_code == 200
    assert list(response.json()) == [key]
    assert response.json()[key]


def test_students_teachers_and_schools_are_subsets(session_api, sandbox_session):
    district = sandbox_session.district
    students = session_api.get("/students", params={"limit": 1000})
    teachers = session_api.get("/teachers", params={"limit": 1000})
    schools = session_api.get("/schools")

    assert int(students.headers["x-total-count"]) == len(district.students()) == 60
    assert {u["sourcedId"] for u in teachers.json()["users"]} == {
        t["sourcedId"] for t in district.teachers()
    }
    assert all(org["type"] == "school" for org in schools.json()["orgs"])
    assert len(schools.json()["orgs"]) == district.count("orgs") - 1
