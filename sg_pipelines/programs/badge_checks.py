"""Checks in front of everything that reads badges: flags are pushed only when these pass.

Two are blocking: no badge may rest on a draft (or on a document completed after its day), and
a student's intervals in one program never overlap. Unflaggable badges are only a warning: the
fix is linking or the roster, not the badges.
"""

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetKey,
    asset_check,
)
from dagster_duckdb import DuckDBResource

from sg_pipelines.programs.badges import ensure_tables, read_sql
from sg_pipelines.settings import Settings
from sg_pipelines.warehouse import connect

BADGES = AssetKey("program_participation_badges")
UNFLAGGABLE = AssetKey("unflaggable_badges")


def build_badge_checks(settings: Settings) -> list[AssetChecksDefinition]:
    """The badge checks; the unflaggable warning looks at the enabled programs' newest day."""
    enabled = list(settings.enabled_programs)

    @asset_check(asset=BADGES, blocking=True)
    def badges_rest_on_completed_documents(
        context: AssetCheckExecutionContext, warehouse: DuckDBResource
    ) -> AssetCheckResult:
        """Every badge's start and end documents are completed, by the badge's day (fault E7)."""
        with connect(warehouse) as conn:
            ensure_tables(conn)
            [(badges, not_completed, completed_later, missing)] = conn.execute(
                read_sql("check_badge_documents.sql")
            ).fetchall()
        return AssetCheckResult(
            passed=not_completed == completed_later == missing == 0,
            severity=AssetCheckSeverity.ERROR,
            metadata={
                "badges_checked": badges,
                "from_draft_documents": not_completed,
                "from_documents_completed_after_the_day": completed_later,
                "from_unknown_documents": missing,
            },
        )

    @asset_check(asset=BADGES, blocking=True)
    def badge_intervals_do_not_overlap(
        context: AssetCheckExecutionContext, warehouse: DuckDBResource
    ) -> AssetCheckResult:
        """A student's badge intervals in one program, on one day, never overlap."""
        with connect(warehouse) as conn:
            ensure_tables(conn)
            [(overlaps, slices)] = conn.execute(read_sql("check_badge_overlaps.sql")).fetchall()
        return AssetCheckResult(
            passed=overlaps == 0,
            severity=AssetCheckSeverity.ERROR,
            metadata={"overlapping_intervals": overlaps, "slices_affected": slices},
        )

    @asset_check(asset=UNFLAGGABLE, blocking=False)
    def unflaggable_badges_on_newest_day(
        context: AssetCheckExecutionContext, warehouse: DuckDBResource
    ) -> AssetCheckResult:
        """Warns when, on a program's newest day, some active badges cannot become flags."""
        with connect(warehouse) as conn:
            ensure_tables(conn)
            rows = conn.execute(read_sql("check_unflaggable.sql"), [enabled]).fetchall()
        metadata = {
            f"{program}_{reason.replace(' ', '_')}": count for program, reason, count in rows
        }
        return AssetCheckResult(
            passed=not rows,
            severity=AssetCheckSeverity.WARN,
            metadata={"unflaggable": sum(count for *_, count in rows), **metadata},
        )

    return [
        badges_rest_on_completed_documents,
        badge_intervals_do_not_overlap,
        unflaggable_badges_on_newest_day,
    ]
