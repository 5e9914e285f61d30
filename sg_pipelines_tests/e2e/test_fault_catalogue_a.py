"""Section A of the fault catalogue, each as a scenario over real HTTP against the sandbox.

Each test names its catalogue entry. The unit tests in `roster/` pin the same rules against an
in-process fake; these prove them end to end through the sandbox's own fault switches.
"""

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qs

import pytest

from sg_pipelines.roster.client import OneRosterClient
from sg_pipelines.roster.collections import COLLECTIONS
from sg_pipelines.roster.derived import build_guardians, record_unresolved_references
from sg_pipelines.roster.sync import begin_sync, finish_sync, sync_collection
from sg_pipelines.settings import RosterSettings
from sg_pipelines.warehouse import connect


def sync(warehouse, sandbox, sync_id, mode="full", confirm=False, **client_options):
    options = {"page_size": 20, "max_backoff_seconds": 3.0, "max_retries": 3, **client_options}
    client = OneRosterClient(
        sandbox.base_url, sandbox.token_url, sandbox.client_id, sandbox.client_secret, **options
    )
    with connect(warehouse) as conn, client:
        run = begin_sync(conn, sync_id, mode, lookback_seconds=60)
        results = {
            name: sync_collection(
                conn, client, collection, run, RosterSettings(), confirm_mass_deactivation=confirm
            )
            for name, collection in COLLECTIONS.items()
        }
        status, message = finish_sync(conn, sync_id)
        record_unresolved_references(conn, sync_id)
    return results, status, message


def scalar(warehouse, sql, *params):
    with connect(warehouse) as conn:
        return conn.execute(sql, list(params)).fetchall()[0][0]


def active_students(warehouse):
    return scalar(
        warehouse,
        "SELECT count(*) FROM oneroster_users "
        "WHERE is_active AND list_contains(role_names, 'student')",
    )


def user_offsets(sandbox):
    """How often each page of /users was asked for."""
    return Counter(
        int(parse_qs(entry.query).get("offset", ["0"])[0])
        for entry in sandbox.requests.entries
        if entry.path.endswith("/users")
    )


