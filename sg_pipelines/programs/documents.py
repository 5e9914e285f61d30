"""The plan documents each program keeps, by the plan system's own document type names.

Which of them start, continue or end a program participation badge is a rule, and lives in
`sg_pipelines/programs/rules.py`; this module says which types exist, and copies the documents
into the warehouse (`write_plan_documents_snapshot`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    import duckdb

    from sg_pipelines.appdb.records import PlanDocument

SQL_DIR = Path(__file__).parent / "sql"

DOCUMENT_STATUSES = ("draft", "completed")

DOCUMENT_TYPES: dict[str, tuple[str, ...]] = {
    "special_education": (
        "etr_initial",
        "etr_reevaluation",
        "etr_transfer",
        "iep_initial",
        "iep_annual",
        "iep_transfer",
        "iep_amendment",
        "sped_exit",
        "sped_revocation",
    ),
    "section_504": ("504_eligibility", "504_plan", "504_exit"),
    "english_learners": ("el_identification", "el_plan", "el_exit"),
    "advanced_learners": ("wep", "wep_exit"),
    "k4_literacy": ("rimp", "rimp_exit"),
}

# The documents that are a plan, as the viewer shows them: evaluations, eligibility and
# identification decisions and exits are not, so a newer one never hides the plan in effect.
PLAN_DOCUMENT_TYPES: dict[str, tuple[str, ...]] = {
    "special_education": ("iep_initial", "iep_annual", "iep_transfer", "iep_amendment"),
    "section_504": ("504_plan",),
    "english_learners": ("el_plan",),
    "advanced_learners": ("wep",),
    "k4_literacy": ("rimp",),
}

# What a person reading the plan sees as the document's title.
DOCUMENT_TITLES = {
    "etr_initial": "Evaluation Team Report (initial)",
    "etr_reevaluation": "Evaluation Team Report (re-evaluation)",
    "etr_transfer": "Evaluation Team Report (transfer)",
    "iep_initial": "Individualized Education Program (initial)",
    "iep_annual": "Individualized Education Program (annual review)",
    "iep_transfer": "Individualized Education Program (transfer)",
    "iep_amendment": "IEP Amendment",
    "sped_exit": "Special Education Exit",
    "sped_revocation": "Revocation of Consent for Special Education",
    "504_eligibility": "Section 504 Eligibility Determination",
    "504_plan": "Section 504 Plan",
    "504_exit": "Section 504 Exit",
    "el_identification": "English Learner Identification",
    "el_plan": "English Learner Plan",
    "el_exit": "English Learner Exit (reclassification)",
    "wep": "Written Education Plan",
    "wep_exit": "Written Education Plan Exit",
    "rimp": "Reading Improvement and Monitoring Plan",
    "rimp_exit": "Reading Improvement and Monitoring Plan Exit",
}


def is_document_type(program: str, document_type: str) -> bool:
    """Whether the program keeps documents of this type."""
    return document_type in DOCUMENT_TYPES.get(program, ())


def check_document_type(program: str, document_type: str) -> None:
    """Raise ValueError for a program or document type the plan system does not know."""
    if program not in DOCUMENT_TYPES:
        raise ValueError(f"unknown program {program!r}; known: {sorted(DOCUMENT_TYPES)}")
    if not is_document_type(program, document_type):
        raise ValueError(
            f"unknown document type {document_type!r} for {program}; "
            f"known: {list(DOCUMENT_TYPES[program])}"
        )


# the warehouse snapshot


SNAPSHOT_COLUMNS = (
    "id",
    "student_id",
    "program",
    "document_type",
    "status",
    "completed_at",
    "meeting_date",
    "effective_start",
    "effective_end",
    "amends_document_id",
    "fields",
    "created_at",
    "updated_at",
    "sourced_id",
)


def write_plan_documents_snapshot(
    conn: duckdb.DuckDBPyConnection,
    documents: Iterable[PlanDocument],
    sourced_ids: Mapping[int, str | None],
) -> dict[str, int]:
    """Replace the warehouse `plan_documents` with the app database's, in one transaction.

    Args:
        conn: a warehouse connection.
        documents: every plan document, drafts included.
        sourced_ids: plan student id to Internal SIS Student Id (the Campus sourcedId).

    Returns counts for metadata: documents, completed, drafts, linked and unlinked documents.
    """
    rows = [
        (
            document.id,
            document.student_id,
            document.program,
            document.document_type,
            document.status,
            document.completed_at,
            document.meeting_date,
            document.effective_start,
            document.effective_end,
            document.amends_document_id,
            json.dumps(document.fields),
            document.created_at,
            document.updated_at,
            sourced_ids.get(document.student_id),
        )
        for document in documents
    ]
    frame = pd.DataFrame.from_records(rows, columns=SNAPSHOT_COLUMNS)

    conn.execute((SQL_DIR / "plan_documents.sql").read_text(encoding="utf-8"))
    conn.register("plan_documents_frame", frame)
    conn.execute("BEGIN TRANSACTION")
    try:
        conn.execute("DELETE FROM plan_documents")
        conn.execute(
            "INSERT INTO plan_documents SELECT id, student_id, program, document_type, status, "
            "completed_at::TIMESTAMPTZ, meeting_date::DATE, effective_start::DATE, "
            "effective_end::DATE, amends_document_id::BIGINT, fields::JSON, "
            "created_at::TIMESTAMPTZ, updated_at::TIMESTAMPTZ, sourced_id::VARCHAR "
            "FROM plan_documents_frame"
        )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    finally:
        conn.unregister("plan_documents_frame")

    completed = sum(1 for row in rows if row[4] == "completed")
    linked = sum(1 for row in rows if row[-1] is not None)
    return {
        "documents": len(rows),
        "completed": completed,
        "drafts": len(rows) - completed,
        "linked_documents": linked,
        "unlinked_documents": len(rows) - linked,
    }
