from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest

from sg_pipelines.appdb import AppDatabase

ROSTER_STUDENTS_DDL = """
CREATE OR REPLACE TABLE roster_students (
    sourced_id VARCHAR PRIMARY KEY, is_active BOOLEAN, given_name VARCHAR, family_name VARCHAR,
    middle_name VARCHAR, preferred_first_name VARCHAR, preferred_last_name VARCHAR,
    birth_date DATE, sex VARCHAR, emis_student_id VARCHAR(9), state_id VARCHAR, local_id VARCHAR,
    school_sourced_id VARCHAR, building_irn VARCHAR, grade VARCHAR, email VARCHAR,
    demographics_stale BOOLEAN, date_last_modified TIMESTAMPTZ, deactivated_at TIMESTAMPTZ
)
"""
ROSTER_GUARDIANS_DDL = """
CREATE OR REPLACE TABLE roster_guardians (
    student_sourced_id VARCHAR, contact_sourced_id VARCHAR, relationship VARCHAR, role VARCHAR,
    given_name VARCHAR, family_name VARCHAR, email VARCHAR, phone VARCHAR, is_active BOOLEAN
)
"""
STUDENT_COLUMNS = (
    "sourced_id",
    "is_active",
    "given_name",
    "family_name",
    "birth_date",
    "emis_student_id",
    "state_id",
    "local_id",
    "building_irn",
    "grade",
)
GUARDIAN_COLUMNS = (
    "student_sourced_id",
    "contact_sourced_id",
    "relationship",
    "role",
    "given_name",
    "family_name",
    "email",
    "phone",
    "is_active",
)


def roster_student(number: int, **overrides: Any) -> dict[str, Any]:
    """A roster student whose keys all derive from `number`."""
    return {
        "sourced_id": f"sourced-{number:04d}",
        "is_active": True,
        "given_name": f"Given{number}",
        "family_name": f"Family{number}",
        "birth_date": date(2012, 1, 1 + number % 28),
        "emis_student_id": f"{number:09d}",
        "state_id": f"ST{number:05d}",
        "local_id": f"L{number:05d}",
        "building_irn": "012345",
        "grade": "05",
        **overrides,
    }


def guardian(student_number: int, contact: str, **overrides: Any) -> dict[str, Any]:
    return {
        "student_sourced_id": f"sourced-{student_number:04d}",
        "contact_sourced_id": contact,
        "relationship": "guardian",
        "role": "parent",
        "given_name": "Pat",
        "family_name": "Parent",
        "email": f"{contact}@example.org",
        "phone": "555-0100",
        "is_active": True,
        **overrides,
    }


def write_roster(
    warehouse: Path, students: list[dict[str, Any]], guardians: list[dict[str, Any]] = ()
) -> None:
    """Replace the roster tables in the test warehouse, with the contract's columns."""
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute(ROSTER_STUDENTS_DDL)
        conn.execute(ROSTER_GUARDIANS_DDL)
        for student in students:
            conn.execute(
                f"INSERT INTO roster_students ({', '.join(STUDENT_COLUMNS)}) "
                f"VALUES ({', '.join('?' * len(STUDENT_COLUMNS))})",
                [student[column] for column in STUDENT_COLUMNS],
            )
        for row in guardians:
            conn.execute(
                f"INSERT INTO roster_guardians VALUES ({', '.join('?' * len(GUARDIAN_COLUMNS))})",
                [row[column] for column in GUARDIAN_COLUMNS],
            )


def fetch(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        return conn.execute(sql).fetchall()


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    return tmp_path / "warehouse.duckdb"


@pytest.fixture
def app_db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'app.sqlite'}"


@pytest.fixture
def app_db(app_db_url: str) -> Iterator[AppDatabase]:
    with AppDatabase(app_db_url) as database:
        yield database
