"""The record builders: pure functions of a warehouse (or snapshot) connection and a request.

Each `build_*` returns a DuckDB relation over the tables `plan_documents`, `roster_students`,
`roster_enrollment_periods` and `student_links`, so the reporting API can page, sort and
render it, and the Dagster assets can write it to a table. The SQL lives in `emis/sql/`: a
shared scope (linked students, completed documents, enrollments) and one query per record;
the code lists reach it as parameters.
"""

from sg_pipelines.emis.records.fd import build_fd
from sg_pipelines.emis.records.fe import build_fe
from sg_pipelines.emis.records.ge import build_ge
from sg_pipelines.emis.records.gq import build_gq
from sg_pipelines.emis.records.pre_id import build_pre_id

BUILDERS = {
    "emis_ge": build_ge,
    "emis_fd": build_fd,
    "emis_fe": build_fe,
    "emis_gq": build_gq,
    "ohio_pre_id": build_pre_id,
}

__all__ = ["BUILDERS", "build_fd", "build_fe", "build_ge", "build_gq", "build_pre_id"]
