"""Blocking checks between the roster sync and everything that trusts it (links, flags, EMIS)."""

import duckdb
from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    asset_check,
)
from dagster_duckdb import DuckDBResource

from sg_pipelines.resources import SettingsResource
from sg_pipelines.roster.assets import (
    CONFIRM_MASS_DEACTIVATION_TAG,
    roster_students,
    roster_sync_report,
)
from sg_pipelines.roster.collections import COLLECTIONS
from sg_pipelines.warehouse import connect


def _sync_id(context: AssetCheckExecutionContext, conn: duckdb.DuckDBPyConnection) -> str | None:
    """This run's sync, or the latest one when the check runs on its own."""
    rows = conn.execute(
        "SELECT sync_id FROM roster_sync_log ORDER BY (sync_id = ?) DESC, started_at DESC LIMIT 1",
        [context.run.run_id],
    ).fetchall()
    return rows[0][0] if rows else None


def _collections(conn: duckdb.DuckDBPyConnection, sync_id: str) -> dict[str, tuple]:
    rows = conn.execute(
        "SELECT collection, status, error, fetched, rejected, deactivations_withheld"
        " FROM roster_sync_collections WHERE sync_id = ?",
        [sync_id],
    ).fetchall()
    return {row[0]: row[1:] for row in rows}


@asset_check(asset=roster_sync_report, blocking=True)
def collections_complete(
    context: AssetCheckExecutionContext, warehouse: DuckDBResource
) -> AssetCheckResult:
    """Every collection was pulled and applied. Demographics refused (403) only warns: users
    still import and demographics are marked stale."""
    with connect(warehouse) as conn:
        sync_id = _sync_id(context, conn)
        collections = _collections(conn, sync_id) if sync_id else {}

    failed = {
        name: collections[name][1] if name in collections else "not pulled in this sync"
        for name in COLLECTIONS
        if name not in collections or collections[name][0] == "failed"
    }
    forbidden = {name: row[1] for name, row in collections.items() if row[0] == "forbidden"}
    metadata = {
        "sync_id": sync_id or "",
        **{f"{name}_status": row[0] for name, row in collections.items()},
        **{f"{name}_fetched": row[2] for name, row in collections.items()},
    }
    if failed:
        description = "; ".join(f"{name}: {error}" for name, error in failed.items())
        return AssetCheckResult(
            passed=False,
            severity=AssetCheckSeverity.ERROR,
            description=f"Roster collections failed, their tables keep the last good state: "
            f"{description}",
            metadata=metadata,
        )
    if forbidden:
        return AssetCheckResult(
            passed=False,
            severity=AssetCheckSeverity.WARN,
            description="Campus refused: "
            + "; ".join(forbidden.values())
            + ". Ask the district to grant it on the OneRoster connection; until then "
            "demographic fields keep their last values and are marked stale.",
            metadata=metadata,
        )
    return AssetCheckResult(passed=True, metadata=metadata)


@asset_check(asset=roster_sync_report, blocking=True)
def deactivation_threshold(
    context: AssetCheckExecutionContext, warehouse: DuckDBResource, settings: SettingsResource
) -> AssetCheckResult:
    """Fails when a full pull would have deactivated more than the allowed share of active
    students (or rows), so the deactivations were withheld for a person to confirm."""
    threshold = settings.load().roster.deactivation_threshold
    with connect(warehouse) as conn:
        sync_id = _sync_id(context, conn)
        collections = _collections(conn, sync_id) if sync_id else {}

    withheld = {name: row[4] for name, row in collections.items() if row[4]}
    if not withheld:
        return AssetCheckResult(passed=True, metadata={"threshold": threshold})

    counts = ", ".join(f"{count} {name}" for name, count in withheld.items())
    return AssetCheckResult(
        passed=False,
        severity=AssetCheckSeverity.ERROR,
        description=(
            f"Sync {sync_id} withheld deactivations ({counts}): the pull lacked, or marked "
            f"tobedeleted, more than {threshold:.0%} of the active students, other users or "
            "rows, which usually means a Campus connection or school-year scope problem, not "
            "real withdrawals. Upserts were applied; nobody was deactivated. Check the "
            "connection's schools and year in Campus. If the drop is "
            f"real, re-run the weekly full sync with run tag {CONFIRM_MASS_DEACTIVATION_TAG}=true "
            "(or set roster.confirm_mass_deactivation: true for one run)."
        ),
        metadata={"threshold": threshold, **{f"{k}_withheld": v for k, v in withheld.items()}},
    )


@asset_check(asset=roster_sync_report, blocking=False)
def unresolved_references(
    context: AssetCheckExecutionContext, warehouse: DuckDBResource, settings: SettingsResource
) -> AssetCheckResult:
    """References to people or classes Campus did not send (often contacts without a portal
    account). Warns above `roster.unresolved_alert_threshold`; never blocks."""
    limit = settings.load().roster.unresolved_alert_threshold
    with connect(warehouse) as conn:
        sync_id = _sync_id(context, conn)
        rows = conn.execute(
            "SELECT collection || '.' || reference_kind, count(*)"
            " FROM roster_unresolved_references WHERE sync_id = ? GROUP BY ALL",
            [sync_id],
        ).fetchall()
    counts = dict(rows)
    total = sum(counts.values())
    return AssetCheckResult(
        passed=total <= limit,
        severity=AssetCheckSeverity.WARN,
        description=f"{total} unresolved references (alert above {limit}); see "
        "roster_unresolved_references for the referencing records.",
        metadata={"unresolved": total, **counts},
    )


@asset_check(asset=roster_students, blocking=True)
def sourced_id_unique(warehouse: DuckDBResource) -> AssetCheckResult:
    """One row per sourcedId: per student (the Internal SIS Student Id everything keys on), and
    in every collection's table, which hold one row per record by the merge alone."""
    tables = ["roster_students", *(collection.table for collection in COLLECTIONS.values())]
    with connect(warehouse) as conn:
        duplicated = {
            table: conn.execute(
                f"SELECT count(*) FROM (SELECT sourced_id FROM {table}"
                " GROUP BY sourced_id HAVING count(*) > 1)"
            ).fetchall()[0][0]
            for table in tables
        }
    return AssetCheckResult(
        passed=not any(duplicated.values()),
        description=None
        if not any(duplicated.values())
        else "sourcedIds on more than one row: "
        + ", ".join(f"{table} {count}" for table, count in duplicated.items() if count),
        metadata={
            "duplicated_sourced_ids": duplicated["roster_students"],
            **{f"{table}_duplicated": count for table, count in duplicated.items()},
        },
    )


roster_checks: list[AssetChecksDefinition] = [
    collections_complete,
    deactivation_threshold,
    unresolved_references,
    sourced_id_unique,
]
