"""Full then delta syncs over real HTTP against the Campus sandbox, with faults switched on."""

import dagster as dg
import pytest

from sg_pipelines.resources import SettingsResource
from sg_pipelines.roster.assets import SYNC_MODE_TAG, roster_assets
from sg_pipelines.roster.checks import roster_checks
from sg_pipelines.roster.client import OneRosterClient
from sg_pipelines.roster.collections import COLLECTIONS
from sg_pipelines.roster.resources import OneRosterResource
from sg_pipelines.roster.sync import begin_sync, finish_sync, sync_collection
from sg_pipelines.settings import RosterSettings
from sg_pipelines.warehouse import connect, warehouse_resource


def client_for(sandbox, **options) -> OneRosterClient:
    options = {"page_size": 25, "max_backoff_seconds": 2.0, "max_retries": 3, **options}
    return OneRosterClient(
        sandbox.base_url, sandbox.token_url, sandbox.client_id, sandbox.client_secret, **options
    )


def run_sync(warehouse, sandbox, sync_id, mode):
    with connect(warehouse) as conn, client_for(sandbox) as client:
        run = begin_sync(conn, sync_id, mode, lookback_seconds=60)
        results = {
            name: sync_collection(conn, client, collection, run, RosterSettings())
            for name, collection in COLLECTIONS.items()
        }
        status, message = finish_sync(conn, sync_id)
    return run, results, status, message


def count(warehouse, sql):
    with connect(warehouse) as conn:
        return conn.execute(sql).fetchall()[0][0]


def test_full_then_delta_sync_through_faults(sandbox, tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    students = len(sandbox.district.students())

    # full sync through a silent page cap, a 429 with an HTTP-date, a 503 and bad records
    sandbox.faults.apply({"page_cap": 10})
    sandbox.faults.rate_limit("users", retry_after=1, http_date=True, request=3)
    sandbox.faults.fail("enrollments", 503, request=2)
    sandbox.faults.inject("demographics", offset=0)
    run, results, status, _ = run_sync(warehouse, sandbox, "full-1", "full")

    assert run.mode == "full" and status == "complete"
    assert all(result.consistent for result in results.values())
    assert results["demographics"].rejected == 2  # no sourcedId, not an object
    assert results["demographics"].warnings == 2  # "2012-13-01" and "01/02/2012"
    assert count(warehouse, "SELECT count(*) FROM oneroster_users WHERE is_active AND "
                 "list_contains(role_names, 'student')") == students  # fmt: skip

    # delta: one student leaves, one changes, the total drifts on every page
    sandbox.faults.clear()
    leaver, changed = sandbox.district.students()[:2]
    sandbox.district.update("users", leaver["sourcedId"], {"status": "tobedeleted"})
    sandbox.district.update("users", changed["sourcedId"], {"givenName": "Changed"})
    run, results, status, _ = run_sync(warehouse, sandbox, "delta-1", "delta")

    assert run.mode == "delta" and status == "complete"
    assert results["users"].fetched < students  # only what changed in the window
    assert count(
        warehouse,
        f"SELECT NOT is_active FROM oneroster_users WHERE sourced_id = '{leaver['sourcedId']}'",
    )
    assert (
        count(
            warehouse,
            f"SELECT given_name FROM oneroster_users WHERE sourced_id = '{changed['sourcedId']}'",
        )
        == "Changed"
    )


def test_forbidden_demographics_and_a_drifting_total_over_http(sandbox, tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    run_sync(warehouse, sandbox, "full-1", "full")

    sandbox.faults.apply({"forbid_demographics": True, "total_count": "drift"})
    _, results, status, message = run_sync(warehouse, sandbox, "full-2", "full")

    assert results["demographics"].status == "forbidden"
    assert results["users"].consistent is False and results["users"].deactivated == 0
    assert status == "partial" and "roster-demographics.readonly" in message
    assert count(warehouse, "SELECT bool_and(stale) FROM oneroster_demographics")


@pytest.mark.parametrize("mode", ["full"])
def test_the_roster_assets_materialize_against_the_sandbox(sandbox, tmp_path, mode):
    resources = {
        "warehouse": warehouse_resource(tmp_path / "warehouse.duckdb"),
        "settings": SettingsResource(),
        "oneroster": OneRosterResource(
            base_url=sandbox.base_url,
            token_url=sandbox.token_url,
            client_id=sandbox.client_id,
            client_secret=sandbox.client_secret,
            page_size=50,
        ),
    }

    result = dg.materialize(
        [*roster_assets, *roster_checks], resources=resources, tags={SYNC_MODE_TAG: mode}
    )

    assert result.success
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks == {
        "collections_complete": True,
        "deactivation_threshold": True,
        "unresolved_references": True,
        "sourced_id_unique": True,
    }
    students = result.asset_materializations_for_node("roster_students")[0].metadata
    assert students["dagster/row_count"].value == len(sandbox.district.students())


def test_staging_in_batches_on_workers_gives_the_rows_of_one_batch(sandbox, tmp_path, monkeypatch):
    # with pages this small every pull is one batch, staged on the sync's own connection; a
    # 1-byte batch makes every page a batch of its own, staged by the workers of BatchStaging
    one_batch = tmp_path / "one-batch.duckdb"
    run_sync(one_batch, sandbox, "one-batch", "full")
    monkeypatch.setattr("sg_pipelines.roster.sync.BATCH_BYTES", 1)
    batches = tmp_path / "batches.duckdb"
    _, results, status, _ = run_sync(batches, sandbox, "batches", "full")

    assert status == "complete" and results["enrollments"].fetched > 25  # several pages
    for collection in COLLECTIONS.values():
        columns = ", ".join(collection.columns)
        rows = [
            rows_of(path, f"SELECT {columns} FROM {collection.table} ORDER BY sourced_id")
            for path in (one_batch, batches)
        ]
        assert rows[0] == rows[1] and rows[0], collection.name


def rows_of(warehouse, sql):
    with connect(warehouse) as conn:
        return conn.execute(sql).fetchall()
