"""Dagster wiring for the roster: one asset per OneRoster collection, the sync report, and the
derived student, guardian and enrollment-period tables.

Sync mode comes from the run tag `sg/sync_mode` (`full` or `delta`, default `delta`); the run id
is the sync id. Logic lives in `sync.py` and `derived.py`; these functions only connect it.
"""

import json
from typing import Any

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    MaterializeResult,
    MetadataValue,
    asset,
)
from dagster_duckdb import DuckDBResource

from sg_pipelines.resources import SettingsResource
from sg_pipelines.roster.collections import COLLECTIONS, Collection
from sg_pipelines.roster.derived import (
    build_enrollment_periods,
    build_guardians,
    build_students,
    record_unresolved_references,
)
from sg_pipelines.roster.resources import OneRosterResource
from sg_pipelines.roster.sync import begin_sync, finish_sync, sync_collection
from sg_pipelines.warehouse import WAREHOUSE_POOL, connect

GROUP = "roster"
SYNC_MODE_TAG = "sg/sync_mode"
CONFIRM_MASS_DEACTIVATION_TAG = "sg/confirm_mass_deactivation"

COLLECTION_ASSETS = {
    "orgs": "oneroster_orgs",
    "academicSessions": "oneroster_academic_sessions",
    "classes": "oneroster_classes",
    "users": "oneroster_users",
    "demographics": "oneroster_demographics",
    "enrollments": "oneroster_enrollments",
}


def requested_mode(context: AssetExecutionContext) -> str:
    mode = context.run.tags.get(SYNC_MODE_TAG, "delta")
    if mode not in ("full", "delta"):
        raise ValueError(f"run tag {SYNC_MODE_TAG} must be 'full' or 'delta', not {mode!r}")
    return mode


def _collection_asset(collection: Collection) -> AssetsDefinition:
    name = COLLECTION_ASSETS[collection.name]

    @asset(
        name=name,
        group_name=GROUP,
        pool=WAREHOUSE_POOL,
        kinds={"duckdb"},
        description=(
            f"Current state of every OneRoster `{collection.name}` record ever seen, one row per "
            "sourcedId; a failed pull keeps the last good state."
        ),
    )
    def _sync(
        context: AssetExecutionContext,
        warehouse: DuckDBResource,
        oneroster: OneRosterResource,
        settings: SettingsResource,
    ) -> MaterializeResult:
        rules = settings.load().roster
        confirmed = rules.confirm_mass_deactivation or (
            context.run.tags.get(CONFIRM_MASS_DEACTIVATION_TAG, "").lower() == "true"
        )
        with connect(warehouse) as conn, oneroster.client(log=context.log) as client:
            run = begin_sync(
                conn,
                context.run.run_id,
                requested_mode(context),
                lookback_seconds=oneroster.delta_lookback_seconds,
            )
            result = sync_collection(
                conn, client, collection, run, rules, confirm_mass_deactivation=confirmed,
                log=context.log,
            )  # fmt: skip
            rows, active = conn.execute(
                f"SELECT count(*), count(*) FILTER (WHERE is_active) FROM {collection.table}"
            ).fetchall()[0]

        metadata: dict[str, Any] = {
            "dagster/row_count": rows,
            "active_rows": active,
            "sync_status": result.status,
            "sync_mode": result.mode,
            "window_start": str(run.window_start) if result.mode == "delta" else "full pull",
            "fetched": result.fetched,
            "upserted": result.upserted,
            "rejected": result.rejected,
            "row_warnings": result.warnings,
            "deactivated": result.deactivated,
            "deactivations_withheld": result.deactivations_withheld,
            "total_reported": result.total_reported,
            "consistent": str(result.consistent),
            "pull_seconds": round(result.seconds, 2),
        }
        if result.error:
            metadata["error"] = result.error
        return MaterializeResult(metadata=metadata)

    return _sync


collection_assets = [_collection_asset(collection) for collection in COLLECTIONS.values()]
collection_keys = [AssetKey(name) for name in COLLECTION_ASSETS.values()]


