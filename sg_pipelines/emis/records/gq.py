"""GQ, the Student Program Record (SQL: `emis/sql/gq.sql`).

One record per program code per student enrolled at least one day of the window, for codes
active at least one day of it. Codes come from completed start documents
(`fields.program_codes`, the codes the plan team chose); a code runs from the document's
effective day to its effective end or the program's next exit. Duplicate codes and
overlapping spans never report twice (IC-GQ R1, R3.BR2; fault E1), and a student who withdrew
still reports the programs of the days enrolled (IC-GQ R3.BR1).
"""

from __future__ import annotations

import duckdb

from sg_pipelines.emis.ranges import ReportRequest
from sg_pipelines.emis.records.query import compose, relation, request_parameters
from sg_pipelines.emis.records.rules import rule_parameters

ORDER = "emis_student_id, program_code"


def build_gq(conn: duckdb.DuckDBPyConnection, request: ReportRequest) -> duckdb.DuckDBPyRelation:
    """The GQ records for a request."""
    parameters = {**request_parameters(request), **rule_parameters()}
    return relation(conn, compose("scope.sql", "gq.sql"), parameters, request, order_by=ORDER)
