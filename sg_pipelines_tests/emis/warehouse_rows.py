"""A small warehouse written row by row: the four tables the EMIS builders read.

`Warehouse` keeps students, enrollments and documents in lists and writes them to a DuckDB
file or connection with the contract's columns (docs/warehouse.md), so each rule test states
only the rows that matter to it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import duckdb

from sg_pipelines.programs.documents import SQL_DIR as PROGRAM_SQL
from sg_pipelines.warehouse import prepare

BUILDING = "012345"
OTHER_BUILDING = "054321"

TABLES_DDL = """
CREATE OR REPLACE TABLE roster_students (
    sourced_id VARCHAR, is_active BOOLEAN, given_name VARCHAR, family_name VARCHAR,
    middle_name VARCHAR, preferred_first_name VARCHAR, preferred_last_name VARCHAR,
    birth_date DATE, sex VARCHAR, emis_student_id VARCHAR(9), state_id VARCHAR, local_id VARCHAR,
    school_sourced_id VARCHAR, building_irn VARCHAR, grade VARCHAR, email VARCHAR,
    demographics_stale BOOLEAN, date_last_modified TIMESTAMPTZ, deactivated_at TIMESTAMPTZ
);
CREATE OR REPLACE TABLE roster_enrollment_periods (
    student_sourced_id VARCHAR, school_sourced_id VARCHAR, building_irn VARCHAR,
    begin_date DATE, end_date DATE, is_active BOOLEAN
);
CREATE OR REPLACE TABLE student_links (
    plan_student_id BIGINT NOT NULL, sourced_id VARCHAR NOT NULL, matched_by VARCHAR NOT NULL,
    linked_at TIMESTAMPTZ NOT NULL, previous_sourced_id VARCHAR
);
DROP TABLE IF EXISTS plan_documents;
"""


def at(day: date, hour: int = 16) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


@dataclass
class Warehouse:
    """Rows for the four tables; `write` puts them in a database."""

    students: list[tuple] = field(default_factory=list)
    enrollments: list[tuple] = field(default_factory=list)
    links: list[tuple] = field(default_factory=list)
    documents: list[tuple] = field(default_factory=list)
    next_document_id: int = 1

    def student(
        self,
        number: int,
        *,
        linked: bool = True,
        active: bool = True,
        emis_student_id: str | None = None,
        building: str = BUILDING,
        enrolled: tuple[date, date | None] | None = (date(2025, 8, 20), None),
    ) -> int:
        """A roster student `sourced-N` (EMIS id N, 9 digits) and plan student N; returns N."""
        sourced_id = f"sourced-{number}"
        emis = f"{number:09d}" if emis_student_id is None else emis_student_id
        self.students.append((sourced_id, active, emis, building))
        if linked:
            self.links.append((number, sourced_id))
        if enrolled:
            self.enroll(number, *enrolled, building=building)
        return number

    def enroll(
        self, number: int, begin: date, end: date | None, *, building: str = BUILDING
    ) -> None:
        """An enrollment span; `end` exclusive, as roster_enrollment_periods has it."""
        self.enrollments.append((f"sourced-{number}", building, begin, end))

    def document(
        self,
        student: int,
        document_type: str,
        meeting: date,
        *,
        program: str = "special_education",
        status: str = "completed",
        completed: datetime | None = None,
        effective_start: date | None = None,
        effective_end: date | None = None,
        amends: int | None = None,
        **fields: Any,
    ) -> int:
        """A plan document; completed the meeting day unless said otherwise; returns its id."""
        document_id = self.next_document_id
        self.next_document_id += 1
        completed_at = None if status == "draft" else completed or at(meeting)
        self.documents.append(
            (
                document_id,
                student,
                program,
                document_type,
                status,
                completed_at,
                meeting,
                effective_start or meeting,
                effective_end,
                amends,
                json.dumps(fields, default=str),
                f"sourced-{student}" if any(link[0] == student for link in self.links) else None,
            )
        )
        return document_id

    def write(self, conn: duckdb.DuckDBPyConnection) -> None:
        prepare(conn)
        conn.execute(TABLES_DDL)
        conn.execute((PROGRAM_SQL / "plan_documents.sql").read_text(encoding="utf-8"))
        for sourced_id, active, emis, building in self.students:
            conn.execute(
                "INSERT INTO roster_students (sourced_id, is_active, emis_student_id, "
                "building_irn) VALUES (?, ?, ?, ?)",
                [sourced_id, active, emis, building],
            )
        for row in self.enrollments:
            conn.execute(
                "INSERT INTO roster_enrollment_periods VALUES (?, 'school', ?, ?, ?, true)",
                list(row),
            )
        for plan_student_id, sourced_id in self.links:
            conn.execute(
                "INSERT INTO student_links VALUES (?, ?, 'internal_sis_id', now(), NULL)",
                [plan_student_id, sourced_id],
            )
        for row in self.documents:
            conn.execute(
                "INSERT INTO plan_documents (id, student_id, program, document_type, status, "
                "completed_at, meeting_date, effective_start, effective_end, amends_document_id, "
                "fields, sourced_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::JSON, ?)",
                list(row),
            )

    def connect(self) -> duckdb.DuckDBPyConnection:
        """An in-memory database holding these rows."""
        conn = duckdb.connect()
        self.write(conn)
        return conn


def rows(relation: duckdb.DuckDBPyRelation, *columns: str) -> list[tuple]:
    """The relation's rows, projected to `columns` (all when none)."""
    if columns:
        relation = relation.select(", ".join(columns))
    return relation.fetchall()
