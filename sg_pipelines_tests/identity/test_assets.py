"""The identity assets and check, materialized by Dagster against files in tmp_path."""

from __future__ import annotations

import duckdb
from dagster import AssetCheckSeverity, AssetKey, AssetSelection, materialize

from sg_pipelines.appdb import AppDatabaseResource, NewStudent
from sg_pipelines.identity.assets import identity_assets
from sg_pipelines.identity.checks import identity_checks
from sg_pipelines.warehouse import warehouse_resource
from sg_pipelines_tests.identity.conftest import fetch, guardian, roster_student, write_roster


def materialize_identity(warehouse, app_db_url):
    return materialize(
        [*identity_assets, *identity_checks],
        resources={
            "warehouse": warehouse_resource(warehouse),
            "app_db": AppDatabaseResource(url=app_db_url),
        },
    )


def test_student_links_materializes_with_counts_and_warns_on_pending_reviews(
    warehouse, app_db_url, app_db
):
    for _ in range(2):
        app_db.create_student(NewStudent("X", "Y", emis_student_id="000000002"), actor="test")
    write_roster(warehouse, [roster_student(1), roster_student(2)], [guardian(1, "g-1")])

    result = materialize_identity(warehouse, app_db_url)

    assert result.success
    [links, review] = result.asset_materializations_for_node("student_links")
    assert links.asset_key == AssetKey("student_links")
    assert links.metadata["created"].value == 1
    assert links.metadata["sent_to_review"].value == 1
    assert review.metadata["proposed_by_ambiguous"].value == 1
    [check] = result.get_asset_check_evaluations()
    assert (check.passed, check.severity) == (False, AssetCheckSeverity.WARN)
    assert check.metadata["pending_reviews"].value == 1
    assert fetch(warehouse, "SELECT sourced_id FROM student_links") == [("sourced-0001",)]


def test_student_links_conflicts_fails_when_a_sourced_id_maps_to_two_plan_students(
    warehouse, app_db_url
):
    write_roster(warehouse, [roster_student(1)])
    assert materialize_identity(warehouse, app_db_url).success

    # a second row for the same sourcedId, as a bug in any writer could leave it
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute(
            "INSERT INTO student_links SELECT plan_student_id + 1, sourced_id, matched_by, "
            "linked_at, NULL FROM student_links"
        )
    result = materialize(
        identity_checks,
        resources={"warehouse": warehouse_resource(warehouse)},
        selection=AssetSelection.all_asset_checks(),
        raise_on_error=False,
    )

    assert not result.success
    [check] = result.get_asset_check_evaluations()
    assert (check.passed, check.severity) == (False, AssetCheckSeverity.ERROR)
    assert check.metadata["shared_sourced_ids"].value == 1
