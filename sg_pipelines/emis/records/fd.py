"""FD, the Student Attributes - Effective Date Record (SQL: `emis/sql/fd.sql`).

Effective-dated spans per student within each enrollment that overlaps the window, for
students with special-education or Section 504 documents. This system owns two attributes:
the disability condition, from the latest evaluation team report in effect (`**` without an
eligible one), and the Section 504 plan indicator. A new span opens when either changes, and
the previous one closes the day before; spans have no gaps and no overlaps inside an
enrollment. The other FD fields (attendance pattern, disadvantagement, ...) belong to Campus
and stay null: the API may render them as `@`, "unknown, keep the SIS value".
"""

from __future__ import annotations

import duckdb

from sg_pipelines.emis import code_lists as codes
from sg_pipelines.emis.ranges import ReportRequest
from sg_pipelines.emis.records.query import compose, relation, request_parameters

ORDER = "emis_student_id, enrollment_begin_date, effective_start_date"

# FD fields Campus owns: null here, `@` when the caller asks for unknowns to be marked.
SIS_OWNED_COLUMNS = (
    "attendance_pattern_override",
    "disadvantagement",
    "foreign_exchange_grad_plan",
    "immigrant_status",
)


def build_fd(conn: duckdb.DuckDBPyConnection, request: ReportRequest) -> duckdb.DuckDBPyRelation:
    """The FD spans for a request."""
    parameters = {
        **request_parameters(request),
        "ineligible_outcomes": list(codes.INELIGIBLE_OUTCOMES),
        "disability_codes": list(codes.DISABILITY_CONDITIONS),
        "yes": codes.SECTION_504_YES,
        "no": codes.SECTION_504_NO,
    }
    return relation(conn, compose("scope.sql", "fd.sql"), parameters, request, order_by=ORDER)
