"""The code location loads, and its wiring keeps the rules the operations guide promises."""

import pytest
from dagster import AssetKey

from sg_pipelines.definitions import (
    NIGHTLY_JOB,
    SYNC_MODE_TAG,
    WEEKLY_FULL_JOB,
    build_definitions,
)
from sg_pipelines.settings import load_settings
from sg_pipelines.warehouse import WAREHOUSE_POOL


@pytest.fixture
def defs(tmp_path):
    return build_definitions(load_settings(environ={"SG_HOME": str(tmp_path)}))


def test_definitions_load_and_resolve(defs):
    repository = defs.get_repository_def()

    assert {job.name for job in repository.get_all_jobs()} >= {NIGHTLY_JOB, WEEKLY_FULL_JOB}
    assert AssetKey("roster_students") in repository.asset_graph.get_all_asset_keys()
    assert AssetKey("student_links") in repository.asset_graph.get_all_asset_keys()


def test_module_level_defs_load():
    from sg_pipelines import definitions

    assert definitions.defs.resolve_job_def(NIGHTLY_JOB) is not None


@pytest.mark.parametrize(
    ("schedule_name", "cron", "job_name", "mode"),
    [
        ("nightly_roster_schedule", "0 2 * * *", NIGHTLY_JOB, "delta"),
        ("weekly_full_roster_schedule", "0 1 * * 0", WEEKLY_FULL_JOB, "full"),
    ],
)
def test_schedules_run_in_new_york_time_with_their_sync_mode(
    defs, schedule_name, cron, job_name, mode
):
    schedule = defs.resolve_schedule_def(schedule_name)
    job = defs.resolve_job_def(job_name)

    assert schedule.cron_schedule == cron
    assert schedule.execution_timezone == "America/New_York"
    assert schedule.job_name == job_name
    assert job.tags[SYNC_MODE_TAG] == mode


def test_every_asset_that_writes_the_warehouse_is_in_the_single_writer_pool(defs):
    repository = defs.get_repository_def()
    graph = repository.asset_graph
    writers = [
        key
        for key in graph.get_all_asset_keys()
        if "warehouse" in graph.get(key).assets_def.required_resource_keys
    ]

    assert writers, "no asset declares the warehouse resource"
    for key in writers:
        node = graph.get(key).assets_def.node_def
        assert node.pool == WAREHOUSE_POOL, f"{key.to_user_string()} writes outside the pool"


BLOCKING_CHECKS = {
    "collections_complete",
    "deactivation_threshold",
    "sourced_id_unique",
    "student_links_conflicts",
}


def test_checks_in_front_of_linking_are_blocking(defs):
    specs = {
        spec.name: spec
        for assets_def in defs.get_repository_def().asset_graph.assets_defs
        for spec in assets_def.check_specs
    }

    assert set(specs) >= BLOCKING_CHECKS | {"unresolved_references"}
    assert all(specs[name].blocking for name in BLOCKING_CHECKS)
    assert not specs["unresolved_references"].blocking
