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


@pytest.mark.parametrize(
    ("local_time", "expected_day"),
    [
        ("2025-12-05T02:00:00", "2025-12-04"),  # D4: at 02:00 the newest partition is yesterday
        ("2025-12-05T00:00:01", "2025-12-04"),
        ("2025-12-04T23:59:59", "2025-12-03"),
        ("2025-03-09T03:30:00", "2025-03-08"),  # the night clocks spring forward
        ("2025-11-02T01:30:00", "2025-11-01"),  # the night clocks fall back
    ],
)
def test_the_nightly_flags_target_yesterday_in_new_york(local_time, expected_day):
    from datetime import date, datetime
    from zoneinfo import ZoneInfo

    from sg_pipelines.programs.partitions import newest_complete_day

    now = datetime.fromisoformat(local_time).replace(tzinfo=ZoneInfo("America/New_York"))

    assert newest_complete_day(now) == date.fromisoformat(expected_day)


def test_flag_runs_are_requested_per_enabled_program_from_its_cutover(tmp_path):
    from datetime import date

    from sg_pipelines.definitions import flag_run_requests

    settings = load_settings(
        environ={
            "SG_HOME": str(tmp_path),
            "SG_PROGRAMS__ENGLISH_LEARNERS__ENABLED": "true",
            "SG_PROGRAMS__ENGLISH_LEARNERS__CUTOVER_DATE": "2025-12-10",
        }
    )

    before = flag_run_requests(settings, date(2025, 12, 4), "run-1")
    after = flag_run_requests(settings, date(2025, 12, 10), "run-2")

    assert [r.partition_key for r in before] == [
        "2025-12-04|special_education",
        "2025-12-04|section_504",
    ]
    assert len(after) == 3
    assert len({r.run_key for r in before + after}) == 5


def test_the_flags_job_is_partitioned_by_program_and_day(defs):
    job = defs.resolve_job_def("nightly_flags_job")
    partitions = job.partitions_def

    assert set(partitions.partition_dimension_names) == {"program", "day"}
    key = "2025-08-01|special_education"
    assert partitions.has_partition_key(key)


@pytest.mark.parametrize(
    ("started_at", "expected_day"),
    [
        ("2025-12-05T02:00:00-05:00", "2025-12-04"),  # D4
        ("2026-03-08T02:30:00-05:00", "2026-03-07"),  # 02:30 does not exist: clocks spring forward
        (
            "2025-11-02T01:30:00-04:00",
            "2025-11-01",
        ),  # the first 01:30 of the night clocks fall back
        ("2025-11-02T01:30:00-05:00", "2025-11-01"),  # and the second
    ],
)
def test_the_flags_sensor_requests_the_day_before_the_roster_run_started(
    tmp_path, started_at, expected_day
):
    from datetime import datetime

    from dagster import (
        DagsterEventType,
        DagsterInstance,
        Definitions,
        build_run_status_sensor_context,
        define_asset_job,
        in_process_executor,
    )
    from dagster import asset as dagster_asset

    @dagster_asset
    def roster_stand_in() -> None:
        """Stands in for the roster: only the run's name and start time matter here."""

    stand_in = define_asset_job(
        NIGHTLY_JOB, selection=[roster_stand_in], executor_def=in_process_executor
    )
    settings = load_settings(environ={"SG_HOME": str(tmp_path)})
    sensor = build_definitions(settings).resolve_sensor_def("flags_after_roster_sensor")

    with DagsterInstance.local_temp(str(tmp_path)) as instance:
        result = (
            Definitions(assets=[roster_stand_in], jobs=[stand_in])
            .resolve_job_def(NIGHTLY_JOB)
            .execute_in_process(instance=instance)
        )
        events = {event.event_type: event for event in result.all_events}
        # the run as the 02:00 schedule started it, whenever the test runs
        instance.run_storage.handle_run_event(
            result.run_id,
            events[DagsterEventType.RUN_START],
            update_timestamp=datetime.fromisoformat(started_at),
        )
        context = build_run_status_sensor_context(
            sensor_name=sensor.name,
            dagster_event=events[DagsterEventType.RUN_SUCCESS],
            dagster_instance=instance,
            dagster_run=instance.get_run_by_id(result.run_id),
        )
        requests = list(sensor(context))

    assert {request.partition_key.keys_by_dimension["day"] for request in requests} == {
        expected_day
    }
    assert len(requests) == len(settings.enabled_programs)


@pytest.mark.parametrize(
    "moment",
    [
        "2025-12-05T02:00:00-05:00",  # D4
        "2025-12-05T00:00:00-05:00",
        "2025-12-04T23:59:59-05:00",
        "2026-03-08T01:59:59-05:00",  # the last second before clocks spring forward
        "2026-03-08T03:00:00-04:00",  # the first after
        "2026-03-09T00:00:00-04:00",
        "2025-11-02T01:30:00-04:00",  # the first 01:30 of the night clocks fall back
        "2025-11-02T01:30:00-05:00",  # the second
        "2025-11-03T00:00:00-05:00",
    ],
)
def test_the_newest_complete_day_is_dagsters_last_daily_partition(defs, moment):
    """Pins Dagster's own reading of the day dimension, so an upgrade cannot move it (D4)."""
    from datetime import datetime

    from sg_pipelines.programs.partitions import DAY_DIMENSION, newest_complete_day

    now = datetime.fromisoformat(moment)
    days = defs.resolve_job_def(
        "nightly_flags_job"
    ).partitions_def.get_partitions_def_for_dimension(DAY_DIMENSION)

    assert days.get_partition_keys(current_time=now)[-1] == newest_complete_day(now).isoformat()
