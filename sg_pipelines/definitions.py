"""The code location: one district's assets, checks, jobs, schedules and resources.

`dagster dev -w workspace.yaml` loads `defs` from here. Settings come from `$SG_SETTINGS_FILE`
and the `SG_` environment (see `sg_pipelines/settings.py`); every default points at the Campus
sandbox so the demo runs without configuration.
"""

from __future__ import annotations

import os
import warnings
from datetime import UTC, datetime

from dagster import (
    AssetKey,
    AssetSelection,
    DagsterRunStatus,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    Definitions,
    EnvVar,
    RunRequest,
    RunStatusSensorContext,
    ScheduleDefinition,
    SensorDefinition,
    define_asset_job,
    in_process_executor,
    run_status_sensor,
)

from sg_pipelines.appdb.resources import AppDatabaseResource
from sg_pipelines.emis.assets import emis_assets
from sg_pipelines.emis.checks import emis_checks
from sg_pipelines.identity.assets import identity_assets
from sg_pipelines.identity.checks import identity_checks
from sg_pipelines.notify.alerts import build_alert_sensors
from sg_pipelines.programs.badge_assets import build_badge_assets
from sg_pipelines.programs.badge_checks import build_badge_checks
from sg_pipelines.programs.flag_assets import build_flag_assets
from sg_pipelines.programs.flag_checks import build_flag_checks
from sg_pipelines.programs.gateways.resource import FlagsGatewayResource
from sg_pipelines.programs.partitions import (
    newest_complete_day,
    partition_key,
    program_day_partitions,
)
from sg_pipelines.reporting.assets import reporting_assets
from sg_pipelines.resources import SettingsResource
from sg_pipelines.roster.assets import roster_assets
from sg_pipelines.roster.checks import roster_checks
from sg_pipelines.roster.resources import OneRosterResource
from sg_pipelines.settings import (
    CLIENT_SECRET_ENV,
    LINK_SIGNING_KEY_ENV,
    SFTP_PASSWORD_ENV,
    VENDOR_SECRET_ENV,
    Settings,
    load_settings,
)
from sg_pipelines.warehouse import warehouse_resource

# The badges asset backfills a program's history in a single run; the flag assets work one
# partition at a time (only the newest day is ever pushed). The nightly flags job runs one
# partition, so Dagster's notice that the job mixes the two policies says nothing new.
warnings.filterwarnings("ignore", message=".*varying BackfillPolicies.*", category=UserWarning)

SYNC_MODE_TAG = "sg/sync_mode"
NIGHTLY_JOB = "nightly_roster_job"
WEEKLY_FULL_JOB = "weekly_full_roster_job"
FLAGS_JOB = "nightly_flags_job"

# The roster, the links, the plan documents observed from the app database, and the EMIS
# records published for the reporting API: everything unpartitioned a night runs. The flags of
# the night follow, one run per program, once this succeeds.
roster_and_links = AssetSelection.groups("roster", "identity", "emis") | AssetSelection.assets(
    AssetKey("plan_documents")
)
flag_assets = AssetSelection.groups("programs") - AssetSelection.assets(AssetKey("plan_documents"))

# Every step writes the one warehouse file, so each run executes its steps in one process;
# runs are serialised by the `duckdb_write` pool (limit 1, see docs/operations.md).
nightly_roster_job = define_asset_job(
    name=NIGHTLY_JOB,
    selection=roster_and_links,
    description="Nightly delta roster sync from Campus, linking to plan-system students, plan "
    "documents, then the EMIS records and the report snapshot the reporting API serves.",
    tags={SYNC_MODE_TAG: "delta"},
    executor_def=in_process_executor,
)

weekly_full_roster_job = define_asset_job(
    name=WEEKLY_FULL_JOB,
    selection=roster_and_links,
    description="Weekly full roster sync (the only sync whose absences deactivate students), "
    "then the same steps as the nightly job.",
    tags={SYNC_MODE_TAG: "full"},
    executor_def=in_process_executor,
)

nightly_schedule = ScheduleDefinition(
    name="nightly_roster_schedule",
    job=nightly_roster_job,
    cron_schedule="0 2 * * *",
    execution_timezone="America/New_York",
    default_status=DefaultScheduleStatus.RUNNING,
)

weekly_full_schedule = ScheduleDefinition(
    name="weekly_full_roster_schedule",
    job=weekly_full_roster_job,
    cron_schedule="0 1 * * 0",
    execution_timezone="America/New_York",
    default_status=DefaultScheduleStatus.RUNNING,
)


