"""The blocking check in front of every flag push: no mass change without a person's yes."""

import warnings

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    PreviewWarning,
    asset_check,
)
from dagster_duckdb import DuckDBResource

from sg_pipelines.programs.flag_assets import large_change_confirmed, partition_of
from sg_pipelines.programs.flag_deltas import change_guard, read_summary
from sg_pipelines.programs.partitions import program_day_partitions
from sg_pipelines.resources import SettingsResource
from sg_pipelines.settings import Settings
from sg_pipelines.warehouse import WAREHOUSE_POOL, connect


def build_flag_checks(settings: Settings) -> list[AssetChecksDefinition]:
    """`flag_deltas_change_share`, partitioned like `flag_deltas`."""
    # Known limitation: partitioned asset checks are a preview feature in Dagster 1.13; the
    # check needs its partition to weigh that one program's deltas, so it uses them anyway.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PreviewWarning)
        return [_change_share_check(settings)]


def _change_share_check(settings: Settings) -> AssetChecksDefinition:
    @asset_check(
        asset="flag_deltas",
        name="flag_deltas_change_share",
        blocking=True,
        pool=WAREHOUSE_POOL,
        partitions_def=program_day_partitions(settings),
        description="Blocks a push that would change more than flags.max_change_share of a "
        "program's open flags (never fewer than flags.max_change_floor).",
    )
    def flag_deltas_change_share(
        context: AssetCheckExecutionContext, warehouse: DuckDBResource, settings: SettingsResource
    ) -> AssetCheckResult:
        current = settings.load()
        key, day = partition_of(context.partition_key)
        with connect(warehouse) as conn:
            summary = read_summary(conn, key, day)

        if summary is None or summary.state != "current":
            note = summary.note if summary else "no deltas computed for this day"
            return AssetCheckResult(passed=True, metadata={"state": note})

        guard = change_guard(
            summary,
            max_share=current.flags.max_change_share,
            floor=current.flags.max_change_floor,
            confirmed=large_change_confirmed(current, context.run.tags),
        )
        metadata = {**guard.as_metadata(), "verdict": guard.message}
        if guard.blocked:
            context.log.error(guard.message)
            return AssetCheckResult(
                passed=False,
                severity=AssetCheckSeverity.ERROR,
                description=guard.message,
                metadata=metadata,
            )
        return AssetCheckResult(passed=True, metadata=metadata)

    return flag_deltas_change_share
