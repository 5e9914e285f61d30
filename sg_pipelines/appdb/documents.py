"""Plan documents in the app database, reached as `AppDatabase.documents`.

A document is added as a draft and completed once (completion locks it: a completed document is
never changed again; a change is a new amendment). Every write is audited with our own ids and
the document's status only: the audit log never pairs a student with a program or a type.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from sg_pipelines.appdb.records import NewPlanDocument, PlanDocument
from sg_pipelines.programs.documents import (
    DOCUMENT_STATUSES,
    PLAN_DOCUMENT_TYPES,
    check_document_type,
)

if TYPE_CHECKING:
    from sg_pipelines.appdb.gateway import AppDatabase

DOCUMENT_COLUMNS = (
    "id, student_id, program, document_type, status, completed_at, meeting_date, "
    "effective_start, effective_end, amends_document_id, fields, sections, created_at, updated_at"
)
INSERT_DOCUMENT = (
    f"INSERT INTO plan_documents ({DOCUMENT_COLUMNS}) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
INSERT_AUDIT = (
    "INSERT INTO audit_log (at, actor, action, subject_type, subject_id, detail) "
    "VALUES (?, ?, 'document.added', 'plan_document', ?, ?)"
)


def _instant_text(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("completed_at must be an aware instant")
    return moment.astimezone(UTC).isoformat()


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _document(row: sqlite3.Row) -> PlanDocument:
    return PlanDocument(
        id=row["id"],
        student_id=row["student_id"],
        program=row["program"],
        document_type=row["document_type"],
        status=row["status"],
        completed_at=datetime.fromisoformat(row["completed_at"]) if row["completed_at"] else None,
        meeting_date=_date(row["meeting_date"]),
        effective_start=_date(row["effective_start"]),
        effective_end=_date(row["effective_end"]),
        amends_document_id=row["amends_document_id"],
        fields=json.loads(row["fields"]),
        sections=json.loads(row["sections"]),
        created_at=datetime.fromisoformat(row["created_at"]),
        updated_at=datetime.fromisoformat(row["updated_at"]),
    )


def _check(document: NewPlanDocument) -> None:
    check_document_type(document.program, document.document_type)
    if document.status not in DOCUMENT_STATUSES:
        raise ValueError(f"unknown document status {document.status!r}")
    if (document.status == "completed") != (document.completed_at is not None):
        raise ValueError("a completed document needs completed_at, and a draft must not have one")


class PlanDocuments:
    """The plan-document side of the gateway; use it through `AppDatabase.documents`."""

    def __init__(
        self, database: AppDatabase, conn: sqlite3.Connection, now: Callable[[], str]
    ) -> None:
        self._database = database
        self._conn = conn
        self._now = now

    # writes

    def add(self, document: NewPlanDocument, *, actor: str) -> int:
        """Add one document; return its id. Audited."""
        [document_id] = self._insert([document], actor=actor)
        return document_id

    def add_many(self, documents: Iterable[NewPlanDocument], *, actor: str) -> int:
        """Add documents in bulk, in one transaction; return how many. Audited one by one."""
        return len(self._insert(documents, actor=actor))

    def next_id(self) -> int:
        """The smallest id above every document's; ids a batch may choose start here."""
        return self._conn.execute("SELECT coalesce(max(id), 0) + 1 FROM plan_documents").fetchone()[
            0
        ]

    def complete(
        self, document_id: int, *, actor: str, completed_at: datetime | None = None
    ) -> PlanDocument:
        """Complete (lock) a draft, now or at the given instant. Audited.

        Raises LookupError for an unknown document and ValueError for one already completed.
        """
        completed = _instant_text(completed_at or datetime.now(UTC))
        with self._database.transaction():
            current = self.get(document_id)
            if current is None:
                raise LookupError(f"plan document {document_id} does not exist")
            if current.is_completed:
                raise ValueError(f"plan document {document_id} is already completed")
            self._conn.execute(
                "UPDATE plan_documents SET status = 'completed', completed_at = ?, "
                "updated_at = ? WHERE id = ?",
                (completed, self._now(), document_id),
            )
            self._database.audit(
                "document.completed",
                "plan_document",
                document_id,
                actor=actor,
                detail={"status": "completed"},
            )
        return self.get(document_id)

    def _insert(self, documents: Iterable[NewPlanDocument], *, actor: str) -> list[int]:
        now = self._now()
        with self._database.transaction():
            next_id = self.next_id()
            rows, audits, ids = [], [], []
            for document in documents:
                _check(document)
                document_id = document.id or next_id
                next_id = max(next_id, document_id + 1)
                ids.append(document_id)
                rows.append(
                    (
                        document_id,
                        document.student_id,
                        document.program,
                        document.document_type,
                        document.status,
                        _instant_text(document.completed_at) if document.completed_at else None,
                        _date_text(document.meeting_date),
                        _date_text(document.effective_start),
                        _date_text(document.effective_end),
                        document.amends_document_id,
                        json.dumps(document.fields),
                        json.dumps(document.sections),
                        now,
                        now,
                    )
                )
                audits.append(
                    (now, actor, str(document_id), json.dumps({"status": document.status}))
                )
            self._conn.executemany(INSERT_DOCUMENT, rows)
            self._conn.executemany(INSERT_AUDIT, audits)
        return ids

    # reads

    def get(self, document_id: int) -> PlanDocument | None:
        row = self._conn.execute(
            f"SELECT {DOCUMENT_COLUMNS} FROM plan_documents WHERE id = ?", (document_id,)
        ).fetchone()
        return _document(row) if row else None

    def for_student(self, student_id: int, program: str | None = None) -> list[PlanDocument]:
        """A student's documents, drafts included, oldest meeting first (then by id)."""
        sql = f"SELECT {DOCUMENT_COLUMNS} FROM plan_documents WHERE student_id = ?"
        params: list[object] = [student_id]
        if program is not None:
            sql += " AND program = ?"
            params.append(program)
        rows = self._conn.execute(sql + " ORDER BY meeting_date, id", params)
        return [_document(row) for row in rows]

    def latest_completed(self, student_id: int, program: str) -> PlanDocument | None:
        """The student's most recently completed plan of the program: what the viewer shows.

        Drafts never qualify (fault E7), nor documents that are not a plan (an evaluation, an
        eligibility decision, an exit): `PLAN_DOCUMENT_TYPES`.
        """
        plan_types = PLAN_DOCUMENT_TYPES.get(program, ())
        marks = ", ".join("?" * len(plan_types)) or "NULL"
        row = self._conn.execute(
            f"SELECT {DOCUMENT_COLUMNS} FROM plan_documents "
            "WHERE student_id = ? AND program = ? AND status = 'completed' "
            f"AND document_type IN ({marks}) "
            "ORDER BY completed_at DESC, id DESC LIMIT 1",
            (student_id, program, *plan_types),
        ).fetchone()
        return _document(row) if row else None

    def iter_all(
        self, batch_size: int = 5000, *, with_sections: bool = True
    ) -> Iterator[PlanDocument]:
        """Every document, drafts included, by id, read in batches.

        The warehouse snapshot passes `with_sections=False`: it never copies what a teacher
        reads, and skipping it makes the read about three times faster.
        """
        columns = DOCUMENT_COLUMNS
        if not with_sections:
            columns = columns.replace("sections", "'{}' AS sections")
        cursor = self._conn.execute(f"SELECT {columns} FROM plan_documents ORDER BY id")
        while batch := cursor.fetchmany(batch_size):
            yield from (_document(row) for row in batch)

    def count(self, *, status: str | None = None) -> int:
        if status is None:
            return self._conn.execute("SELECT count(*) FROM plan_documents").fetchone()[0]
        return self._conn.execute(
            "SELECT count(*) FROM plan_documents WHERE status = ?", (status,)
        ).fetchone()[0]


def _date_text(value: date | None) -> str | None:
    return value.isoformat() if value else None
