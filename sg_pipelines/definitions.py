"""The code location: one district's assets, checks, jobs, schedules and resources.

`dagster dev -w workspace.yaml` loads `defs` from here. Settings come from `$SG_SETTINGS_FILE`
and the `SG_` environment (see `sg_pipelines/settings.py`); every default points at the Campus
sandbox so the demo runs without configuration.
"""

from __future__ import annotations

import os

from dagster import (
    AssetSelection,
    DefaultScheduleStatus,
    Definitions,
    EnvVar,
    ScheduleDefinition,
    define_asset_job,
    in_process_executor,
)

from sg_pipelines.appdb.resources import AppDatabaseResource
from sg_pipelines.identity.assets import identity_assets
from sg_pipelines.identity.checks import identity_checks
from sg_pipelines.resources import SettingsResource
from sg_pipelines.roster.assets import roster_assets
from sg_pipelines.roster.checks import roster_checks
from sg_pipelines.roster.resources import OneRosterResource
from sg_pipelines.settings import CLIENT_SECRET_ENV, SANDBOX_CLIENT_SECRET, Settings, load_settings
from sg_pipelines.warehouse import warehouse_resource

SYNC_MODE_TAG = "sg/sync_mode"
NIGHTLY_JOB = "nightly_roster_job"
WEEKLY_FULL_JOB = "weekly_full_roster_job"

roster_and_links = AssetSelection.groups("roster", "identity")

# Every step writes the one warehouse file, so each run executes its steps in one process;
# runs are serialised by the `duckdb_write` pool (limit 1, see docs/operations.md).
nightly_roster_job = define_asset_job(
    name=NIGHTLY_JOB,
    selection=roster_and_links,
    description="Nightly delta roster sync from Campus, then linking to plan-system students.",
    tags={SYNC_MODE_TAG: "delta"},
    executor_def=in_process_executor,
)

weekly_full_roster_job = define_asset_job(
    name=WEEKLY_FULL_JOB,
    selection=roster_and_links,
    description="Weekly full roster sync: the only sync whose absences deactivate students.",
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


def _client_secret() -> str | EnvVar:
    """The OneRoster secret stays in the environment; the sandbox's own is the default."""
    if os.environ.get(CLIENT_SECRET_ENV):
        return EnvVar(CLIENT_SECRET_ENV)
    return SANDBOX_CLIENT_SECRET


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
            client_secret=_client_secret(),
            page_size=oneroster.page_size,
            max_concurrency=oneroster.max_concurrency,
            serial=oneroster.serial,
            timeout_seconds=oneroster.timeout_seconds,
            max_retries=oneroster.max_retries,
            max_backoff_seconds=oneroster.max_backoff_seconds,
            delta_lookback_seconds=oneroster.delta_lookback_seconds,
        ),
    }

    return Definitions(
        assets=[*roster_assets, *identity_assets],
        asset_checks=[*roster_checks, *identity_checks],
        jobs=[nightly_roster_job, weekly_full_roster_job],
        schedules=[nightly_schedule, weekly_full_schedule],
        resources=resources,
    )


defs = build_definitions()
