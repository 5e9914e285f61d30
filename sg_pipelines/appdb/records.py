"""The rows the app-database gateway reads and writes, as plain frozen dataclasses."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any


@dataclass(frozen=True)
class PlanStudent:
    """A student as the plan system knows them."""

    id: int
    internal_sis_student_id: str | None
    emis_student_id: str | None
    state_id: str | None
    local_id: str | None
    first_name: str
    last_name: str
    birth_date: date | None
    building_irn: str | None
    grade: str | None
    active: bool


@dataclass(frozen=True)
class NewStudent:
    """What it takes to create a plan-system student."""

    first_name: str
    last_name: str
    internal_sis_student_id: str | None = None
    emis_student_id: str | None = None
    state_id: str | None = None
    local_id: str | None = None
    birth_date: date | None = None
    building_irn: str | None = None
    grade: str | None = None
    active: bool = True


@dataclass(frozen=True)
class Contact:
    """A student's guardian or other contact, keyed by its source system id (`external_id`)."""

    external_id: str
    relationship: str
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: str
    actor: str
    action: str
    subject_type: str
    subject_id: str
    detail: dict[str, Any] = field(default_factory=dict)


EMIS_STUDENT_ID_LENGTH = 9


def normalize_emis_student_id(value: str | int | None) -> str | None:
    """EMIS Student IDs are 9-character strings with leading zeros; anything else is no id."""
    text = str(value).strip() if value is not None else ""
    if not text.isdigit() or len(text) > EMIS_STUDENT_ID_LENGTH:
        return None
    return text.zfill(EMIS_STUDENT_ID_LENGTH)


# Student columns that `AppDatabase.update_student` may change; the rest have their own methods.
UPDATABLE_STUDENT_FIELDS = frozenset(
    {
        "emis_student_id",
        "state_id",
        "local_id",
        "first_name",
        "last_name",
        "birth_date",
        "building_irn",
        "grade",
    }
)


@dataclass(frozen=True)
class NewPlanDocument:
    """What it takes to add a plan document. A document is added as a draft unless it arrives
    already completed (an import, or the demo population), which needs its `completed_at`.

    `id` is normally left to the database; a batch whose amendments must point at documents of
    the same batch may choose ids above `PlanDocuments.next_id()`.
    """

    student_id: int
    program: str
    document_type: str
    status: str = "draft"
    completed_at: datetime | None = None
    meeting_date: date | None = None
    effective_start: date | None = None
    effective_end: date | None = None
    amends_document_id: int | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    sections: dict[str, Any] = field(default_factory=dict)
    id: int | None = None


@dataclass(frozen=True)
class PlanDocument:
    """A plan document as stored; `completed_at` is an aware UTC instant, set once completed."""

    id: int
    student_id: int
    program: str
    document_type: str
    status: str
    completed_at: datetime | None
    meeting_date: date | None
    effective_start: date | None
    effective_end: date | None
    amends_document_id: int | None
    fields: dict[str, Any]
    sections: dict[str, Any]
    created_at: datetime
    updated_at: datetime

    @property
    def is_completed(self) -> bool:
        return self.status == "completed"
