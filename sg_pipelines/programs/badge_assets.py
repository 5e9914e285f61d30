"""Dagster wiring for plan documents and program participation badges.

The badge assets are partitioned program x day, and partitions depend on settings, so the code
location builds them with `build_badge_assets(settings)`. A backfill runs as one run
(`BackfillPolicy.single_run`): a program's whole history from its cutover is one set-based pass.
"""

from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from datetime import date

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    AssetSpec,
    BackfillPolicy,
    MaterializeResult,
    MetadataValue,
    MultiPartitionsDefinition,
    TableColumn,
    TableRecord,
    TableSchema,
    asset,
    multi_asset,
)
from dagster_duckdb import DuckDBResource

from sg_pipelines.appdb.resources import AppDatabaseResource
from sg_pipelines.programs.badges import BadgeSliceCounts, ensure_tables, write_badges
from sg_pipelines.programs.documents import write_plan_documents_snapshot
from sg_pipelines.programs.partitions import (
    DAY_DIMENSION,
    PROGRAM_DIMENSION,
    program_day_partitions,
)
from sg_pipelines.resources import SettingsResource
from sg_pipelines.settings import Settings
from sg_pipelines.warehouse import WAREHOUSE_POOL, connect

GROUP = "programs"
COUNT_COLUMNS = ("badges", "badges_active", "badges_opened", "badges_closed", "unflaggable")


@asset(
    group_name=GROUP,
    deps=[AssetKey("student_links")],
    pool=WAREHOUSE_POOL,
)
def plan_documents(
    context: AssetExecutionContext, warehouse: DuckDBResource, app_db: AppDatabaseResource
) -> MaterializeResult:
    """Every plan document in the app database, drafts included, with the linked student's
    Campus sourcedId: what badges and EMIS records are computed from."""
    with app_db.open() as database:
        sourced_ids = {
            student.id: student.internal_sis_student_id for student in database.students()
        }
        documents = list(database.documents.iter_all(with_sections=False))

    with connect(warehouse) as conn:
        counts = write_plan_documents_snapshot(conn, documents, sourced_ids)

    per_program = Counter(document.program for document in documents)
    context.log.info(
        f"copied {counts['documents']} plan documents ({counts['completed']} completed, "
        f"{counts['drafts']} drafts) for {len(sourced_ids)} plan students"
    )
    return MaterializeResult(
        metadata={**counts, **{f"documents_{key}": value for key, value in per_program.items()}}
    )


def _slices(
    keys: Sequence[str], settings: Settings, partitions_def: MultiPartitionsDefinition
) -> tuple[dict[str, list[date]], dict[str, str]]:
    """Split partition keys into the days to compute per program and the skipped ones.

    Returns (days per program, skip reason per partition key).
    """
    days: dict[str, list[date]] = defaultdict(list)
    skipped: dict[str, str] = {}
    for key in keys:
        dimensions = partitions_def.get_partition_key_from_str(key).keys_by_dimension
        program, day = dimensions[PROGRAM_DIMENSION], date.fromisoformat(dimensions[DAY_DIMENSION])
        program_settings = settings.programs.get(program)
        if program_settings is None or not program_settings.enabled:
            skipped[key] = "program not enabled"
        elif day < program_settings.cutover_date:
            skipped[key] = f"before the program's cutover ({program_settings.cutover_date})"
        else:
            days[program].append(day)
    return dict(days), skipped


def _counts_table(counts: Sequence[BadgeSliceCounts]) -> MetadataValue:
    return MetadataValue.table(
        records=[
            TableRecord({"partition": f"{c.program} {c.as_of_date}", **_counts(c)}) for c in counts
        ],
        schema=TableSchema(
            columns=[TableColumn("partition", "string")]
            + [TableColumn(column, "int") for column in COUNT_COLUMNS]
        ),
    )


def _counts(count: BadgeSliceCounts) -> dict[str, int]:
    return {column: getattr(count, column) for column in COUNT_COLUMNS}


def badge_metadata(
    counts: Sequence[BadgeSliceCounts], skipped: dict[str, str]
) -> dict[str, object]:
    """Counts per (program, day), never a student id: the program alone can reveal a disability.

    One partition gets its counts as plain entries; a range gets totals and a table per slice.
    """
    metadata: dict[str, object] = {
        "partitions_computed": len(counts),
        "partitions_skipped": len(skipped),
    }
    if skipped:
        reasons = sorted(set(skipped.values()))
        metadata["skipped_reason"] = "; ".join(reasons)
    if len(counts) == 1:
        metadata.update(_counts(counts[0]))
    elif counts:
        newest = max(count.as_of_date for count in counts)
        metadata["newest_day"] = newest.isoformat()
        metadata["badge_rows"] = sum(count.badges for count in counts)
        metadata["counts_by_partition"] = _counts_table(counts)
    return metadata


def build_badge_assets(settings: Settings) -> list[AssetsDefinition]:
    """`plan_documents` and the program x day partitioned badge assets for these settings."""
    partitions_def = program_day_partitions(settings)

    @multi_asset(
        specs=[
            AssetSpec(
                "program_participation_badges",
                group_name=GROUP,
                deps=[AssetKey("plan_documents"), AssetKey("roster_students")],
                description="Per program and day, each plan student's participation intervals "
                "from completed documents (start, end or open, source documents, active on the "
                "day): what program flags are set from.",
            ),
            AssetSpec(
                "unflaggable_badges",
                group_name=GROUP,
                deps=[AssetKey("plan_documents"), AssetKey("roster_students")],
                description="Badges active on the day that no Campus flag can carry: the "
                "student is not linked, or Campus reports them inactive.",
            ),
        ],
        partitions_def=partitions_def,
        backfill_policy=BackfillPolicy.single_run(),
        pool=WAREHOUSE_POOL,
        can_subset=False,
    )
    def program_participation_badges(
        context: AssetExecutionContext, warehouse: DuckDBResource, settings: SettingsResource
    ) -> Iterator[MaterializeResult]:
        """Compute every partition of the run in one pass and replace those slices."""
        current = settings.load()
        days, skipped = _slices(context.partition_keys, current, partitions_def)
        for reason in sorted(set(skipped.values())):
            context.log.info(
                f"{sum(1 for r in skipped.values() if r == reason)} partitions skipped: {reason}"
            )

        counts: list[BadgeSliceCounts] = []
        with connect(warehouse) as conn:
            ensure_tables(conn)
            if days:
                cutovers = {program: current.programs[program].cutover_date for program in days}
                counts = write_badges(conn, days, cutovers)
        context.log.info(
            f"wrote {len(counts)} program-day badge slices "
            f"({sum(count.badges for count in counts)} badge rows)"
        )

        metadata = badge_metadata(counts, skipped)
        yield MaterializeResult(asset_key="program_participation_badges", metadata=metadata)
        yield MaterializeResult(
            asset_key="unflaggable_badges",
            metadata={
                key: value
                for key, value in metadata.items()
                if key in ("partitions_computed", "partitions_skipped", "skipped_reason")
            }
            | {"unflaggable": sum(count.unflaggable for count in counts)},
        )

    return [plan_documents, program_participation_badges]
