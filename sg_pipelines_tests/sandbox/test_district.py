"""District mutations, as tests and delta syncs use them, seen through the API."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sg_pipelines.sandbox.district import District, parse_instant
from sg_pipelines_tests.sandbox.conftest import HTTP


def _stamp(record) -> datetime:
    return parse_instant(record["dateLastModified"])


def test_update_changes_fields_and_moves_date_last_modified(sandbox, api):
    student = sandbox.district.students()[0]
    before = api.get(f"/users/{student['sourcedId']}").json()["user"]

    sandbox.district.update("users", student["sourcedId"], {"givenName": "Renamed"})
    after = api.get(f"/users/{student['sourcedId']}").json()["user"]

    assert before["givenName"] != "Renamed"
    assert after["givenName"] == "Renamed"
    assert _stamp(after) > _stamp(before)
    assert after["dateLastModified"].endswith("Z")


def test_update_with_none_removes_a_field(sandbox_district):
    student = sandbox_district.students()[0]

    updated = sandbox_district.update("users", student["sourcedId"], {"email": None})

    assert "email" not in updated
    assert "email" not in sandbox_district.get("users", student["sourcedId"])


def test_mark_tobedeleted_is_served_as_a_status(sandbox, api):
    sourced_id = sandbox.district.students()[1]["sourcedId"]

    sandbox.district.mark_tobedeleted("users", sourced_id)
    response = api.get("/users", params={"filter": "status='tobedeleted'"})

    assert [u["sourcedId"] for u in response.json()["users"]] == [sourced_id]


def test_remove_makes_a_record_absent(sandbox, api):
    total = sandbox.district.count("users")
    sourced_id = sandbox.district.students()[2]["sourcedId"]

    sandbox.district.remove("users", sourced_id)
    listed = api.get("/users", params={"limit": 1000})

    assert listed.headers["x-total-count"] == str(total - 1)
    assert sourced_id not in {u["sourcedId"] for u in listed.json()["users"]}
    assert api.get(f"/users/{sourced_id}").status_code == 404


def test_add_serves_a_new_record_in_sourced_id_order(sandbox, api):
    record = {
        "sourcedId": "00000000-aaaa-4aaa-8aaa-000000000001",
        "enabledUser": "true",
        "givenName": "New",
        "familyName": "Student",
        "roles": [],
    }

    added = sandbox.district.add("users", record)
    first = api.get("/users", params={"limit": 1}).json()["users"][0]

    assert first == added
    assert first["status"] == "active"
    with pytest.raises(KeyError):
        sandbox.district.add("users", record)


def test_a_delta_filter_returns_exactly_the_changed_records(sandbox, api):
    district = sandbox.district
    cursor = max(_stamp(u) for u in district.collection("users"))
    changed = [s["sourcedId"] for s in district.students()[:3]]
    district.update("users", changed[0], {"familyName": "Changed"})
    district.mark_tobedeleted("users", changed[1])
    district.touch("users", changed[2])

    response = api.get("/users", params={"filter": f"dateLastModified>'{cursor.isoformat()}'"})

    assert sorted(u["sourcedId"] for u in response.json()["users"]) == sorted(changed)


@pytest.mark.parametrize("inclusive", [False, True])
def test_the_instant_index_answers_as_a_scan_of_every_record(inclusive):
    district = District()
    base = datetime(2025, 1, 1, tzinfo=UTC)
    district.load("users", [
        {"sourcedId": f"u{n:03d}", "dateLastModified": f"2025-01-01T00:{n % 60:02d}:00Z"}
        for n in range(100)
    ])  # fmt: skip
    district.warm()
    district.update("users", "u007", {"givenName": "Changed"}, when=base)
    district.touch("users", "u010")
    district.remove("users", "u020")
    district.add("users", {"sourcedId": "u500"})

    for moment in (base, base.replace(minute=30), base.replace(minute=59), datetime.now(UTC)):
        cut = moment.timestamp()
        scanned = [
            key
            for key in district.sorted_ids("users")
            if (stamp := district.modified_instant("users", key)) > cut
            or (inclusive and stamp == cut)
        ]
        assert district.modified_after("users", cut, inclusive=inclusive) == scanned


def test_stamps_increase_strictly_even_within_a_millisecond():
    district = District()
    district.load("orgs", [{"sourcedId": "o1", "status": "active"}])

    stamps = [district.touch("orgs", "o1")["dateLastModified"] for _ in range(50)]

    assert stamps == sorted(set(stamps))


def test_an_explicit_when_is_used_as_given_in_utc():
    district = District()
    district.load("orgs", [{"sourcedId": "o1", "status": "active"}])
    when = datetime(2025, 3, 4, 10, 0, tzinfo=UTC)

    assert district.touch("orgs", "o1", when=when)["dateLastModified"] == (
        "2025-03-04T10:00:00.000Z"
    )


def test_unknown_collections_are_refused():
    with pytest.raises(KeyError, match="unknown collection"):
        District().collection("parents")


def test_records_can_be_changed_over_http(sandbox, api):
    first, second, third = (s["sourcedId"] for s in sandbox.district.students()[:3])
    changes = [
        {"op": "update", "collection": "users", "sourcedId": first, "fields": {"givenName": "Z"}},
        {"op": "tobedeleted", "collection": "users", "sourcedId": second},
        {"op": "remove", "collection": "users", "sourcedId": third},
        {"op": "touch", "collection": "demographics", "sourcedId": first,
         "when": "2099-01-01T00:00:00Z"},
        {"op": "add", "collection": "orgs",
         "record": {"sourcedId": "new-school", "name": "New", "type": "school",
                    "identifier": "123456"}},
    ]  # fmt: skip

    response = HTTP.post(f"{sandbox.root_url}/sandbox/records", json={"changes": changes})

    assert response.status_code == 200 and response.json()["applied"] == 5
    assert api.get(f"/users/{first}").json()["user"]["givenName"] == "Z"
    assert api.get(f"/users/{second}").json()["user"]["status"] == "tobedeleted"
    assert api.get(f"/users/{third}").status_code == 404
    demographics = api.get(f"/demographics/{first}").json()["demographics"]
    assert demographics["dateLastModified"] == "2099-01-01T00:00:00.000Z"
    assert api.get("/orgs/new-school").json()["org"]["identifier"] == "123456"


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"op": "update", "collection": "users", "sourcedId": "nobody"}, 404),
        ({"op": "explode", "collection": "users", "sourcedId": "x"}, 422),
        ({"op": "touch", "collection": "parents", "sourcedId": "x"}, 422),
        ({"op": "add", "collection": "users", "record": {"givenName": "no id"}}, 422),
    ],
)
def test_bad_record_changes_are_refused(sandbox, change, status):
    response = HTTP.post(f"{sandbox.root_url}/sandbox/records", json={"changes": [change]})

    assert response.status_code == status
