"""The plan system's students as they stand before the first Campus sync, for the demo.

Given the roster students the sandbox will serve, `seed_demo` pre-creates the picture a real
district starts from: most students are not in the plan system yet; about 15% came from an older
integration with no Internal SIS Student Id (most matching by EMIS Student ID, some only by state
or local id); about 2% already carry their sourcedId; and a few are the hard cases linking must
send to review or re-key.
"""

from __future__ import annotations

import logging
import random
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sg_pipelines.appdb.gateway import AppDatabase
from sg_pipelines.appdb.records import NewStudent, normalize_emis_student_id
from sg_pipelines.roster.models import strict_date

logger = logging.getLogger(__name__)

SEED_ACTOR = "demo-seed"

WITH_SOURCED_ID_SHARE = 0.02
OLDER_INTEGRATION_SHARE = 0.15
# how the older integration's students split by the only key they carry
OLDER_BY_STATE_ID_SHARE = 0.15
OLDER_BY_LOCAL_ID_SHARE = 0.15
# each kind of hard case gets one per this many roster students, at least one, at most five
HARD_CASE_EVERY = 200
HARD_CASE_MAX = 5

RosterRow = Mapping[str, Any]


@dataclass(frozen=True)
class SeedSummary:
    """How many plan students of each kind the seed created, per roster student."""

    roster_students: int = 0
    plan_students: int = 0
    with_sourced_id: int = 0
    older_by_emis_student_id: int = 0
    older_by_state_id: int = 0
    older_by_local_id: int = 0
    shared_emis_student_id: int = 0
    stale_sourced_id: int = 0
    name_and_birth_date_only: int = 0
    not_created: int = 0
    skipped: bool = False


@dataclass
class _Case:
    name: str
    quota: int
    accepts: Callable[[RosterRow], bool]
    rows: list[RosterRow] = field(default_factory=list)


def _has(*keys: str) -> Callable[[RosterRow], bool]:
    return lambda row: all(row.get(key) for key in keys)


def _ignore_warning(field: str, reason: str) -> None:
    """The seed keeps an unreadable birth date as unknown; the roster sync warns about it."""


def iso_birth_date(value: Any) -> str | None:
    """A birth date as the roster reads it: ISO `YYYY-MM-DD`, or unknown (None) in any other form.

    Campus data holds dates in other orders (`03/14/2012`); those are never reinterpreted.
    """
    if isinstance(value, date):
        return value.isoformat()
    return strict_date(value, "birthDate", _ignore_warning)


def _has_birth_date(row: RosterRow) -> bool:
    return iso_birth_date(row.get("birth_date")) is not None


def _plan_student(row: RosterRow, **overrides: Any) -> NewStudent:
    """A plan student holding the roster row's values, minus whatever the case leaves out."""
    birth_date = iso_birth_date(row.get("birth_date"))
    values = {
        "first_name": row["given_name"],
        "last_name": row["family_name"],
        "emis_student_id": normalize_emis_student_id(row.get("emis_student_id")),
        "state_id": row.get("state_id") or None,
        "local_id": row.get("local_id") or None,
        "birth_date": date.fromisoformat(birth_date) if birth_date else None,
        "building_irn": row.get("building_irn"),
        "grade": row.get("grade"),
    }
    return NewStudent(**{**values, **overrides})


