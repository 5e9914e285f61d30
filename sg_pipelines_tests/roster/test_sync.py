"""Sync rules on a real DuckDB file: deactivation, revival, thresholds, partial failures."""

import httpx
import pytest

from sg_pipelines.roster import sync as sync_module
from sg_pipelines.roster.collections import COLLECTIONS, DEMOGRAPHICS, ENROLLMENTS, USERS
from sg_pipelines.roster.derived import (
    build_enrollment_periods,
    build_guardians,
    build_students,
    record_unresolved_references,
)
from sg_pipelines.roster.sync import begin_sync, finish_sync, memory_limit_mb, sync_collection
from sg_pipelines.settings import RosterSettings
from sg_pipelines.warehouse import connect
from sg_pipelines_tests.roster.fake_provider import FakeProvider, enrollment, org, user

RULES = RosterSettings()


@pytest.fixture
def warehouse(tmp_path):
    return tmp_path / "warehouse.duckdb"


@pytest.fixture(params=["update", "rewrite"])
def merge_by(request, monkeypatch):
    """Run a test with the rows already there updated in place, and with them rewritten."""
    monkeypatch.setattr(sync_module, "REWRITE_SHARE", 0.0 if request.param == "update" else 1.0)
    return request.param


def sync(warehouse, provider, sync_id, mode="full", collections=None, page_size=1000, **options):
    with connect(warehouse) as conn, provider.client(max_retries=2, page_size=page_size) as client:
        run = begin_sync(conn, sync_id, mode, lookback_seconds=3600)
        results = {
            name: sync_collection(conn, client, COLLECTIONS[name], run, RULES, **options)
            for name in collections or COLLECTIONS
        }
        status, message = finish_sync(conn, sync_id)
    return results, status, message, run


def query(warehouse, sql, *params):
    with connect(warehouse) as conn:
        return conn.execute(sql, list(params)).fetchall()


def active_users(warehouse):
    rows = query(warehouse, "SELECT sourced_id FROM oneroster_users WHERE is_active ORDER BY 1")
    return [sourced_id for (sourced_id,) in rows]


def district(users, **extra):
    return {"orgs": [org("sch-1", "012345")], "users": users, **extra}


def test_tobedeleted_deactivates_and_a_later_active_record_revives_the_same_row(
    warehouse, merge_by
):
    sync(warehouse, FakeProvider(district([user("stu-1"), user("stu-2")])), "s1")
    gone = user("stu-2", status="tobedeleted", dateLastModified="2025-03-02T12:00:00Z")
    sync(warehouse, FakeProvider(district([user("stu-1"), gone])), "s2")

    assert active_users(warehouse) == ["stu-1"]
    assert query(
        warehouse, "SELECT deactivation_reason FROM oneroster_users WHERE sourced_id = 'stu-2'"
    ) == [("tobedeleted",)]

    back = user("stu-2", dateLastModified="2025-03-03T12:00:00Z")
    sync(warehouse, FakeProvider(district([user("stu-1"), back])), "s3")

    assert active_users(warehouse) == ["stu-1", "stu-2"]
    assert query(warehouse, "SELECT count(*), count(deactivated_at) FROM oneroster_users") == [
        (2, 0)
    ]


def test_absence_deactivates_only_after_a_complete_consistent_full_pull(warehouse, merge_by):
    everyone = [user(f"stu-{n}") for n in range(20)]
    sync(warehouse, FakeProvider(district(everyone)), "s1")

    # the total moves on every pull: rows are applied, absence proves nothing
    moving = FakeProvider(
        district(everyone[:19]), total_for=lambda name, offset, total: total + offset
    )
    results, *_ = sync(warehouse, moving, "s2", page_size=5)
    assert results["users"].consistent is False
    assert len(active_users(warehouse)) == 20

    # a delta never deactivates by absence
    sync(warehouse, FakeProvider(district(everyone[:19])), "s3", mode="delta")
    assert len(active_users(warehouse)) == 20

    # a consistent full pull does
    results, *_ = sync(warehouse, FakeProvider(district(everyone[:19])), "s4")
    assert results["users"].deactivated == 1
    assert "stu-19" not in active_users(warehouse)


