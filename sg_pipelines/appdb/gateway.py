"""The app-database gateway: one class that every writer (web app, CLI, pipeline) goes through.

SQL stays inside this module, so moving to Postgres means a second connection factory in `url.py`
and a placeholder style here, nothing in the callers. Writes that belong together run inside
`transaction()`; a failure anywhere inside rolls all of them back.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime
from types import TracebackType
from typing import Any, Self

from sg_pipelines.appdb.documents import PlanDocuments
from sg_pipelines.appdb.migrate import current_version, migrate
from sg_pipelines.appdb.records import (
    UPDATABLE_STUDENT_FIELDS,
    AuditEntry,
    Contact,
    NewStudent,
    PlanStudent,
)
from sg_pipelines.appdb.url import open_connection

logger = logging.getLogger(__name__)

STUDENT_COLUMNS = (
    "id, internal_sis_student_id, emis_student_id, state_id, local_id, first_name, last_name, "
    "birth_date, building_irn, grade, active"
)
CONTACT_COLUMNS = "external_id, relationship, first_name, last_name, email, phone"


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _date_text(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _student(row: sqlite3.Row) -> PlanStudent:
    return PlanStudent(
        id=row["id"],
        internal_sis_student_id=row["internal_sis_student_id"],
        emis_student_id=row["emis_student_id"],
        state_id=row["state_id"],
        local_id=row["local_id"],
        first_name=row["first_name"],
        last_name=row["last_name"],
        birth_date=date.fromisoformat(row["birth_date"]) if row["birth_date"] else None,
        building_irn=row["building_irn"],
        grade=row["grade"],
        active=bool(row["active"]),
    )


def _contact(row: sqlite3.Row) -> Contact:
    return Contact(
        external_id=row["external_id"],
        relationship=row["relationship"],
        first_name=row["first_name"],
        last_name=row["last_name"],
        email=row["email"],
        phone=row["phone"],
    )


class AppDatabase:
    """The plan system's own database, opened from a URL (`sqlite:////abs/path/app.sqlite`).

    Use as a context manager; the schema is migrated on open unless `migrate=False`.
    """

    def __init__(self, url: str, *, migrate: bool = True) -> None:
        self.url = url
        self._conn = open_connection(url)
        self._in_transaction = False
        if migrate:
            self.migrate()
        self.documents = PlanDocuments(self, self._conn, _now)
        """Plan documents: add, complete, list, latest completed (see `appdb/documents.py`)."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._conn.close()

    # schema

    def migrate(self) -> list[int]:
        """Apply pending migrations; return the versions applied (empty when up to date)."""
        return migrate(self._conn)

    def schema_version(self) -> int:
        return current_version(self._conn)

    # transactions

    @contextmanager
    def transaction(self) -> Iterator[Self]:
        """Run the block's writes as one transaction; nested blocks join the outer one."""
        if self._in_transaction:
            yield self
            return

        self._conn.execute("BEGIN IMMEDIATE")
        self._in_transaction = True
        try:
            yield self
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        else:
            self._conn.execute("COMMIT")
        finally:
            self._in_transaction = False

    # students: reads

    def students(self) -> list[PlanStudent]:
        """Every plan-system student, active or not, by id."""
        rows = self._conn.execute(f"SELECT {STUDENT_COLUMNS} FROM students ORDER BY id")
        return [_student(row) for row in rows]

    def student(self, student_id: int) -> PlanStudent | None:
        row = self._conn.execute(
            f"SELECT {STUDENT_COLUMNS} FROM students WHERE id = ?", (student_id,)
        ).fetchone()
        return _student(row) if row else None

    def find_by_internal_sis_id(self, sourced_id: str) -> PlanStudent | None:
        row = self._conn.execute(
            f"SELECT {STUDENT_COLUMNS} FROM students WHERE internal_sis_student_id = ?",
            (sourced_id,),
        ).fetchone()
        return _student(row) if row else None

    def find_by_emis_student_id(self, emis_student_id: str) -> list[PlanStudent]:
        return self._find_by("emis_student_id", emis_student_id)

    def find_by_state_id(self, state_id: str) -> list[PlanStudent]:
        return self._find_by("state_id", state_id)

    def find_by_local_id(self, local_id: str) -> list[PlanStudent]:
        return self._find_by("local_id", local_id)

    def find_by_name_and_birth_date(
        self, first_name: str, last_name: str, birth_date: date
    ) -> list[PlanStudent]:
        rows = self._conn.execute(
            f"SELECT {STUDENT_COLUMNS} FROM students "
            "WHERE lower(first_name) = lower(?) AND lower(last_name) = lower(?) "
            "AND birth_date = ? ORDER BY id",
            (first_name, last_name, birth_date.isoformat()),
        )
        return [_student(row) for row in rows]

    def _find_by(self, column: str, value: str) -> list[PlanStudent]:
        rows = self._conn.execute(
            f"SELECT {STUDENT_COLUMNS} FROM students WHERE {column} = ? ORDER BY id", (value,)
        )
        return [_student(row) for row in rows]

    # students: writes

    def create_student(
        self, student: NewStudent, contacts: Iterable[Contact] = (), *, actor: str
    ) -> int:
        """Create a student with their contacts; return the new id. Audited."""
        now = _now()
        with self.transaction():
            cursor = self._conn.execute(
                "INSERT INTO students (internal_sis_student_id, emis_student_id, state_id, "
                "local_id, first_name, last_name, birth_date, building_irn, grade, active, "
                "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    student.internal_sis_student_id,
                    student.emis_student_id,
                    student.state_id,
                    student.local_id,
                    student.first_name,
                    student.last_name,
                    _date_text(student.birth_date),
                    student.building_irn,
                    student.grade,
                    int(student.active),
                    now,
                    now,
                ),
            )
            student_id = int(cursor.lastrowid)
            contact_count = self.upsert_contacts(student_id, contacts, actor=actor, audit=False)
            self.audit(
                "student.created",
                "student",
                student_id,
                actor=actor,
                detail={"contacts": contact_count},
            )
        return student_id

    def set_internal_sis_id(
        self,
        student_id: int,
        sourced_id: str,
        *,
        actor: str,
        detail: Mapping[str, Any] | None = None,
    ) -> None:
        """Write a Campus sourcedId back as the student's Internal SIS Student Id. Audited.

        Replacing an id the student already had is a re-key and is audited as one.
        """
        with self.transaction():
            previous = self._conn.execute(
                "SELECT internal_sis_student_id FROM students WHERE id = ?", (student_id,)
            ).fetchone()
            if previous is None:
                raise LookupError(f"plan student {student_id} does not exist")
            self._conn.execute(
                "UPDATE students SET internal_sis_student_id = ?, updated_at = ? WHERE id = ?",
                (sourced_id, _now(), student_id),
            )
            action = "student.rekeyed" if previous[0] else "student.internal_sis_id_set"
            self.audit(action, "student", student_id, actor=actor, detail=detail)

    def update_student(self, student_id: int, changes: Mapping[str, Any], *, actor: str) -> None:
        """Change demographic fields of a student. Audited by field name, never by value."""
        unknown = set(changes) - UPDATABLE_STUDENT_FIELDS
        if unknown:
            raise ValueError(f"not updatable through update_student: {sorted(unknown)}")
        if not changes:
            return

        values = {
            key: _date_text(value) if isinstance(value, date) else value
            for key, value in changes.items()
        }
        assignments = ", ".join(f"{column} = ?" for column in values)
        with self.transaction():
            self._conn.execute(
                f"UPDATE students SET {assignments}, updated_at = ? WHERE id = ?",
                (*values.values(), _now(), student_id),
            )
            self.audit(
                "student.updated",
                "student",
                student_id,
                actor=actor,
                detail={"fields": sorted(values)},
            )

    def set_active(self, student_id: int, active: bool, *, actor: str) -> None:
        """Activate or deactivate a student. Students are never deleted. Audited."""
        with self.transaction():
            self._conn.execute(
                "UPDATE students SET active = ?, updated_at = ? WHERE id = ?",
                (int(active), _now(), student_id),
            )
            action = "student.reactivated" if active else "student.deactivated"
            self.audit(action, "student", student_id, actor=actor)

    # contacts

    def contacts(self, student_id: int) -> list[Contact]:
        rows = self._conn.execute(
            f"SELECT {CONTACT_COLUMNS} FROM contacts WHERE student_id = ? ORDER BY external_id",
            (student_id,),
        )
        return [_contact(row) for row in rows]

    def contacts_by_student(self) -> dict[int, list[Contact]]:
        """Every contact, grouped by student id; for bulk comparisons."""
        grouped: dict[int, list[Contact]] = {}
        rows = self._conn.execute(
            f"SELECT student_id, {CONTACT_COLUMNS} FROM contacts ORDER BY student_id, external_id"
        )
        for row in rows:
            grouped.setdefault(row["student_id"], []).append(_contact(row))
        return grouped

    def upsert_contacts(
        self, student_id: int, contacts: Iterable[Contact], *, actor: str, audit: bool = True
    ) -> int:
        """Insert new contacts and update changed ones; return how many rows were written.

        Contacts missing from `contacts` are kept: a guardian absent from one sync is not gone.
        """
        current = {contact.external_id: contact for contact in self.contacts(student_id)}
        now = _now()
        written = 0
        with self.transaction():
            for contact in contacts:
                if current.get(contact.external_id) == contact:
                    continue
                self._conn.execute(
                    "INSERT INTO contacts (student_id, external_id, relationship, first_name, "
                    "last_name, email, phone, created_at, updated_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (student_id, external_id) DO UPDATE SET "
                    "relationship = excluded.relationship, first_name = excluded.first_name, "
                    "last_name = excluded.last_name, email = excluded.email, "
                    "phone = excluded.phone, updated_at = excluded.updated_at",
                    (
                        student_id,
                        contact.external_id,
                        contact.relationship,
                        contact.first_name,
                        contact.last_name,
                        contact.email,
                        contact.phone,
                        now,
                        now,
                    ),
                )
                current[contact.external_id] = contact
                written += 1
            if written and audit:
                self.audit(
                    "student.contacts_upserted",
                    "student",
                    student_id,
                    actor=actor,
                    detail={"contacts": written},
                )
        return written

    # audit

    def audit(
        self,
        action: str,
        subject_type: str,
        subject_id: int | str,
        *,
        actor: str,
        detail: Mapping[str, Any] | None = None,
    ) -> None:
        """Record an action. `detail` must hold our own ids and counts, never names."""
        self._conn.execute(
            "INSERT INTO audit_log (at, actor, action, subject_type, subject_id, detail) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (_now(), actor, action, subject_type, str(subject_id), json.dumps(dict(detail or {}))),
        )

    def audit_entries(
        self, *, action: str | None = None, subject_id: int | str | None = None
    ) -> list[AuditEntry]:
        """Audit rows, oldest first, optionally for one action or one subject."""
        sql = "SELECT id, at, actor, action, subject_type, subject_id, detail FROM audit_log"
        filters, params = [], []
        if action is not None:
            filters.append("action = ?")
            params.append(action)
        if subject_id is not None:
            filters.append("subject_id = ?")
            params.append(str(subject_id))
        if filters:
            sql += " WHERE " + " AND ".join(filters)
        rows = self._conn.execute(sql + " ORDER BY id", params)
        return [AuditEntry(**{**dict(row), "detail": json.loads(row["detail"])}) for row in rows]

    def student_count(self) -> int:
        return self._conn.execute("SELECT count(*) FROM students").fetchone()[0]
