"""Checks in front of the report snapshot: nothing is published unless the blocking ones pass.

Blocking: FD spans are continuous inside each enrollment; every FE has its GE; every EMIS
Student ID is 9 digits; no record rests on a draft or on an unlinked student (E7); one GQ per
student and program code (E1). A warning lists GE events that missed a federal timeline
without a non-compliance reason: the fix is in the ETR, not here.
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

from sg_pipelines.emis.records.query import SQL_DIR
from sg_pipelines.emis.tables import read_request
from sg_pipelines.warehouse import connect

DOCUMENT_COLUMNS = {
    "emis_ge": ("document_id",),
    "emis_fd": ("disability_document_id", "section_504_document_id"),
    "emis_fe": ("document_id",),
    "emis_gq": ("document_id",),
    "ohio_pre_id": ("document_id",),
}


def _sql(name: str, **names: str) -> str:
    text = (SQL_DIR / name).read_text(encoding="utf-8")
    return text.format(**names) if names else text


def _one_row(warehouse: DuckDBResource, sql: str) -> dict[str, int]:
    with connect(warehouse) as conn:
        cursor = conn.execute(sql)
        columns = [column[0] for column in cursor.description]
        [values] = cursor.fetchall()
    return dict(zip(columns, values, strict=True))


@asset_check(asset=AssetKey("emis_fd"), blocking=True)
def emis_fd_continuity(
    context: AssetCheckExecutionContext, warehouse: DuckDBResource
) -> AssetCheckResult:
    """FD spans inside each enrollment have no gaps and no overlaps; only the last is open."""
    found = _one_row(warehouse, _sql("check_fd_continuity.sql"))
    failures = sum(value for key, value in found.items() if key != "spans")
    return AssetCheckResult(passed=failures == 0, severity=AssetCheckSeverity.ERROR, metadata=found)


@asset_check(asset=AssetKey("emis_fe"), blocking=True)
def emis_fe_has_ge(
    context: AssetCheckExecutionContext, warehouse: DuckDBResource
) -> AssetCheckResult:
    """Every FE matches a GE on student, date type and date (not required in period G)."""
    found = _one_row(warehouse, _sql("check_fe_has_ge.sql"))
    with connect(warehouse) as conn:
        request = read_request(conn)
    graduate = request is not None and request.reporting_period == "G"
    return AssetCheckResult(
        passed=graduate or found["without_ge"] == 0,
        severity=AssetCheckSeverity.ERROR,
        metadata={**found, "graduate_period": graduate},
    )


@asset_check(asset=AssetKey("emis_gq"), blocking=True)
def emis_gq_one_per_code(
    context: AssetCheckExecutionContext, warehouse: DuckDBResource
) -> AssetCheckResult:
    """No student reports a program code twice (fault E1)."""
    found = _one_row(warehouse, _sql("check_gq_one_per_code.sql"))
    return AssetCheckResult(
        passed=found["duplicates"] == 0, severity=AssetCheckSeverity.ERROR, metadata=found
    )


@asset_check(asset=AssetKey("emis_ge"), blocking=False)
def emis_ge_missed_timelines_have_a_reason(
    context: AssetCheckExecutionContext, warehouse: DuckDBResource
) -> AssetCheckResult:
    """Warns about GE events past a federal timeline whose ETR records no non-compliance ID."""
    found = _one_row(warehouse, _sql("check_ge_timelines.sql"))
    return AssetCheckResult(
        passed=found["without_reason"] == 0, severity=AssetCheckSeverity.WARN, metadata=found
    )


def _student_id_check(table: str) -> AssetChecksDefinition:
    @asset_check(asset=AssetKey(table), name=f"{table}_emis_student_id_format", blocking=True)
    def check(context: AssetCheckExecutionContext, warehouse: DuckDBResource) -> AssetCheckResult:
        """Every EMIS Student ID is a 9-character string of digits, leading zeros kept."""
        found = _one_row(warehouse, _sql("check_emis_student_id.sql", table=table))
        return AssetCheckResult(
            passed=found["malformed"] == 0, severity=AssetCheckSeverity.ERROR, metadata=found
        )

    return check


def _completed_linked_check(table: str) -> AssetChecksDefinition:
    @asset_check(asset=AssetKey(table), name=f"{table}_completed_and_linked_only", blocking=True)
    def check(context: AssetCheckExecutionContext, warehouse: DuckDBResource) -> AssetCheckResult:
        """No record rests on a draft, an unknown document or an unlinked student (E7)."""
        sql = _sql(
            "check_completed_linked.sql",
            table=table,
            document_columns=", ".join(DOCUMENT_COLUMNS[table]),
        )
        found = _one_row(warehouse, sql)
        failures = sum(value for key, value in found.items() if key != "records")
        return AssetCheckResult(
            passed=failures == 0, severity=AssetCheckSeverity.ERROR, metadata=found
        )

    return check


emis_checks: list[AssetChecksDefinition] = [
    emis_fd_continuity,
    emis_fe_has_ge,
    emis_gq_one_per_code,
    emis_ge_missed_timelines_have_a_reason,
    *(_student_id_check(table) for table in DOCUMENT_COLUMNS),
    *(_completed_linked_check(table) for table in DOCUMENT_COLUMNS),
]
