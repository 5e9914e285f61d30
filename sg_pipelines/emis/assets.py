"""Dagster wiring for the EMIS records, their reconciliation and the report snapshot.

The record assets build the nightly request (the current fiscal year's collection in progress,
`ranges.default_request`) with the same `build_*` functions the reporting API calls, and write
one warehouse table each. `report_snapshot` runs after the blocking checks and publishes what
the API serves. Metadata carries counts only: an EMIS Student ID beside a record type would
reveal a disability.
"""

from collections.abc import Callable

import duckdb
from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    AssetSelection,
    MaterializeResult,
    asset,
)
from dagster_duckdb import DuckDBResource

from sg_pipelines.emis.ranges import ReportRequest, default_request, district_today
from sg_pipelines.emis.reconciliation import build_reconciliation
from sg_pipelines.emis.records import build_fd, build_fe, build_ge, build_gq, build_pre_id
from sg_pipelines.emis.snapshot import publish_snapshot
from sg_pipelines.emis.tables import counts_by, read_request, record_request, replace_table
from sg_pipelines.resources import SettingsResource
from sg_pipelines.warehouse import WAREHOUSE_POOL, connect

GROUP = "emis"
SOURCES = [
    AssetKey("plan_documents"),
    AssetKey("roster_students"),
    AssetKey("roster_enrollment_periods"),
    AssetKey("student_links"),
]
RECORD_ASSETS = ("emis_ge", "emis_fd", "emis_fe", "emis_gq", "ohio_pre_id")
Builder = Callable[[duckdb.DuckDBPyConnection, ReportRequest], duckdb.DuckDBPyRelation]


def _build(
    context: AssetExecutionContext,
    warehouse: DuckDBResource,
    settings: SettingsResource,
    table: str,
    builder: Builder,
    count_column: str | None,
) -> MaterializeResult:
    current = settings.load()
    request = default_request(district_today(current.timezone))
    with connect(warehouse) as conn:
        if table == "ohio_pre_id":
            relation = build_pre_id(conn, request, timezone=current.timezone)
        else:
            relation = builder(conn, request)
        rows = replace_table(conn, table, relation)
        record_request(conn, request)
        per_value = counts_by(conn, table, count_column) if count_column else {}

    summary = request.summary()
    context.log.info(
        f"built {rows} {table} rows for FY{summary['fiscal_year']} "
        f"{summary['reporting_period']} ({summary['start_date']} to {summary['end_date']})"
    )
    return MaterializeResult(
        metadata={"rows": rows, **summary, **{f"rows_{k}": v for k, v in per_value.items()}}
    )


@asset(group_name=GROUP, deps=SOURCES, pool=WAREHOUSE_POOL)
def emis_ge(
    context: AssetExecutionContext, warehouse: DuckDBResource, settings: SettingsResource
) -> MaterializeResult:
    """GE special-education event records for the current collection: what Campus pulls from
    `stateReporting/ge`, one per (EMIS Student ID, date type, date)."""
    return _build(context, warehouse, settings, "emis_ge", build_ge, "date_type")


@asset(group_name=GROUP, deps=SOURCES, pool=WAREHOUSE_POOL)
def emis_fd(
    context: AssetExecutionContext, warehouse: DuckDBResource, settings: SettingsResource
) -> MaterializeResult:
    """FD effective-dated spans (disability condition, Section 504 plan) per enrollment."""
    return _build(context, warehouse, settings, "emis_fd", build_fd, "disability_condition")


@asset(group_name=GROUP, deps=[*SOURCES, AssetKey("emis_ge")], pool=WAREHOUSE_POOL)
def emis_fe(
    context: AssetExecutionContext, warehouse: DuckDBResource, settings: SettingsResource
) -> MaterializeResult:
    """FE graduation-test exemption decisions per assessment area, each matching a GE."""
    return _build(context, warehouse, settings, "emis_fe", build_fe, "exemption")


@asset(group_name=GROUP, deps=SOURCES, pool=WAREHOUSE_POOL)
def emis_gq(
    context: AssetExecutionContext, warehouse: DuckDBResource, settings: SettingsResource
) -> MaterializeResult:
    """GQ program records: one per program code per student enrolled in the range."""
    return _build(context, warehouse, settings, "emis_gq", build_gq, None)


@asset(group_name=GROUP, deps=SOURCES, pool=WAREHOUSE_POOL)
def ohio_pre_id(
    context: AssetExecutionContext, warehouse: DuckDBResource, settings: SettingsResource
) -> MaterializeResult:
    """Ohio state-test Pre-ID rows as of today: students with an IEP, 504 plan or EL plan."""
    return _build(context, warehouse, settings, "ohio_pre_id", build_pre_id, "plan_type")


@asset(
    group_name=GROUP,
    deps=[AssetKey(name) for name in RECORD_ASSETS],
    pool=WAREHOUSE_POOL,
)
def emis_reconciliation(
    context: AssetExecutionContext, warehouse: DuckDBResource, settings: SettingsResource
) -> MaterializeResult:
    """Per record, whether Campus will keep or drop it and why: the answer to "why is my
    record missing in Campus" for district staff."""
    with connect(warehouse) as conn:
        request = read_request(conn) or default_request(district_today(settings.load().timezone))
        rows = replace_table(conn, "emis_reconciliation", build_reconciliation(conn, request))
        reasons = counts_by(conn, "emis_reconciliation", "coalesce(reason, 'kept')")
    context.log.info(f"reconciled {rows} records: {reasons}")
    return MaterializeResult(
        metadata={"rows": rows, **{f"records_{k.replace(' ', '_')}": v for k, v in reasons.items()}}
    )


@asset(
    group_name=GROUP,
    deps=[*(AssetKey(name) for name in RECORD_ASSETS), AssetKey("emis_reconciliation")],
    pool=WAREHOUSE_POOL,
)
def report_snapshot(
    context: AssetExecutionContext, warehouse: DuckDBResource, settings: SettingsResource
) -> MaterializeResult:
    """The immutable DuckDB snapshot the reporting API serves, switched in atomically after
    the blocking EMIS checks pass."""
    current = settings.load()
    with connect(warehouse) as conn:
        request = read_request(conn)
        published = publish_snapshot(
            conn, current.home, request_summary=request.summary() if request else None
        )
    context.log.info(f"published {published.path.name}; pruned {published.pruned} older snapshots")
    return MaterializeResult(
        metadata={
            "file": published.path.name,
            "pruned": published.pruned,
            **{f"rows_{table}": count for table, count in published.row_counts.items()},
        }
    )


emis_assets: list[AssetsDefinition] = [
    emis_ge,
    emis_fd,
    emis_fe,
    emis_gq,
    ohio_pre_id,
    emis_reconciliation,
    report_snapshot,
]

# For the nightly job, after the roster, the links and the plan documents.
nightly_emis_selection = AssetSelection.groups(GROUP)
