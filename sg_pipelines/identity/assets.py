"""Dagster wiring for identity: the links between roster students and plan-system students."""

from collections import Counter
from collections.abc import Iterator

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    MaterializeResult,
    multi_asset,
)
from dagster_duckdb import DuckDBResource

from sg_pipelines.appdb import AppDatabaseResource
from sg_pipelines.identity.run import link_roster_students
from sg_pipelines.warehouse import WAREHOUSE_POOL, connect

ROSTER_DEPS = [AssetKey("roster_students"), AssetKey("roster_guardians")]


@multi_asset(
    specs=[
        AssetSpec(
            "student_links",
            group_name="identity",
            deps=ROSTER_DEPS,
            description="Plan-system student to Campus sourcedId, with how each was matched; "
            "the key every flag and report joins on.",
        ),
        AssetSpec(
            "link_review",
            group_name="identity",
            deps=ROSTER_DEPS,
            description="Ambiguous or conflicting matches a person must settle; never linked.",
        ),
    ],
    pool=WAREHOUSE_POOL,
)
def student_links(
    context: AssetExecutionContext, warehouse: DuckDBResource, app_db: AppDatabaseResource
) -> Iterator[MaterializeResult]:
    """Match roster students to plan-system students and write the sourcedIds back."""
    with app_db.open() as database, connect(warehouse) as conn:
        run = link_roster_students(conn, database, run_id=context.run_id)

    summary = run.summary
    context.log.info(
        f"linked roster students: {summary.created} created, {summary.newly_linked} newly "
        f"linked, {summary.rekeyed} re-keyed, {summary.sent_to_review} sent to review, "
        f"{summary.unchanged} unchanged"
    )
    yield MaterializeResult(asset_key="student_links", metadata=summary.as_metadata())
    yield MaterializeResult(
        asset_key="link_review",
        metadata={
            "pending_reviews": summary.sent_to_review,
            **{
                f"proposed_by_{kind}": count
                for kind, count in Counter(r.proposed_by for r in run.decisions.reviews).items()
            },
        },
    )


identity_assets = [student_links]
