"""GE, the Student Special Education Record: one record per special-education event.

Rules (SQL in `emis/sql/ge_events.sql`):

- events come from completed special-education documents (ETRs, IEPs, transfers, amendments)
  and the referral and consent dates an ETR records, each with its date type (`code_lists`);
- the key is (EMIS Student ID, date type, date): several completed versions on one key give one
  record, from the latest completed version;
- the date falls in the request's window, and the student is enrolled at least one day of it;
  with `pull_prior`, a student admitted after the start also reports the most recent
  evaluation and plan before it (IC-GE R1.BR1; fault E5);
- outcome, non-compliance (only when a federal timeline was missed), outcome dates, IEP test
  type, secondary planning and extended school year where they apply, else the state's fills.
"""

from __future__ import annotations

import duckdb

from sg_pipelines.emis import code_lists as codes
from sg_pipelines.emis.ranges import ReportRequest
from sg_pipelines.emis.records.query import compose, relation, request_parameters

ORDER = "emis_student_id, event_date, date_type"

GE_CTES = ("scope.sql", "ge_events.sql")


def ge_parameters(request: ReportRequest) -> dict[str, object]:
    """Request and code-list parameters of the GE events (FE uses them too)."""
    test_types = codes.IEP_TEST_TYPES
    return {
        **request_parameters(request),
        "document_types": list(codes.DOCUMENT_DATE_TYPES),
        "date_types": list(codes.DOCUMENT_DATE_TYPES.values()),
        "prior_evaluations": list(codes.PRIOR_EVALUATION_DATE_TYPES),
        "prior_plans": list(codes.PRIOR_PLAN_DATE_TYPES),
        "initial_days": codes.INITIAL_EVALUATION_DAYS,
        "reevaluation_years": codes.REEVALUATION_YEARS,
        "evaluation_outcomes": codes.valid(codes.EVALUATION_OUTCOMES),
        "consent_outcomes": codes.valid(codes.CONSENT_OUTCOMES),
        "placement_outcomes": codes.valid(codes.PLACEMENT_OUTCOMES),
        "iep_outcomes": codes.valid(codes.IEP_OUTCOMES),
        "non_compliance_ids": list(codes.NON_COMPLIANCE_IDS),
        "test_type_keys": list(test_types),
        "test_type_codes": [entry.code for entry in test_types.values()],
        "secondary_pattern": codes.SECONDARY_PLANNING_PATTERN,
    }


def build_ge(conn: duckdb.DuckDBPyConnection, request: ReportRequest) -> duckdb.DuckDBPyRelation:
    """The GE records for a request."""
    return relation(
        conn, compose(*GE_CTES, "ge.sql"), ge_parameters(request), request, order_by=ORDER
    )
