"""FE, the Special Education Graduation Requirement Record (SQL: `emis/sql/fe.sql`).

One record per graduation-test exemption decision per assessment area made in an IEP: granted
for each area the IEP exempts, removed for an area the student's previous IEP exempted and this
one does not. Built from the GE records, so each FE matches a GE on date type and date
(FE-DOC); the graduate period (G) reports FE without GE, which the FE-GE check allows.
"""

from __future__ import annotations

import duckdb

from sg_pipelines.emis import code_lists as codes
from sg_pipelines.emis.ranges import ReportRequest
from sg_pipelines.emis.records.ge import GE_CTES, ge_parameters
from sg_pipelines.emis.records.query import compose, relation

ORDER = "emis_student_id, event_date, date_type, assessment_area"


def build_fe(conn: duckdb.DuckDBPyConnection, request: ReportRequest) -> duckdb.DuckDBPyRelation:
    """The FE records for a request."""
    areas = codes.GRADUATION_ASSESSMENT_AREAS
    parameters = {
        **ge_parameters(request),
        "area_keys": list(areas),
        "area_codes": [entry.code for entry in areas.values()],
        "granted": codes.EXEMPTION_GRANTED,
        "removed": codes.EXEMPTION_REMOVED,
    }
    return relation(conn, compose(*GE_CTES, "fe.sql"), parameters, request, order_by=ORDER)