def seed_demo(app_db: AppDatabase, students: Sequence[RosterRow], seed: int = 7) -> SeedSummary:
    """Create the plan system's existing students for the given roster; deterministic per seed.

    Does nothing (and says so) when the app database already holds students.
    """
    if app_db.student_count():
        logger.info("app database already holds students; demo seed skipped")
        return SeedSummary(roster_students=len(students), skipped=True)

    # shuffle a stable order, so the same roster and seed always give the same picture
    rng = random.Random(seed)
    rows = sorted(students, key=lambda row: row["sourced_id"])
    rng.shuffle(rows)

    count = len(rows)
    older = round(count * OLDER_INTEGRATION_SHARE)
    older_by_state_id = round(older * OLDER_BY_STATE_ID_SHARE)
    older_by_local_id = round(older * OLDER_BY_LOCAL_ID_SHARE)
    hard = min(HARD_CASE_MAX, max(1, count // HARD_CASE_EVERY))
    cases = [
        _Case("shared_emis_student_id", hard, _has("emis_student_id")),
        _Case("stale_sourced_id", hard, _has("emis_student_id")),
        _Case("name_and_birth_date_only", hard, _has_birth_date),
        _Case("with_sourced_id", round(count * WITH_SOURCED_ID_SHARE), _has("sourced_id")),
        _Case("older_by_state_id", older_by_state_id, _has("state_id")),
        _Case("older_by_local_id", older_by_local_id, _has("local_id")),
        _Case(
            "older_by_emis_student_id",
            older - older_by_state_id - older_by_local_id,
            _has("emis_student_id"),
        ),
    ]

    # deal the shuffled rows out to the cases; the rest stay new to the plan system
    not_created = 0
    for row in rows:
        case = next(
            (case for case in cases if len(case.rows) < case.quota and case.accepts(row)), None
        )
        if case is None:
            not_created += 1
        else:
            case.rows.append(row)

    by_name = {case.name: case.rows for case in cases}
    plan_students: list[NewStudent] = []
    for row in by_name["with_sourced_id"]:
        plan_students.append(_plan_student(row, internal_sis_student_id=row["sourced_id"]))
    for row in by_name["older_by_emis_student_id"]:
        plan_students.append(_plan_student(row))
    for row in by_name["older_by_state_id"]:
        plan_students.append(_plan_student(row, emis_student_id=None, local_id=None))
    for row in by_name["older_by_local_id"]:
        plan_students.append(_plan_student(row, emis_student_id=None, state_id=None))
    for row in by_name["shared_emis_student_id"]:
        # a duplicate record from the older integration: two students, one EMIS Student ID
        plan_students.append(_plan_student(row, state_id=None, local_id=None))
        plan_students.append(_plan_student(row, state_id=None, local_id=None, grade=None))
    for row in by_name["stale_sourced_id"]:
        # Campus reset this student's id: the plan system still holds the old sourcedId
        old_sourced_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        plan_students.append(_plan_student(row, internal_sis_student_id=old_sourced_id))
    for row in by_name["name_and_birth_date_only"]:
        plan_students.append(_plan_student(row, emis_student_id=None, state_id=None, local_id=None))

    with app_db.transaction():
        for student in plan_students:
            app_db.create_student(student, actor=SEED_ACTOR)

    summary = SeedSummary(
        roster_students=count,
        plan_students=len(plan_students),
        not_created=not_created,
        **{name: len(case_rows) for name, case_rows in by_name.items()},
    )
    logger.info(
        "demo seed created %d plan students for %d roster students (%d left to create)",
        summary.plan_students,
        count,
        not_created,
    )
    return summary


def roster_rows_from_oneroster_users(
    users: Sequence[Mapping[str, Any]],
    orgs: Sequence[Mapping[str, Any]],
    demographics: Sequence[Mapping[str, Any]] = (),
) -> list[dict[str, Any]]:
    """Roster rows for `seed_demo` from OneRoster 1.2 JSON, so the seed needs no warehouse.

    Takes active students (a role `student`); the EMIS Student ID and state id come from
    `metadata.ic`, the local id from `identifier`, the building IRN from the school's
    `identifier`, and the birth date from the matching demographics record when one is given
    and reads as `YYYY-MM-DD`.
    """
    org_identifiers = {org["sourcedId"]: org.get("identifier") for org in orgs}
    # a birth date in any form but YYYY-MM-DD is unknown, as the roster keeps it
    birth_dates = {
        record["sourcedId"]: iso_birth_date(record.get("birthDate")) for record in demographics
    }

    rows = []
    for user in users:
        student_roles = [role for role in user.get("roles", []) if role.get("role") == "student"]
        if not student_roles or user.get("status", "active") == "tobedeleted":
            continue

        primary = next(
            (role for role in student_roles if role.get("roleType") == "primary"),
            student_roles[0],
        )
        school_sourced_id = (primary.get("org") or user.get("primaryOrg") or {}).get("sourcedId")
        ic = (user.get("metadata") or {}).get("ic") or {}
        grades = user.get("grades") or []
        rows.append(
            {
                "sourced_id": user["sourcedId"],
                "emis_student_id": normalize_emis_student_id(ic.get("emisStudentId")),
                "state_id": ic.get("stateId") or None,
                "local_id": user.get("identifier") or None,
                "given_name": user.get("givenName") or "",
                "family_name": user.get("familyName") or "",
                "birth_date": birth_dates.get(user["sourcedId"]),
                "building_irn": org_identifiers.get(school_sourced_id),
                "grade": grades[0] if grades else None,
            }
        )
    return rows
