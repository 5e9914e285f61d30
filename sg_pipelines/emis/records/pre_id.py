"""The Ohio state-test Pre-ID rows (SQL: `emis/sql/pre_id.sql`). Not an EMIS record: the
district uploads the file to TIDE, and Campus pulls our rows into its Pre-ID extract.

One row per student with an IEP, a Section 504 plan or English-learner documentation in effect
on the effective date (the call date by default). With an IEP and a 504 plan both in effect,
one row from the most recent (SG-PREID; fault E4). Accommodations and test type are the plan's
as of the date. Students Campus reports inactive are left out unless the request keeps them,
marked `student_active = false` so Campus can drop them (IC-PREID).
"""

from __future__ import annotations

import duckdb

from sg_pipelines.emis import code_lists as codes
from sg_pipelines.emis.ranges import DEFAULT_TIMEZONE, ReportRequest
from sg_pipelines.emis.records.query import compose, relation, request_parameters
from sg_pipelines.emis.records.rules import rule_parameters

ORDER = "emis_student_id"


def build_pre_id(
    conn: duckdb.DuckDBPyConnection,
    request: ReportRequest,
    *,
    timezone: str = DEFAULT_TIMEZONE,
) -> duckdb.DuckDBPyRelation:
    """The Pre-ID rows for a request, as of `request.effective_date` (else today in `timezone`)."""
    test_types = codes.IEP_TEST_TYPES
    parameters = {
        **request_parameters(request),
        **rule_parameters(),
        "effective_date": request.pre_id_date(timezone),
        "test_type_keys": list(test_types),
        "test_type_codes": [entry.code for entry in test_types.values()],
    }
    return relation(conn, compose("scope.sql", "pre_id.sql"), parameters, request, order_by=ORDER)
