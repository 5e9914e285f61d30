"""The plan population generator: proportions, the hard cases it must contain, determinism, and
badges computed from what it writes."""

from __future__ import annotations

import random
from datetime import date
from pathlib import Path

import pytest

from sg_pipelines.appdb import AppDatabase, NewStudent
from sg_pipelines.programs.badges import read_sql, write_badges
from sg_pipelines.programs.documents import write_plan_documents_snapshot
from sg_pipelines.sandbox.generator import GRADES
from sg_pipelines.sandbox.plans import DISABILITY_CONDITIONS, generate_plan_documents
from sg_pipelines.settings import PROGRAM_KEYS
from sg_pipelines.warehouse import connect

TODAY = date(2026, 12, 3)
STUDENTS = 3000


def fill_students(database: AppDatabase, count: int, seed: int = 1) -> None:
    """Plan students as after linking: nine in ten carry their Campus sourcedId."""
    rng = random.Random(seed)
    with database.transaction():
        for number in range(count):
            linked = rng.random() < 0.9
            database.create_student(
                NewStudent(
                    "Given",
                    "Family",
                    internal_sis_student_id=f"sourced-{number}" if linked else None,
                    grade=GRADES[number % len(GRADES)],
                ),
                actor="test",
            )


@pytest.fixture(scope="module")
def population(tmp_path_factory):
    path = tmp_path_factory.mktemp("plans") / "app.sqlite"
    with AppDatabase(f"sqlite:///{path}") as database:
        fill_students(database, STUDENTS)
        summary = generate_plan_documents(database, seed=7, today=TODAY)
        documents = list(database.documents.iter_all())
        sourced_ids = {s.id: s.internal_sis_student_id for s in database.students()}
    return summary, documents, sourced_ids


@pytest.mark.parametrize(
    ("program", "low", "high"),
    [
        ("special_education", 0.12, 0.18),
        ("section_504", 0.04, 0.09),  # 5% plus the students who moved on to an IEP
        ("english_learners", 0.06, 0.10),
        ("advanced_learners", 0.04, 0.08),
        ("k4_literacy", 0.07, 0.13),  # a quarter of the K-4 students, five grades in thirteen
    ],
)
def test_program_shares(population, program, low, high):
    summary, _, _ = population
    assert low <= summary.students_by_program[program] / STUDENTS <= high


@pytest.mark.parametrize(
    "document_type",
    [
        "etr_initial",
        "etr_reevaluation",
        "etr_transfer",
        "iep_initial",
        "iep_annual",
        "iep_transfer",
        "iep_amendment",
        "sped_exit",
        "sped_revocation",
        "504_eligibility",
        "504_plan",
        "504_exit",
        "el_identification",
        "el_plan",
        "el_exit",
        "wep",
        "wep_exit",
        "rimp",
        "rimp_exit",
    ],
)
def test_every_document_type_occurs(population, document_type):
    summary, _, _ = population
    assert summary.documents_by_type.get(document_type, 0) > 0


def test_the_hard_cases_are_there(population):
    summary, documents, _ = population
    assert summary.drafts > 0 and summary.moved_504_to_iep > 0
    assert summary.same_day_amendments > 0
    assert 0 < summary.completed_before_cutover < summary.completed
    assert min(d.meeting_date for d in documents) >= date(2023, 8, 15)
    assert all(d.completed_at is None or d.completed_at.date() < TODAY for d in documents)


def test_amendments_amend_a_plan_of_the_same_student(population):
    _, documents, _ = population
    by_id = {document.id: document for document in documents}

    amendments = [d for d in documents if d.document_type == "iep_amendment"]

    assert amendments
    for amendment in amendments:
        amended = by_id[amendment.amends_document_id]
        assert amended.student_id == amendment.student_id
        assert amended.document_type in ("iep_initial", "iep_annual", "iep_transfer")


def test_structured_fields_carry_emis_codes(population):
    _, documents, _ = population
    ieps = [d for d in documents if d.document_type.startswith("iep_")]
    etrs = [d for d in documents if d.document_type.startswith("etr_")]

    assert {d.fields["disability_condition"] for d in ieps} <= set(DISABILITY_CONDITIONS)
    assert {d.fields["disability_condition"] for d in etrs} <= {*DISABILITY_CONDITIONS, "**"}
    assert all(
        {"placement", "test_type", "extended_school_year", "state_test_accommodations"}
        <= set(d.fields)
        for d in ieps
    )
    assert all({"present_levels", "goals", "services", "team"} <= set(d.sections) for d in ieps)


def test_generation_is_deterministic_for_a_seed(tmp_path: Path):
    def generate(name: str, seed: int) -> list[tuple]:
        with AppDatabase(f"sqlite:///{tmp_path / name}") as database:
            fill_students(database, 300)
            generate_plan_documents(database, seed=seed, today=TODAY)
            return [
                (d.id, d.student_id, d.document_type, d.status, d.completed_at, d.fields)
                for d in database.documents.iter_all()
            ]

    first = generate("a.sqlite", 7)

    assert generate("b.sqlite", 7) == first
    assert generate("c.sqlite", 8) != first


def test_a_second_run_leaves_existing_documents_alone(tmp_path: Path):
    with AppDatabase(f"sqlite:///{tmp_path / 'app.sqlite'}") as database:
        fill_students(database, 100)
        first = generate_plan_documents(database, seed=7, today=TODAY)

        second = generate_plan_documents(database, seed=7, today=TODAY)

        assert second.skipped and database.documents.count() == first.documents


def test_badges_from_the_population_never_rest_on_drafts_nor_overlap(population, tmp_path):
    _, documents, sourced_ids = population
    days = {program: [date(2025, 8, 1), date(2026, 3, 2), TODAY] for program in PROGRAM_KEYS}

    with connect(tmp_path / "warehouse.duckdb") as conn:
        write_plan_documents_snapshot(conn, documents, sourced_ids)
        counts = write_badges(conn, days, {program: date(2025, 8, 1) for program in days})
        [(_, not_completed, completed_later, missing)] = conn.execute(
            read_sql("check_badge_documents.sql")
        ).fetchall()
        [(overlaps, _)] = conn.execute(read_sql("check_badge_overlaps.sql")).fetchall()
        drafts_in_window = conn.execute(
            "SELECT count(*) FROM plan_documents WHERE status = 'draft'"
        ).fetchone()[0]

    assert drafts_in_window > 0
    assert (not_completed, completed_later, missing, overlaps) == (0, 0, 0, 0)
    assert all(count.badges_active > 0 for count in counts if count.as_of_date > date(2026, 1, 1))
    assert any(count.unflaggable > 0 for count in counts)


def test_students_with_both_an_iep_and_a_504_plan_exist(population):
    _, documents, _ = population
    programs_by_student: dict[int, set[str]] = {}
    for document in documents:
        programs_by_student.setdefault(document.student_id, set()).add(document.program)

    both = [p for p in programs_by_student.values() if {"special_education", "section_504"} <= p]

    assert both