def test_a2_a_total_that_changes_mid_crawl_never_deactivates(sandbox, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    sync(warehouse, sandbox, "s1")
    gone = sandbox.district.students()[0]["sourcedId"]
    sandbox.district.remove("users", gone)

    sandbox.faults.apply({"total_count": "drift"})
    results, _status, _ = sync(warehouse, sandbox, "s2")

    assert results["users"].consistent is False
    assert results["users"].deactivated == 0
    assert scalar(warehouse, "SELECT is_active FROM oneroster_users WHERE sourced_id = ?", gone)


def test_a3_a_server_capping_pages_silently_still_yields_every_user(sandbox, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    sandbox.faults.apply({"page_cap": 7})

    results, status, _ = sync(warehouse, sandbox, "s1", page_size=100)

    assert status == "complete"
    assert results["users"].fetched == sandbox.district.count("users")
    assert active_students(warehouse) == len(sandbox.district.students())


def test_a5_a_success_shaped_empty_body_fails_the_collection_and_deactivates_nothing(
    sandbox, tmp_path
):
    warehouse = tmp_path / "w.duckdb"
    sync(warehouse, sandbox, "s1")
    before = active_students(warehouse)

    sandbox.faults.replace_body("users", {}, times=None)
    sandbox.faults.replace_body("enrollments", {"errors": [{"message": "scope"}]}, times=None)
    results, status, _message = sync(warehouse, sandbox, "s2")

    assert results["users"].status == "failed"
    assert results["enrollments"].status == "failed"
    assert "users" in results["users"].error
    assert status == "partial"
    assert active_students(warehouse) == before


def test_a6_a_pull_that_would_deactivate_most_students_is_withheld(sandbox, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    sync(warehouse, sandbox, "s1")
    students = sandbox.district.students()
    for student in students[3:]:
        sandbox.district.remove("users", student["sourcedId"])

    results, _status, _ = sync(warehouse, sandbox, "s2")

    assert results["users"].deactivated == 0
    assert results["users"].deactivations_withheld == len(students) - 3
    assert active_students(warehouse) == len(students)


def test_a6_a_confirmed_mass_deactivation_is_applied(sandbox, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    sync(warehouse, sandbox, "s1")
    students = sandbox.district.students()
    for student in students[3:]:
        sandbox.district.remove("users", student["sourcedId"])

    sync(warehouse, sandbox, "s2", confirm=True)

    assert active_students(warehouse) == 3


def test_a7_tobedeleted_deactivates_and_a_later_active_record_revives_the_same_row(
    sandbox, tmp_path
):
    warehouse = tmp_path / "w.duckdb"
    sync(warehouse, sandbox, "s1")
    student = sandbox.district.students()[1]["sourcedId"]

    sandbox.district.mark_tobedeleted("users", student)
    sync(warehouse, sandbox, "s2", mode="delta")
    assert not scalar(
        warehouse, "SELECT is_active FROM oneroster_users WHERE sourced_id = ?", student
    )

    sandbox.district.update("users", student, {"status": "active"})
    sync(warehouse, sandbox, "s3", mode="delta")
    assert scalar(warehouse, "SELECT is_active FROM oneroster_users WHERE sourced_id = ?", student)
    assert (
        scalar(warehouse, "SELECT count(*) FROM oneroster_users WHERE sourced_id = ?", student) == 1
    )


def test_a9_a11_people_missing_from_users_are_reported_and_links_survive(sandbox, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    unlisted = set(sandbox.district.unlisted_users)
    assert unlisted, "the generated district has guardians without a portal account"

    sync(warehouse, sandbox, "s1")
    reported = {
        row[0]
        for row in _rows(
            warehouse,
            "SELECT referenced_sourced_id FROM roster_unresolved_references WHERE sync_id = 's1'",
        )
    }
    assert unlisted <= reported

    with connect(warehouse) as conn:
        build_guardians(conn, RosterSettings())
        links_before = conn.execute("SELECT count(*) FROM roster_guardians").fetchall()[0][0]

    # a listed guardian loses their portal account: their link to the student is kept
    guardian = sandbox.district.guardians()[0]["sourcedId"]
    sandbox.district.remove("users", guardian)
    sync(warehouse, sandbox, "s2", mode="delta")
    with connect(warehouse) as conn:
        build_guardians(conn, RosterSettings())
        links_after = conn.execute("SELECT count(*) FROM roster_guardians").fetchall()[0][0]
    assert links_after == links_before


def test_a13_loose_dates_are_never_read_and_the_record_still_imports(sandbox, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    first, second = sandbox.district.students()[:2]
    sandbox.district.update("demographics", first["sourcedId"], {"birthDate": "01/02/2012"})
    sandbox.district.update("demographics", second["sourcedId"], {"birthDate": "2012-13-01"})

    results, _status, _ = sync(warehouse, sandbox, "s1")

    assert results["demographics"].warnings == 2
    assert results["demographics"].rejected == 0
    births = dict(_rows(warehouse, "SELECT sourced_id, birth_date FROM oneroster_demographics"))
    assert births[first["sourcedId"]] is None
    assert births[second["sourcedId"]] is None
    assert sum(1 for value in births.values() if value is not None) == len(births) - 2


BAD_BIRTH_DATES = {
    "loose text": ["2012-13-01", "01/02/2012", "2012-02-30", "2012-1-5", "2013-02-29",
                   "2012-01-05T00:00:00Z", " 2012-01-05", "20120105"],
    "not text": [True, 20120105, {"date": "2012-01-05"}, ["2012-01-05"]],
}  # fmt: skip


@pytest.mark.parametrize("kind", list(BAD_BIRTH_DATES))
def test_a13_every_loose_date_is_null_with_a_warning_and_a_leap_day_is_a_date(
    sandbox, tmp_path, kind
):
    warehouse = tmp_path / "w.duckdb"
    bad = BAD_BIRTH_DATES[kind]
    leap, *students = sandbox.district.students()[: len(bad) + 1]
    sandbox.district.update("demographics", leap["sourcedId"], {"birthDate": "2012-02-29"})
    for student, value in zip(students, bad, strict=True):
        sandbox.district.update("demographics", student["sourcedId"], {"birthDate": value})

    results, _status, _ = sync(warehouse, sandbox, "s1")

    assert results["demographics"].rejected == 0
    assert results["demographics"].warnings == len(bad)
    births = dict(_rows(warehouse, "SELECT sourced_id, birth_date FROM oneroster_demographics"))
    assert all(births[student["sourcedId"]] is None for student in students)
    assert births[leap["sourcedId"]] == date(2012, 2, 29)
    assert scalar(warehouse, "SELECT typeof(birth_date) FROM oneroster_demographics") == "DATE"


def test_a17_a_429_mid_paging_retries_only_that_page(sandbox, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    sandbox.faults.rate_limit("users", retry_after=1, offset=40)

    results, status, _ = sync(warehouse, sandbox, "s1", max_concurrency=1)

    offsets = user_offsets(sandbox)
    assert status == "complete"
    assert offsets[40] == 2
    assert all(count == 1 for offset, count in offsets.items() if offset != 40)
    assert results["users"].fetched == sandbox.district.count("users")


@pytest.mark.parametrize(("status", "retry_after"), [(429, 0), (503, 1), (502, None)])
def test_a17_a_retryable_answer_mid_paging_retries_only_that_page(
    sandbox, tmp_path, status, retry_after
):
    sandbox.faults.add(collection="users", status=status, retry_after=retry_after, offset=40)

    results, status_, _ = sync(tmp_path / "w.duckdb", sandbox, "s1", max_concurrency=1)

    offsets = user_offsets(sandbox)
    assert status_ == "complete"
    assert offsets[40] == 2
    assert all(count == 1 for offset, count in offsets.items() if offset != 40)
    assert results["users"].fetched == sandbox.district.count("users")


def test_a17_never_more_than_five_requests_in_flight(sandbox, tmp_path):
    sandbox.faults.slow("enrollments", 0.05)

    sync(tmp_path / "w.duckdb", sandbox, "s1", page_size=10, max_concurrency=5)

    assert 1 < sandbox.requests.max_concurrency <= 5


def test_a19_a_collection_failing_for_good_leaves_its_state_and_the_sync_is_partial(
    sandbox, tmp_path
):
    warehouse = tmp_path / "w.duckdb"
    sync(warehouse, sandbox, "s1")
    enrollments = scalar(warehouse, "SELECT count(*) FROM oneroster_enrollments WHERE is_active")
    student = sandbox.district.students()[0]["sourcedId"]
    sandbox.district.update("users", student, {"givenName": "Renamed"})

    sandbox.faults.fail("enrollments", 500, times=None)
    results, status, message = sync(warehouse, sandbox, "s2", max_backoff_seconds=0.2)

    assert status == "partial"
    assert results["enrollments"].status == "failed"
    assert "enrollments" in message
    assert (
        scalar(warehouse, "SELECT given_name FROM oneroster_users WHERE sourced_id = ?", student)
        == "Renamed"
    )
    assert (
        scalar(warehouse, "SELECT count(*) FROM oneroster_enrollments WHERE is_active")
        == enrollments
    )


def test_a20_a_token_that_expires_mid_sync_is_refreshed_once(sandbox, tmp_path):
    sandbox.faults.apply({"token_max_requests": 4})

    results, status, _ = sync(tmp_path / "w.duckdb", sandbox, "s1", max_concurrency=1)

    token_requests = [e for e in sandbox.requests.entries if e.path.endswith("/oauth2/token")]
    refused = [e for e in sandbox.requests.entries if e.status == 401]
    assert status == "complete"
    assert len(token_requests) >= 2
    assert len(refused) >= 1
    assert results["users"].fetched == sandbox.district.count("users")


def test_a20_a_401_after_the_refresh_fails_as_auth_and_changes_nothing(sandbox, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    sync(warehouse, sandbox, "s1")
    before = active_students(warehouse)
    sandbox.faults.apply({"token_max_requests": 0})  # every token is refused from its first use

    results, status, _ = sync(warehouse, sandbox, "s2")

    assert status == "failed"
    assert all(result.status == "failed" for result in results.values())
    assert "401 even with a fresh token" in results["users"].error
    refused = [e for e in sandbox.requests.entries if e.path.endswith("/users") and e.status == 401]
    assert len(refused) == 2  # the first try and one after the refresh, no third
    assert active_students(warehouse) == before


def test_a6_a_pull_that_would_deactivate_most_guardians_is_withheld(sandbox, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    sync(warehouse, sandbox, "s1")
    guardians = sandbox.district.guardians()
    for guardian in guardians:
        sandbox.district.remove("users", guardian["sourcedId"])

    results, _status, _ = sync(warehouse, sandbox, "s2")

    assert results["users"].deactivated == 0
    assert results["users"].deactivations_withheld >= len(guardians)
    assert scalar(
        warehouse,
        "SELECT count(*) FROM oneroster_users WHERE is_active AND sourced_id IN ?",
        [guardian["sourcedId"] for guardian in guardians],
    ) == len(guardians)


def test_a6_a_pull_that_would_deactivate_most_enrollments_is_withheld(sandbox, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    sync(warehouse, sandbox, "s1")
    before = scalar(warehouse, "SELECT count(*) FROM oneroster_enrollments WHERE is_active")
    for record in sandbox.district.collection("enrollments")[5:]:
        sandbox.district.remove("enrollments", record["sourcedId"])

    results, _status, _ = sync(warehouse, sandbox, "s2")

    assert results["enrollments"].deactivated == 0
    assert results["enrollments"].deactivations_withheld == before - 5
    assert scalar(warehouse, "SELECT count(*) FROM oneroster_enrollments WHERE is_active") == before


def test_a15_a_record_stamped_in_the_future_does_not_move_the_cursor_past_now(sandbox, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    future, changed = (student["sourcedId"] for student in sandbox.district.students()[:2])
    sandbox.district.touch("users", future, when=datetime(2099, 1, 1, tzinfo=UTC))
    sync(warehouse, sandbox, "s1")

    sandbox.district.update("users", changed, {"givenName": "Renamed"})
    sync(warehouse, sandbox, "s2", mode="delta")

    assert (
        scalar(warehouse, "SELECT given_name FROM oneroster_users WHERE sourced_id = ?", changed)
        == "Renamed"
    )


def _rows(warehouse, sql):
    with connect(warehouse) as conn:
        return conn.execute(sql).fetchall()


def test_a6_a7_a_delta_marking_most_students_tobedeleted_is_withheld_until_confirmed(
    sandbox, tmp_path
):
    warehouse = tmp_path / "w.duckdb"
    sync(warehouse, sandbox, "s1")
    students = [student["sourcedId"] for student in sandbox.district.students()]
    before = active_students(warehouse)
    for sourced_id in students[: len(students) // 2]:
        sandbox.district.mark_tobedeleted("users", sourced_id)

    results, _status, _ = sync(warehouse, sandbox, "s2", mode="delta")

    assert results["users"].deactivated == 0
    assert results["users"].deactivations_withheld == len(students) // 2
    assert active_students(warehouse) == before
    assert (
        scalar(
            warehouse,
            "SELECT count(*) FROM oneroster_users WHERE status = 'tobedeleted' AND is_active",
        )
        == len(students) // 2
    ), "the records are kept as sent, only their deactivation waits"

    # a person confirms with a full sync: the same records now deactivate
    results, _status, _ = sync(warehouse, sandbox, "s3", confirm=True)

    assert active_students(warehouse) == before - len(students) // 2
    assert results["users"].deactivations_withheld == 0


def test_a6_a_few_tobedeleted_students_are_applied_at_once(sandbox, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    sync(warehouse, sandbox, "s1")
    before = active_students(warehouse)
    for student in sandbox.district.students()[:3]:
        sandbox.district.mark_tobedeleted("users", student["sourcedId"])

    results, _status, _ = sync(warehouse, sandbox, "s2", mode="delta")

    assert (results["users"].deactivated, results["users"].deactivations_withheld) == (3, 0)
    assert active_students(warehouse) == before - 3


def test_each_collection_records_its_own_delta_window(sandbox, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    sync(warehouse, sandbox, "s1")
    cursors = dict(
        _rows(
            warehouse,
            "SELECT collection, cursor FROM roster_sync_collections WHERE sync_id = 's1'",
        )
    )

    sync(warehouse, sandbox, "s2", mode="delta")

    windows = dict(
        _rows(
            warehouse,
            "SELECT collection, window_start FROM roster_sync_collections WHERE sync_id = 's2'",
        )
    )
    assert windows.keys() == cursors.keys()
    for collection, cursor in cursors.items():
        assert windows[collection] == cursor - timedelta(seconds=60), collection
