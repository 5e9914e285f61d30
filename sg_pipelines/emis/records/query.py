"""Assembling a record query from the SQL files and binding only the parameters it uses."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import duckdb

from sg_pipelines.emis.ranges import ReportRequest

SQL_DIR = Path(__file__).parent.parent / "sql"
_PARAMETER = re.compile(r"\$([a-z_]+)")
_COMMENT = re.compile(r"--[^\n]*")


@cache
def read_sql(name: str) -> str:
    """A file of `emis/sql/`, comments removed (they hold `$` and commas in prose)."""
    return _COMMENT.sub("", (SQL_DIR / name).read_text(encoding="utf-8")).strip()


def compose(*names: str) -> str:
    """One query from SQL files in order: CTE lists, the last one ending in its `SELECT`."""
    query = "WITH " + read_sql(names[0])
    for name in names[1:]:
        part = read_sql(name)
        query += ("\n" if part.upper().startswith("SELECT") else ",\n") + part
    return query


def request_parameters(request: ReportRequest) -> dict[str, Any]:
    """The parameters every record query may use, from the request."""
    start, end = request.window
    return {
        "fiscal_year": request.fiscal_year,
        "start_date": start,
        "end_date": end,
        "pull_prior": request.pull_prior,
        "include_inactive": request.include_inactive,
    }


def relation(
    conn: duckdb.DuckDBPyConnection,
    sql: str,
    parameters: dict[str, Any],
    request: ReportRequest,
    *,
    order_by: str,
    narrow: bool = True,
) -> duckdb.DuckDBPyRelation:
    """The query as a relation in a stable order, narrowed to the request's building and
    students (`narrow`)."""
    if not narrow:
        ordered = f"SELECT * FROM ({sql}) AS records ORDER BY {order_by}"
        return conn.sql(ordered, params=_bound(ordered, parameters))
    wrapped = (
        f"SELECT * FROM ({sql}) AS records "
        "WHERE ($building_irn::VARCHAR IS NULL OR building_irn = $building_irn::VARCHAR) "
        "AND ($emis_student_ids::VARCHAR[] IS NULL "
        "OR list_contains($emis_student_ids::VARCHAR[], emis_student_id)) "
        f"ORDER BY {order_by}"
    )
    parameters = {
        **parameters,
        "building_irn": request.building_irn,
        "emis_student_ids": list(request.emis_student_ids)
        if request.emis_student_ids is not None
        else None,
    }
    return conn.sql(wrapped, params=_bound(wrapped, parameters))


def _bound(sql: str, parameters: dict[str, Any]) -> dict[str, Any]:
    """Only the parameters the query names: DuckDB refuses extra ones."""
    used = set(_PARAMETER.findall(sql))
    missing = used - parameters.keys()
    if missing:
        raise KeyError(f"record query needs parameters {sorted(missing)}")
    return {name: value for name, value in parameters.items() if name in used}
