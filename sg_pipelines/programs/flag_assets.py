"""Dagster wiring for program flags: `flag_deltas` and `flag_push_results`, program x day.

The logic lives in `flag_deltas.py` and `push.py`; these functions connect it. Partitions come
from settings, so the assets are built by `build_flag_assets(settings)`. Only the newest complete
day reads Campus and pushes; older days say "historical day: not pushed".
"""

from datetime import UTC, date, datetime

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    Failure,
    MaterializeResult,
    MultiPartitionKey,
    asset,
)
from dagster_duckdb import DuckDBResource

from sg_pipelines.programs.flag_deltas import (
    change_guard,
    compute_flag_deltas,
    ensure_flag_tables,
    read_summary,
)
from sg_pipelines.programs.gateways.base import FlagProgram
from sg_pipelines.programs.gateways.resource import FlagsGatewayResource
from sg_pipelines.programs.partitions import (
    DAY_DIMENSION,
    PROGRAM_DIMENSION,
    newest_complete_day,
    program_day_partitions,
)
from sg_pipelines.programs.push import push_flags
from sg_pipelines.resources import SettingsResource
from sg_pipelines.settings import Settings
from sg_pipelines.warehouse import WAREHOUSE_POOL, connect

GROUP = "programs"
CONFIRM_LARGE_CHANGE_TAG = "sg/confirm_large_change"
BADGES = AssetKey("program_participation_badges")
ROSTER_STUDENTS = AssetKey("roster_students")


def partition_of(key: str | MultiPartitionKey) -> tuple[str, date]:
    """(program, day) of a program x day partition key."""
    if not isinstance(key, MultiPartitionKey):
        day_text, program = str(key).split("|")  # dimensions sort by name: day, program
        key = MultiPartitionKey({DAY_DIMENSION: day_text, PROGRAM_DIMENSION: program})
    dimensions = key.keys_by_dimension
    return dimensions[PROGRAM_DIMENSION], date.fromisoformat(dimensions[DAY_DIMENSION])


def flag_program(settings: Settings, key: str) -> FlagProgram:
    return FlagProgram(key, settings.programs[key].flag_name or key)


def enabled_flag_programs(settings: Settings) -> list[FlagProgram]:
    return [flag_program(settings, key) for key in settings.enabled_programs]


def large_change_confirmed(settings: Settings, tags: dict[str, str]) -> bool:
    """`flags.confirm_large_change` in settings, or the run tag `sg/confirm_large_change=true`."""
    tagged = tags.get(CONFIRM_LARGE_CHANGE_TAG, "").strip().lower() == "true"
    return settings.flags.confirm_large_change or tagged


def is_newest_day(day: date, now: datetime) -> bool:
    return day >= newest_complete_day(now)


def run_created_at(context: AssetExecutionContext) -> datetime:
    """When the run was created: a run queued before midnight and executed after it still
    treats the day it was started for as the newest, so its flags are pushed."""
    record = context.instance.get_run_record_by_id(context.run_id)
    return record.create_timestamp.astimezone(UTC) if record else datetime.now(UTC)


def build_flag_assets(settings: Settings) -> list[AssetsDefinition]:
    """`flag_deltas` and `flag_push_results`, partitioned by the district's programs x days."""
    partitions = program_day_partitions(settings)

    @asset(
        name="flag_deltas",
        group_name=GROUP,
        partitions_def=partitions,
        deps=[BADGES, ROSTER_STUDENTS],
        pool=WAREHOUSE_POOL,
        kinds={"duckdb"},
        description="The flag changes (set, end, update) that bring Campus in line with the "
        "badges on the newest day; flags we do not own are never changed.",
    )
    def flag_deltas(
        context: AssetExecutionContext,
        warehouse: DuckDBResource,
        flags_gateway: FlagsGatewayResource,
        settings: SettingsResource,
    ) -> MaterializeResult:
        current = settings.load()
        key, day = partition_of(context.partition_key)
        program = flag_program(current, key)
        cutover = current.programs[key].cutover_date

        with connect(warehouse) as conn:
            if is_newest_day(day, run_created_at(context)) and day >= cutover:
                with flags_gateway.open(conn, enabled_flag_programs(current), context.log) as gw:
                    summary = compute_flag_deltas(conn, program, day, cutover, gw, current=True)
            else:
                summary = compute_flag_deltas(conn, program, day, cutover, None, current=False)

        context.log.info(
            f"{key} {day}: {summary.note}; {summary.set_count} to set, {summary.end_count} to "
            f"end, {summary.update_count} to update, {summary.held_count} held by another owner"
        )
        return MaterializeResult(metadata=summary.as_metadata())

    @asset(
        name="flag_push_results",
        group_name=GROUP,
        partitions_def=partitions,
        deps=[flag_deltas],
        pool=WAREHOUSE_POOL,
        kinds={"duckdb"},
        description="What happened to every flag change pushed to Campus, and one push-log row "
        "per program and day; failed changes come back as deltas the next night.",
    )
    def flag_push_results(
        context: AssetExecutionContext,
        warehouse: DuckDBResource,
        flags_gateway: FlagsGatewayResource,
        settings: SettingsResource,
    ) -> MaterializeResult:
        current = settings.load()
        key, day = partition_of(context.partition_key)
        program = flag_program(current, key)

        with connect(warehouse) as conn:
            ensure_flag_tables(conn)
            summary = read_summary(conn, key, day)
            if summary is None or summary.state != "current":
                note = summary.note if summary else "no deltas computed for this day"
                context.log.info(f"{key} {day}: {note}")
                return MaterializeResult(metadata={"push_status": note})

            # the check in front of this asset blocks too; this holds when it runs alone
            guard = change_guard(
                summary,
                max_share=current.flags.max_change_share,
                floor=current.flags.max_change_floor,
                confirmed=large_change_confirmed(current, context.run.tags),
            )
            with flags_gateway.open(conn, enabled_flag_programs(current), context.log) as gw:
                outcome = push_flags(
                    conn, gw, program, day, context.run_id, guard=guard, log=context.log
                )

        metadata = outcome.as_metadata()
        if outcome.status in ("withheld", "failed"):
            raise Failure(
                description=outcome.message or f"{key}: push {outcome.status}", metadata=metadata
            )
        if outcome.status == "partial":
            context.log.warning(
                f"{key}: {outcome.failed_count} changes failed and will be retried next night: "
                f"{outcome.message}"
            )
        return MaterializeResult(metadata=metadata)

    return [flag_deltas, flag_push_results]