def test_a_total_that_moves_once_is_re_pulled_and_then_trusted(warehouse):
    everyone = [user(f"stu-{n}") for n in range(20)]
    sync(warehouse, FakeProvider(district(everyone)), "s1")
    pulls = []

    def total_moves_during_the_first_pull(name, offset, total):
        if name == "users" and offset == 0:
            pulls.append(offset)
        return total + 1 if name == "users" and len(pulls) == 1 and offset > 0 else total

    provider = FakeProvider(district(everyone[:19]), total_for=total_moves_during_the_first_pull)
    results, *_ = sync(warehouse, provider, "s2", collections=["users"], page_size=5)

    assert len(pulls) == 2
    assert results["users"].consistent is True and results["users"].deactivated == 1


def test_a_mass_deactivation_is_withheld_until_confirmed(warehouse):
    # A6: 500 active students yesterday, 3 tonight with a consistent total of 3
    students = [user(f"stu-{n:04d}") for n in range(500)]
    sync(warehouse, FakeProvider(district(students)), "s1", collections=["orgs", "users"])

    tonight = [user(f"stu-{n:04d}", givenName="Renamed") for n in range(3)]
    results, _, message, _ = sync(
        warehouse, FakeProvider(district(tonight)), "s2", collections=["users"]
    )

    assert results["users"].deactivations_withheld == 497
    assert len(active_users(warehouse)) == 500
    assert query(
        warehouse, "SELECT count(*) FROM oneroster_users WHERE given_name = 'Renamed'"
    ) == [(3,)]
    assert "users: 497 deactivations withheld" in message
    assert query(
        warehouse,
        "SELECT deactivations_withheld FROM roster_sync_collections WHERE sync_id = 's2'",
    ) == [(497,)]

    results, *_ = sync(
        warehouse,
        FakeProvider(district(tonight)),
        "s3",
        collections=["users"],
        confirm_mass_deactivation=True,
    )
    assert results["users"].deactivated == 497
    assert len(active_users(warehouse)) == 3


def test_forbidden_demographics_keep_their_values_marked_stale(warehouse):
    # A12: /users answers, /demographics is forbidden
    demographics = [{"sourcedId": "stu-1", "birthDate": "2012-01-02", "sex": "female"}]
    sync(warehouse, FakeProvider(district([user("stu-1")], demographics=demographics)), "s1")

    provider = FakeProvider(district([user("stu-1"), user("stu-2")]))
    provider.faults.append(
        lambda request, number: httpx.Response(403) if "demographics" in request.url.path else None
    )
    results, status, message, _ = sync(warehouse, provider, "s2")

    assert results["demographics"].status == "forbidden"
    assert active_users(warehouse) == ["stu-1", "stu-2"]
    assert query(
        warehouse, "SELECT birth_date::VARCHAR, sex, stale FROM oneroster_demographics"
    ) == [("2012-01-02", "female", True)]
    assert status == "partial"
    assert "roster-demographics.readonly" in message

    with connect(warehouse) as conn:
        build_students(conn)
    assert query(
        warehouse, "SELECT demographics_stale FROM roster_students WHERE sourced_id = 'stu-1'"
    ) == [(True,)]


def test_a_failed_collection_keeps_its_last_good_state_and_the_sync_is_partial(warehouse):
    # A19: /users succeeds, /enrollments answers 500 every time
    first = district([user("stu-1")], enrollments=[enrollment("enr-1", "stu-1")])
    sync(warehouse, FakeProvider(first), "s1")

    provider = FakeProvider(district([user("stu-1"), user("stu-2")], enrollments=[]))
    provider.faults.append(
        lambda request, number: httpx.Response(500) if "enrollments" in request.url.path else None
    )
    results, status, message, _ = sync(warehouse, provider, "s2")

    assert results["enrollments"].status == "failed"
    assert active_users(warehouse) == ["stu-1", "stu-2"]
    assert query(warehouse, "SELECT sourced_id, is_active FROM oneroster_enrollments") == [
        ("enr-1", True)
    ]
    assert status == "partial"
    assert message.startswith("enrollments failed: /enrollments offset 0: gave up after 3 attempts")


def test_a_delta_without_an_earlier_full_sync_runs_as_full(warehouse):
    _, _, _, run = sync(warehouse, FakeProvider(district([user("stu-1")])), "s1", mode="delta")

    assert run.mode == "full"


def test_a_delta_asks_for_changes_since_the_cursor_minus_the_lookback(warehouse):
    older = user("stu-1", dateLastModified="2025-03-04T05:00:00-05:00")
    sync(warehouse, FakeProvider(district([older])), "s1", collections=["orgs", "users"])

    provider = FakeProvider(district([older]))
    _, _, _, run = sync(warehouse, provider, "s2", mode="delta", collections=["users"])

    assert run.mode == "delta"
    assert query(warehouse, "SELECT mode FROM roster_sync_collections WHERE sync_id = 's2'") == [
        ("delta",)
    ]
    assert provider.requests and all(name == "users" for name, _ in provider.requests)