def _secrets() -> dict[str, EnvVar]:
    """Secrets stay in the environment (resolved at launch, never shown in the UI).

    A secret that is not set keeps the resource's default, which is the sandbox's own.
    """
    names = {
        "client_secret": CLIENT_SECRET_ENV,
        "vendor_secret": VENDOR_SECRET_ENV,
        "sftp_password": SFTP_PASSWORD_ENV,
        "link_signing_key": LINK_SIGNING_KEY_ENV,
    }
    return {field: EnvVar(env) for field, env in names.items() if os.environ.get(env)}


def build_flags_job(settings: Settings):
    """Badges, deltas and the push for one (program, day) partition."""
    return define_asset_job(
        name=FLAGS_JOB,
        selection=flag_assets,
        partitions_def=program_day_partitions(settings),
        description="Badges, flag deltas and the flag push for one program and day.",
        executor_def=in_process_executor,
    )


def build_flags_sensor(settings: Settings, flags_job) -> SensorDefinition:
    """After each successful roster run, flag every enabled program for the newest day."""

    @run_status_sensor(
        name="flags_after_roster_sensor",
        run_status=DagsterRunStatus.SUCCESS,
        monitored_jobs=[nightly_roster_job, weekly_full_roster_job],
        request_job=flags_job,
        default_status=DefaultSensorStatus.RUNNING,
        description="Runs the flags of the newest complete day once the roster is in.",
    )
    def flags_after_roster(context: RunStatusSensorContext):
        day = newest_complete_day(roster_run_started_at(context))
        return flag_run_requests(settings, day, context.dagster_run.run_id)

    return flags_after_roster


def roster_run_started_at(context: RunStatusSensorContext) -> datetime:
    """When the roster run started: its day, not the sensor's tick, decides the flags' day.

    A run that finishes after midnight, or a sensor that ticks late, still flags the day the
    02:00 run was started for.
    """
    record = context.instance.get_run_record_by_id(context.dagster_run.run_id)
    started = record.start_time if record else None
    return datetime.fromtimestamp(started, UTC) if started else datetime.now(UTC)


def flag_run_requests(settings: Settings, day, roster_run_id: str) -> list[RunRequest]:
    """One flags run per enabled program from its cutover on; earlier days have nothing to do."""
    return [
        RunRequest(
            run_key=f"{roster_run_id}:{program}",
            partition_key=partition_key(program, day),
        )
        for program, program_settings in settings.enabled_programs.items()
        if day >= program_settings.cutover_date
    ]


def build_definitions(settings: Settings | None = None) -> Definitions:
    """Definitions for one district; tests pass their own settings."""
    settings = settings or load_settings()
    oneroster = settings.oneroster

    resources = {
        "settings": SettingsResource(settings_file=os.environ.get("SG_SETTINGS_FILE")),
        "warehouse": warehouse_resource(settings.warehouse),
        "app_db": AppDatabaseResource(url=settings.app_database),
        "oneroster": OneRosterResource(
            base_url=oneroster.base_url,
            token_url=oneroster.token_url,
            client_id=oneroster.client_id,
            **{k: v for k, v in _secrets().items() if k == "client_secret"},
            page_size=oneroster.page_size,
            max_concurrency=oneroster.max_concurrency,
            serial=oneroster.serial,
            timeout_seconds=oneroster.timeout_seconds,
            max_retries=oneroster.max_retries,
            max_backoff_seconds=oneroster.max_backoff_seconds,
            delta_lookback_seconds=oneroster.delta_lookback_seconds,
        ),
        "flags_gateway": FlagsGatewayResource.from_settings(settings, **_secrets()),
    }
    flags_job = build_flags_job(settings)

    return Definitions(
        assets=[
            *roster_assets,
            *identity_assets,
            *emis_assets,
            *reporting_assets,
            *build_badge_assets(settings),
            *build_flag_assets(settings),
        ],
        asset_checks=[
            *roster_checks,
            *identity_checks,
            *emis_checks,
            *build_badge_checks(settings),
            *build_flag_checks(settings),
        ],
        jobs=[nightly_roster_job, weekly_full_roster_job, flags_job],
        schedules=[nightly_schedule, weekly_full_schedule],
        sensors=[build_flags_sensor(settings, flags_job), *build_alert_sensors(settings)],
        resources=resources,
    )


defs = build_definitions()
