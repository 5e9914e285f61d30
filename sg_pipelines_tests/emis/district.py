"""A generated district in a real warehouse and app database, without the HTTP sync.

The sandbox generator's OneRoster records become the roster tables directly; the plan system is
seeded the way the demo seeds it, the real linking run writes `student_links` and creates the
remaining plan students, the plan generator writes their documents, and the real snapshot
function copies them into the warehouse. Used by the asset tests and the benchmark.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd

from sg_pipelines.appdb import AppDatabase
from sg_pipelines.appdb.records import normalize_emis_student_id
from sg_pipelines.appdb.seed import roster_rows_from_oneroster_users, seed_demo
from sg_pipelines.identity.run import link_roster_students
from sg_pipelines.programs.documents import write_plan_documents_snapshot
from sg_pipelines.roster.derived import ensure_derived_schema
from sg_pipelines.sandbox.generator import current_school_year, generate_district
from sg_pipelines.sandbox.plans import generate_plan_documents
from sg_pipelines.warehouse import connect

ENROLLMENT_PERIODS_SQL = """
INSERT INTO roster_enrollment_periods
SELECT student_sourced_id, school_sourced_id, any_value(building_irn), min(begin_date),
    max(end_date), true
FROM enrollment_frame
GROUP BY student_sourced_id, school_sourced_id
"""


@dataclass(frozen=True)
class BuiltDistrict:
    warehouse: Path
    app_database_url: str
    students: int
    plan_documents: int
    seconds: float


def build_district(directory: Path, students: int, *, seed: int = 7, today: date) -> BuiltDistrict:
    """Write `warehouse.duckdb` and `app.sqlite` for a generated district into `directory`."""
    started = time.monotonic()
    district = generate_district(students, seed=seed, school_year=current_school_year(today))
    orgs = district.collection("orgs")
    irns = {org["sourcedId"]: org.get("identifier") for org in orgs}
    users = district.collection("users")
    roster = roster_rows_from_oneroster_users(users, orgs, district.collection("demographics"))

    # the roster tables, from the OneRoster records
    student_rows = [
        {
            "sourced_id": user["sourcedId"],
            "is_active": user.get("enabledUser") == "true",
            "emis_student_id": normalize_emis_student_id(
                (user.get("metadata") or {}).get("ic", {}).get("emisStudentId")
            ),
            "building_irn": irns.get((user.get("primaryOrg") or {}).get("sourcedId")),
            "grade": (user.get("grades") or [None])[0],
        }
        for user in users
        if any(role.get("role") == "student" for role in user.get("roles", []))
    ]
    enrollment_rows = [
        {
            "student_sourced_id": record["user"]["sourcedId"],
            "school_sourced_id": record["school"]["sourcedId"],
            "building_irn": irns.get(record["school"]["sourcedId"]),
            "begin_date": date.fromisoformat(record["beginDate"]),
            "end_date": date.fromisoformat(record["endDate"]) if record.get("endDate") else None,
        }
        for record in district.collection("enrollments")
        if record.get("role") == "student"
    ]
    warehouse = directory / "warehouse.duckdb"
    app_database_url = f"sqlite:///{directory / 'app.sqlite'}"
    with connect(warehouse) as conn:
        ensure_derived_schema(conn)
        conn.register("student_frame", pd.DataFrame(student_rows))
        conn.execute(
            "INSERT INTO roster_students BY NAME SELECT sourced_id, is_active, "
            "emis_student_id, building_irn, grade FROM student_frame"
        )
        conn.register("enrollment_frame", pd.DataFrame(enrollment_rows))
        conn.execute(ENROLLMENT_PERIODS_SQL)

        # the plan system: seeded, linked (which creates the rest), then its documents
        with AppDatabase(app_database_url) as app_db:
            seed_demo(app_db, roster, seed=seed)
            link_roster_students(conn, app_db, run_id="emis-fixture")
            generate_plan_documents(app_db, seed=seed, today=today)
            sourced_ids = {s.id: s.internal_sis_student_id for s in app_db.students()}
            documents = list(app_db.documents.iter_all(with_sections=False))
        write_plan_documents_snapshot(conn, documents, sourced_ids)

    return BuiltDistrict(
        warehouse, app_database_url, len(student_rows), len(documents), time.monotonic() - started
    )


def table_count(warehouse: Path, table: str) -> int:
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        [(count,)] = conn.execute(f"SELECT count(*) FROM {table}").fetchall()
    return count
