"""Plan documents through the app-database gateway, on a real SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from sg_pipelines.appdb import AppDatabase, NewStudent
from sg_pipelines.appdb.records import NewPlanDocument

SPED = "special_education"


@pytest.fixture
def database(tmp_path: Path) -> Iterator[AppDatabase]:
    with AppDatabase(f"sqlite:///{tmp_path / 'app.sqlite'}") as opened:
        yield opened


@pytest.fixture
def student_id(database: AppDatabase) -> int:
    return database.create_student(NewStudent("Given", "Family"), actor="test")


def iep(student_id: int, document_type: str = "iep_initial", **extra) -> NewPlanDocument:
    return NewPlanDocument(
        student_id=student_id,
        program=SPED,
        document_type=document_type,
        meeting_date=date(2025, 9, 10),
        effective_start=date(2025, 9, 10),
        effective_end=date(2026, 9, 9),
        fields={"disability_condition": "10", "placement": "IE14"},
        sections={"goals": [{"area": "reading", "goal": "Reads grade-level text."}]},
        **extra,
    )


def test_the_plan_documents_migration_is_applied(database):
    assert database.schema_version() >= 2
    assert database.documents.count() == 0


def test_a_document_is_added_as_a_draft_and_completed_once(database, student_id):
    document_id = database.documents.add(iep(student_id), actor="teacher-7")
    draft = database.documents.get(document_id)
    assert (draft.status, draft.completed_at) == ("draft", None)
    assert draft.sections["goals"][0]["area"] == "reading"

    locked_at = datetime(2025, 9, 12, 15, tzinfo=UTC)
    completed = database.documents.complete(document_id, actor="teacher-7", completed_at=locked_at)

    assert (completed.status, completed.completed_at) == ("completed", locked_at)
    with pytest.raises(ValueError, match="already completed"):
        database.documents.complete(document_id, actor="teacher-7")
    with pytest.raises(LookupError):
        database.documents.complete(document_id + 1, actor="teacher-7")


def test_document_writes_are_audited_with_our_ids_only(database, student_id):
    document_id = database.documents.add(iep(student_id), actor="teacher-7")
    database.documents.complete(document_id, actor="teacher-7")

    entries = [
        entry
        for entry in database.audit_entries(subject_id=document_id)
        if entry.subject_type == "plan_document"
    ]

    assert [entry.action for entry in entries] == ["document.added", "document.completed"]
    assert {entry.actor for entry in entries} == {"teacher-7"}
    assert [entry.detail for entry in entries] == [{"status": "draft"}, {"status": "completed"}]


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (dict(document_type="504_plan"), "unknown document type"),
        (dict(status="completed"), "needs completed_at"),
        (dict(completed_at=datetime(2025, 9, 12, tzinfo=UTC)), "needs completed_at"),
        (dict(status="locked"), "unknown document status"),
    ],
    ids=["a type of another program", "completed without instant", "draft with instant", "status"],
)
def test_documents_that_cannot_exist_are_refused(database, student_id, document, message):
    values = {"document_type": "iep_initial", **document}
    with pytest.raises(ValueError, match=message):
        database.documents.add(iep(student_id, **values), actor="test")
    assert database.documents.count() == 0


def test_latest_completed_skips_drafts_and_takes_the_latest_completion(database, student_id):
    first = database.documents.add(
        iep(student_id, status="completed", completed_at=datetime(2025, 9, 10, 15, tzinfo=UTC)),
        actor="test",
    )
    amendment = database.documents.add(
        iep(
            student_id,
            "iep_amendment",
            amends_document_id=first,
            status="completed",
            completed_at=datetime(2025, 11, 3, 15, tzinfo=UTC),
        ),
        actor="test",
    )
    database.documents.add(iep(student_id, "iep_annual"), actor="test")  # a draft (E7)
    database.documents.add(
        NewPlanDocument(student_id, "section_504", "504_plan", meeting_date=date(2025, 1, 1)),
        actor="test",
    )

    latest = database.documents.latest_completed(student_id, SPED)

    assert (latest.id, latest.amends_document_id) == (amendment, first)
    assert database.documents.latest_completed(student_id, "section_504") is None
    assert len(database.documents.for_student(student_id)) == 4
    assert len(database.documents.for_student(student_id, SPED)) == 3


def test_add_many_keeps_chosen_ids_so_a_batch_can_amend_itself(database, student_id):
    first_id = database.documents.next_id()
    batch = [
        iep(student_id, id=first_id),
        iep(student_id, "iep_amendment", id=first_id + 1, amends_document_id=first_id),
    ]

    assert database.documents.add_many(batch, actor="import") == 2

    stored = list(database.documents.iter_all(batch_size=1))
    assert [(d.id, d.amends_document_id) for d in stored] == [
        (first_id, None),
        (first_id + 1, first_id),
    ]
    assert database.documents.add(iep(student_id), actor="test") == first_id + 2
    assert len(database.audit_entries(action="document.added")) == 3
