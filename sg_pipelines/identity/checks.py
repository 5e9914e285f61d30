"""Asset checks on the identity tables."""

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    asset_check,
)
from dagster_duckdb import DuckDBResource

from sg_pipelines.identity.tables import link_conflicts
from sg_pipelines.warehouse import WAREHOUSE_POOL, connect


@asset_check(asset="student_links", blocking=True, pool=WAREHOUSE_POOL)
def student_links_conflicts(
    context: AssetCheckExecutionContext, warehouse: DuckDBResource
) -> AssetCheckResult:
    """Each sourcedId maps to one plan student and back; pending reviews only warn."""
    with connect(warehouse) as conn:
        conflicts = link_conflicts(conn)

    metadata = {
        "shared_sourced_ids": conflicts.shared_sourced_ids,
        "plan_students_with_two_sourced_ids": conflicts.plan_students_with_two_sourced_ids,
        "pending_reviews": conflicts.pending_reviews,
    }
    if conflicts.broken:
        return AssetCheckResult(passed=False, severity=AssetCheckSeverity.ERROR, metadata=metadata)
    if conflicts.pending_reviews:
        context.log.warning(f"{conflicts.pending_reviews} link reviews are pending")
        return AssetCheckResult(passed=False, severity=AssetCheckSeverity.WARN, metadata=metadata)
    return AssetCheckResult(passed=True, metadata=metadata)


identity_checks = [student_links_conflicts]