def test_a_merged_row_keeps_its_first_sighting(warehouse, merge_by):
    sync(warehouse, FakeProvider(district([user("stu-1")])), "s1")
    with connect(warehouse) as conn:
        conn.execute("UPDATE oneroster_users SET first_seen_at = '2020-01-01T00:00:00Z'")

    renamed = user("stu-1", givenName="Renamed", dateLastModified="2025-03-05T00:00:00Z")
    sync(warehouse, FakeProvider(district([renamed])), "s2")

    assert query(
        warehouse,
        "SELECT given_name, first_seen_at::VARCHAR, last_sync_id, count(*) OVER () "
        "FROM oneroster_users",
    ) == [("Renamed", "2020-01-01 00:00:00+00", "s2", 1)]


def test_a_touched_record_moves_its_stamps_and_an_absent_one_that_returns_revives(
    warehouse, merge_by
):
    everyone = [user(f"stu-{n}") for n in range(20)]
    sync(warehouse, FakeProvider(district(everyone)), "s1")
    sync(warehouse, FakeProvider(district(everyone[:19])), "s2")
    assert "stu-19" not in active_users(warehouse)

    # the same values with a later dateLastModified
    touched = [user(f"stu-{n}", dateLastModified="2025-03-05T00:00:00Z") for n in (0, 19)]
    sync(warehouse, FakeProvider(district(touched)), "s3", mode="delta", collections=["users"])

    assert query(
        warehouse,
        "SELECT sourced_id, date_last_modified::VARCHAR, is_active, deactivated_at, "
        "deactivation_reason, last_sync_id, given_name FROM oneroster_users "
        "WHERE sourced_id IN ('stu-0', 'stu-1', 'stu-19') ORDER BY 1",
    ) == [
        ("stu-0", "2025-03-05 00:00:00+00", True, None, None, "s3", "Given"),
        ("stu-1", "2025-03-01 12:00:00+00", True, None, None, "s2", "Given"),
        ("stu-19", "2025-03-05 00:00:00+00", True, None, None, "s3", "Given"),
    ]


def test_duplicates_keep_the_latest_date_last_modified(warehouse, merge_by):
    records = [
        user("stu-1", givenName="Newer", dateLastModified="2025-03-05T00:00:00Z"),
        user("stu-1", givenName="Older", dateLastModified="2025-03-04T18:00:00-05:00"),
    ]
    sync(warehouse, FakeProvider(district(records)), "s1", collections=["users"])

    assert query(warehouse, "SELECT given_name FROM oneroster_users") == [("Newer",)]


def test_quarantined_records_are_counted_and_not_deactivated_as_absent(warehouse):
    sync(warehouse, FakeProvider(district([user("stu-1"), user("stu-2")])), "s1")

    broken = user("stu-2", status="weird")
    results, *_ = sync(warehouse, FakeProvider(district([user("stu-1"), broken])), "s2")

    assert results["users"].rejected == 1
    assert active_users(warehouse) == ["stu-1", "stu-2"]
    assert query(warehouse, "SELECT sourced_id FROM roster_quarantine WHERE sync_id = 's2'") == [
        ("stu-2",)
    ]


def test_unknown_people_are_reported_as_unresolved_references(warehouse):
    # A9: /enrollments names stu-0404, /users never returns it
    provider = FakeProvider(
        district(
            [user("stu-0001")],
            enrollments=[enrollment("enr-1", "stu-0001"), enrollment("enr-2", "stu-0404")],
            classes=[{"sourcedId": "cls-1", "school": {"sourcedId": "sch-1"}}],
        )
    )
    _, status, _, _ = sync(warehouse, provider, "s1")

    with connect(warehouse) as conn:
        counts = record_unresolved_references(conn, "s1")
    assert status == "complete"
    assert counts == {"enrollments.user": 1}
    assert query(
        warehouse,
        "SELECT collection, sourced_id, referenced_sourced_id FROM roster_unresolved_references",
    ) == [("enrollments", "enr-2", "stu-0404")]


