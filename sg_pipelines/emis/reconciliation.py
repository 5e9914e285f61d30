"""Reconciliation: per record, whether Campus will keep or drop it, and why.

Reasons this system can see: the student is not linked to Campus, has no EMIS Student ID
Campus can match, is inactive in Campus (Pre-ID), or the record's date falls outside every
enrollment. Campus also drops records of state-excluded enrollments, grades, calendars and
schools; it does not tell partners which, so `state_exclusion` is always `unknown`.
"""

from __future__ import annotations

import duckdb

from sg_pipelines.emis.ranges import ReportRequest
from sg_pipelines.emis.records.query import compose, relation, request_parameters

ORDER = "record_type, emis_student_id NULLS LAST, plan_student_id, record_key"

CAMPUS_WILL = ("keep", "drop")


def build_reconciliation(
    conn: duckdb.DuckDBPyConnection, request: ReportRequest
) -> duckdb.DuckDBPyRelation:
    """Reconcile the record tables in `conn` (`emis_ge`, ..., `ohio_pre_id`) for a request."""
    sql = compose("scope.sql", "reconciliation.sql")
    return relation(conn, sql, request_parameters(request), request, order_by=ORDER, narrow=False)