@asset(group_name=GROUP, pool=WAREHOUSE_POOL, kinds={"duckdb"}, deps=collection_keys)
def roster_sync_report(
    context: AssetExecutionContext, warehouse: DuckDBResource
) -> MaterializeResult:
    """Closes this run's row of `roster_sync_log` (complete, partial or failed) and records the
    references that point at records Campus did not send."""
    with connect(warehouse) as conn:
        status, message = finish_sync(conn, context.run.run_id)
        unresolved = record_unresolved_references(conn, context.run.run_id)
        counts = conn.execute(
            "SELECT counts FROM roster_sync_log WHERE sync_id = ?", [context.run.run_id]
        ).fetchall()

    log = context.log.info if status == "complete" else context.log.error
    log(f"roster sync {context.run.run_id}: {status}" + (f" ({message})" if message else ""))
    return MaterializeResult(
        metadata={
            "sync_status": status,
            "message": message or "",
            "counts": MetadataValue.json(_json(counts[0][0]) if counts else {}),
            "unresolved_references": MetadataValue.json(unresolved),
        }
    )


@asset(
    group_name=GROUP,
    pool=WAREHOUSE_POOL,
    kinds={"duckdb"},
    deps=[roster_sync_report, "oneroster_users", "oneroster_demographics", "oneroster_orgs"],
)
def roster_students(context: AssetExecutionContext, warehouse: DuckDBResource) -> MaterializeResult:
    """Every student Campus has sent, active and inactive, with demographics, school, building
    IRN, grade and the 9-character EMIS Student ID; what identity linking reads."""
    with connect(warehouse) as conn:
        rows = build_students(conn)
        by_school = conn.execute(
            """
            SELECT coalesce(building_irn, '(none)') AS building_irn,
                   coalesce(grade, '(none)') AS grade,
                   count(*) FILTER (WHERE is_active) AS active,
                   count(*) FILTER (WHERE NOT is_active) AS inactive
            FROM roster_students GROUP BY ALL ORDER BY ALL LIMIT 50
            """
        ).fetchall()
        active, stale, emis = conn.execute(
            "SELECT count(*) FILTER (WHERE is_active), count(*) FILTER (WHERE demographics_stale),"
            " count(emis_student_id) FROM roster_students"
        ).fetchall()[0]

    preview = "| building IRN | grade | active | inactive |\n|---|---|---|---|\n" + "\n".join(
        f"| {irn} | {grade} | {a} | {i} |" for irn, grade, a, i in by_school
    )
    return MaterializeResult(
        metadata={
            "dagster/row_count": rows,
            "active_students": active,
            "with_emis_student_id": emis,
            "demographics_stale": stale,
            "students_by_school_and_grade": MetadataValue.md(preview),
        }
    )


@asset(
    group_name=GROUP,
    pool=WAREHOUSE_POOL,
    kinds={"duckdb"},
    deps=[roster_sync_report, "oneroster_users"],
)
def roster_guardians(
    context: AssetExecutionContext, warehouse: DuckDBResource, settings: SettingsResource
) -> MaterializeResult:
    """Student-to-parent/guardian links from OneRoster `agents`; a link is never deleted, and an
    agent Campus did not send this time leaves its existing link alone."""
    with connect(warehouse) as conn:
        links = build_guardians(conn, settings.load().roster)
    if links.unresolved_agents:
        context.log.warning(f"{links.unresolved_agents} agent references name no known user")
    return MaterializeResult(
        metadata={
            "dagster/row_count": links.links,
            "active_links": links.active_links,
            "unresolved_agents": links.unresolved_agents,
        }
    )


@asset(
    group_name=GROUP,
    pool=WAREHOUSE_POOL,
    kinds={"duckdb"},
    deps=[roster_sync_report, "oneroster_enrollments", "oneroster_classes", "oneroster_orgs"],
)
def roster_enrollment_periods(warehouse: DuckDBResource) -> MaterializeResult:
    """School-level enrollment spans per student (overlapping class enrollments merged, end
    exclusive), for EMIS reporting windows."""
    with connect(warehouse) as conn:
        rows = build_enrollment_periods(conn)
        (students,) = conn.execute(
            "SELECT count(DISTINCT student_sourced_id) FROM roster_enrollment_periods"
        ).fetchall()[0]
    return MaterializeResult(metadata={"dagster/row_count": rows, "students": students})


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


roster_assets: list[AssetsDefinition] = [
    *collection_assets,
    roster_sync_report,
    roster_students,
    roster_guardians,
    roster_enrollment_periods,
]