def test_guardian_links_follow_agents_and_count_unresolved_ones(warehouse):
    # A11: par-0100 is a parent, par-0101 never appears in /users
    student = user(
        "stu-0007",
        agents=[
            {"sourcedId": "par-0100", "type": "user"},
            {"sourcedId": "par-0101", "type": "user"},
        ],
    )
    relative = user("rel-0200", role="relative", agents=[{"sourcedId": "stu-0007"}])
    provider = FakeProvider(district([student, user("par-0100", role="parent"), relative]))
    sync(warehouse, provider, "s1")

    with connect(warehouse) as conn:
        links = build_guardians(conn, RULES)

    assert links.unresolved_agents == 1
    assert query(
        warehouse, "SELECT contact_sourced_id, relationship, role FROM roster_guardians ORDER BY 1"
    ) == [("par-0100", "guardian", "parent"), ("rel-0200", "other", "relative")]


def test_a_student_who_is_also_a_parent_is_never_their_own_guardian(warehouse):
    # a student with a child of their own: roles student and parent, naming themselves and
    # their own parent as agents
    both = user("stu-0009", agents=[{"sourcedId": "stu-0009"}, {"sourcedId": "par-0300"}])
    both["roles"].append({"roleType": "secondary", "role": "parent", "org": {"sourcedId": "sch-1"}})
    provider = FakeProvider(district([both, user("par-0300", role="parent")]))
    sync(warehouse, provider, "s1")

    with connect(warehouse) as conn:
        build_guardians(conn, RULES)

    assert query(
        warehouse, "SELECT student_sourced_id, contact_sourced_id FROM roster_guardians"
    ) == [("stu-0009", "par-0300")]


def test_an_existing_guardian_link_survives_an_unresolved_agent(warehouse):
    student = user("stu-0007", agents=[{"sourcedId": "par-0100"}])
    sync(warehouse, FakeProvider(district([student, user("par-0100", role="parent")])), "s1")
    with connect(warehouse) as conn:
        build_guardians(conn, RULES)
        # Campus stops sending the parent (no portal account): the link must stay as it was
        conn.execute("DELETE FROM oneroster_users WHERE sourced_id = 'par-0100'")
        links = build_guardians(conn, RULES)

    assert links.unresolved_agents == 1
    assert query(warehouse, "SELECT contact_sourced_id, is_active FROM roster_guardians") == [
        ("par-0100", True)
    ]


def test_students_carry_school_building_irn_and_emis_id(warehouse):
    student = user("stu-1", grades=["05"], metadata={"ic": {"emisStudentId": "12345"}})
    provider = FakeProvider(district([student], enrollments=[enrollment("enr-1", "stu-1")]))
    sync(warehouse, provider, "s1")

    with connect(warehouse) as conn:
        build_students(conn)

    assert query(
        warehouse,
        "SELECT school_sourced_id, building_irn, grade, emis_student_id FROM roster_students",
    ) == [("sch-1", "012345", "05", "000012345")]


def test_enrollment_periods_merge_overlapping_and_adjacent_class_enrollments(warehouse):
    enrollments = [
        enrollment("e-1", "stu-1", beginDate="2024-08-20", endDate="2024-12-20"),
        enrollment("e-2", "stu-1", beginDate="2024-12-20", endDate="2025-06-01"),  # adjacent
        enrollment("e-3", "stu-1", beginDate="2025-01-10", endDate="2025-03-01"),  # inside
        enrollment("e-4", "stu-1", beginDate="2025-08-20", endDate=None),  # a later, open span
    ]
    sync(warehouse, FakeProvider(district([user("stu-1")], enrollments=enrollments)), "s1")

    with connect(warehouse) as conn:
        build_enrollment_periods(conn)

    assert query(
        warehouse,
        "SELECT begin_date::VARCHAR, end_date::VARCHAR FROM roster_enrollment_periods ORDER BY 1",
    ) == [("2024-08-20", "2025-06-01"), ("2025-08-20", None)]


def test_collections_are_described_by_their_tables():
    assert USERS.table == "oneroster_users"
    assert DEMOGRAPHICS.scope == "roster-demographics.readonly"
    assert ENROLLMENTS.staging_table == "roster_staging.enrollments"


@pytest.mark.parametrize(
    ("page_size", "at_least_mb", "at_most_mb"),
    [
        (100, 256, 256),
        (10_000, 256, 256),  # the default page: 132 MB for a page of users, measured
        (50_000, 650, 1_100),  # the largest the settings allow: about 650 MB for users
    ],
)
def test_the_sync_memory_limit_holds_a_page_of_the_configured_size(
    page_size, at_least_mb, at_most_mb
):
    # a page is parsed whole: a fixed 256 MB failed every sync at 50,000 records a page
    assert at_least_mb <= memory_limit_mb(page_size) <= at_most_mb
