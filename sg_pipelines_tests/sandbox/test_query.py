"""Filter, sort, fields and single-record GETs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sg_pipelines_tests.sandbox.conftest import minor_code


@pytest.fixture
def stamped(sandbox, api):
    """Three users re-stamped on 2099-07-15, -16 and -17 at 12:00 UTC (the rest are older)."""
    district = sandbox.district
    ids = district.sorted_ids("users")[:3]
    base = datetime(2099, 7, 15, 12, tzinfo=UTC)
    for index, sourced_id in enumerate(ids):
        district.touch("users", sourced_id, when=base + timedelta(days=index))
    return ids


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2099-07-15T12:00:00Z", 2),  # strictly after the first of the three
        ("2099-07-15T12:00:00.000Z", 2),
        ("2099-07-15T07:00:00-05:00", 2),  # the same instant written with an offset
        ("2099-07-15T06:59:59-05:00", 3),  # one second earlier
        ("2099-07-17T12:00:00Z", 0),
    ],
)
def test_date_last_modified_filters_compare_utc_instants(api, stamped, value, expected):
    response = api.get("/users", params={"filter": f"dateLastModified>'{value}'"})

    assert response.status_code == 200
    assert int(response.headers["x-total-count"]) == expected
    assert {u["sourcedId"] for u in response.json()["users"]} <= set(stamped)


@pytest.mark.parametrize(
    ("filter_text", "check"),
    [
        ("status='active'", lambda u: u["status"] == "active"),
        ("enabledUser!='true'", lambda u: u["enabledUser"] != "true"),
        ("givenName~'av'", lambda u: "av" in u["givenName"].lower()),
        ("familyName>='S'", lambda u: u["familyName"] >= "S"),
        ("familyName<'C'", lambda u: u["familyName"] < "C"),
        ("roles.role='teacher'", lambda u: any(r["role"] == "teacher" for r in u["roles"])),
        (
            "roles.role='parent' OR roles.role='guardian'",
            lambda u: any(r["role"] in {"parent", "guardian"} for r in u["roles"]),
        ),
        (
            "roles.role='student' AND grades='KG'",
            lambda u: any(r["role"] == "student" for r in u["roles"]) and "KG" in u["grades"],
        ),
    ],
)
def test_filters_select_exactly_the_matching_users(
    session_api, sandbox_session, filter_text, check
):
    response = session_api.get("/users", params={"filter": filter_text, "limit": 1000})
    expected = [u["sourcedId"] for u in sandbox_session.district.collection("users") if check(u)]

    assert response.status_code == 200
    assert [u["sourcedId"] for u in response.json()["users"]] == expected
    assert response.headers["x-total-count"] == str(len(expected))


@pytest.mark.parametrize(
    "filter_text",
    [
        "status=active",  # value not quoted
        "status='active",
        "nosuchfield='x'",
        "status=='active'",
        "status='active' and grades='01'",  # joiners are upper case
        "status='active' AND",
        "dateLastModified>'yesterday'",
        "",
    ],
)
def test_malformed_filters_are_a_400_invalid_filter_field(session_api, filter_text):
    response = session_api.get("/users", params={"filter": filter_text})

    assert response.status_code == 400
    assert minor_code(response) == "invalid_filter_field"


def test_sort_and_order_by(session_api, sandbox_session):
    ascending = session_api.get("/users", params={"sort": "familyName", "limit": 1000})
    descending = session_api.get(
        "/users", params={"sort": "familyName", "orderBy": "desc", "limit": 1000}
    )
    names = [u["familyName"] for u in ascending.json()["users"]]

    assert names == sorted(names)
    assert [u["familyName"] for u in descending.json()["users"]] == sorted(names, reverse=True)


def test_order_by_alone_reverses_the_default_sourced_id_order(session_api, sandbox_session):
    response = session_api.get("/orgs", params={"orderBy": "desc"})

    ids = [org["sourcedId"] for org in response.json()["orgs"]]
    assert ids == sorted(sandbox_session.district.sorted_ids("orgs"), reverse=True)


@pytest.mark.parametrize(
    "params", [{"sort": "shoeSize"}, {"sort": "familyName", "orderBy": "sideways"}]
)
def test_bad_sort_is_a_400_invalid_selection_field(session_api, params):
    response = session_api.get("/users", params=params)

    assert response.status_code == 400
    assert minor_code(response) == "invalid_selection_field"


def test_fields_limits_each_record_to_the_named_fields(session_api):
    response = session_api.get("/users", params={"fields": "sourcedId,givenName", "limit": 5})

    assert response.status_code == 200
    assert all(set(u) == {"sourcedId", "givenName"} for u in response.json()["users"])


@pytest.mark.parametrize("fields", ["sourcedId,shoeSize", ","])
def test_unknown_fields_are_a_400_invalid_selection_field(session_api, fields):
    response = session_api.get("/users", params={"fields": fields})

    assert response.status_code == 400
    assert minor_code(response) == "invalid_selection_field"


@pytest.mark.parametrize(
    ("collection", "path", "key"),
    [
        ("users", "users", "user"),
        ("orgs", "orgs", "org"),
        ("demographics", "demographics", "demographics"),
        ("enrollments", "enrollments", "enrollment"),
        ("classes", "classes", "class"),
        ("courses", "courses", "course"),
        ("academicSessions", "academicSessions", "academicSession"),
    ],
)
def test_single_get_wraps_the_record_in_its_singular_key(
    session_api, sandbox_session, collection, path, key
):
    sourced_id = sandbox_session.district.sorted_ids(collection)[0]
    response = session_api.get(f"/{path}/{sourced_id}")

    assert response.status_code == 200
    assert response.json() == {key: sandbox_session.district.get(collection, sourced_id)}


def test_single_get_of_an_unknown_id_is_404_unknownobject(session_api):
    response = session_api.get("/users/00000000-0000-4000-8000-000000000000")

    assert response.status_code == 404
    assert minor_code(response) == "unknownobject"
    assert response.json()["imsx_codeMajor"] == "failure"


def test_students_endpoint_does_not_serve_a_teacher(session_api, sandbox_session):
    teacher = sandbox_session.district.teachers()[0]["sourcedId"]

    assert session_api.get(f"/teachers/{teacher}").status_code == 200
    assert session_api.get(f"/students/{teacher}").status_code == 404


def test_unexpected_errors_are_a_500_imsx_body_not_a_traceback(sandbox, api, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(sandbox.app.state.selector, "select", broken)
    response = api.get("/users")

    assert response.status_code == 500
    assert minor_code(response) == "internal_server_error"
    assert "Traceback" not in response.text and "boom" not in response.text
