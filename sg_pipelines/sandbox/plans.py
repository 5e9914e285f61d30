"""The demo district's plan documents, for the plan students already in the app database.

`generate_plan_documents` writes a few years of plan history (from August 2023) the way a
district's plan system would hold it: about 15% of students with IEPs (evaluation team reports
first, annual reviews, re-evaluations, amendments, some on the plan's own day, some transfers),
5% with Section 504 plans, 8% English learners, 6% advanced learners with written education
plans, and reading improvement plans for a quarter of K-4 students. Some plans end (special
education exit, revocation of consent, 504 exit, EL reclassification), some students move from
a 504 plan to an IEP, and documents still being written are drafts. Much of the history falls
before the default cutover (2025-08-01), as a real district's would.

Deterministic for a seed and `today`; one transaction of bulk inserts.
"""

from __future__ import annotations

import logging
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sg_pipelines.appdb.gateway import AppDatabase
from sg_pipelines.appdb.records import NewPlanDocument, PlanStudent

logger = logging.getLogger(__name__)

PLANS_ACTOR = "demo-plans"
HISTORY_START = date(2023, 8, 15)
DEFAULT_CUTOVER = date(2025, 8, 1)

SPECIAL_EDUCATION_SHARE = 0.15
SECTION_504_SHARE = 0.05
ENGLISH_LEARNER_SHARE = 0.08
ADVANCED_LEARNER_SHARE = 0.06
K4_READING_SHARE = 0.25  # of students in grades K-4
K4_GRADES = frozenset({"KG", "01", "02", "03", "04"})

# how an IEP student's story begins in this system
IEP_STORIES = {"evaluated_here": 0.55, "continuing": 0.25, "transfer": 0.10, "from_504": 0.10}
KEEPS_504_AFTER_IEP = 0.2  # movers whose 504 team never completed the exit
AMENDMENT_CHANCE = 0.25
SAME_DAY_AMENDMENT_CHANCE = 0.05
UPCOMING_REVIEW_DRAFT_CHANCE = 0.10
EXIT_CHANCES = {
    "sped_exit": 0.07,
    "sped_revocation": 0.02,
    "504_exit": 0.15,
    "el_exit": 0.20,
    "wep_exit": 0.05,
    "rimp_exit": 0.30,
}

# Ohio EMIS disability condition codes (docs: emis.md §7.1) with rough shares of IEP students.
DISABILITY_CONDITIONS = {
    "10": 35,  # specific learning disability
    "05": 18,  # speech or language impairment
    "15": 13,  # other health impairment (minor)
    "12": 11,  # autism
    "09": 6,  # cognitive (intellectual) disability
    "08": 5,  # emotional disturbance
    "01": 4,  # multiple disabilities
    "16": 3,  # developmental delay
    "14": 2,  # other health impairment (major)
    "03": 1,  # hearing impairment
    "06": 1,  # orthopedic impairment
    "04": 0.5,  # visual impairment
    "13": 0.4,  # traumatic brain injury
    "02": 0.1,  # deaf-blindness
}
PLACEMENTS = {"IE14": 60, "IE15": 20, "IE16": 12, "IE17": 5, "IE18": 3}
TEST_TYPES = {"standard": 55, "with_accommodations": 38, "alternate": 7}
TEST_ACCOMMODATIONS = (
    "extended_time",
    "read_aloud",
    "text_to_speech",
    "small_group",
    "separate_setting",
    "scribe",
    "calculator",
)
GOAL_AREAS = ("reading", "written expression", "mathematics", "communication", "behavior")
SERVICES = ("specially designed instruction", "speech-language therapy", "occupational therapy")
IEP_TEAM = ("intervention specialist", "general education teacher", "parent", "administrator")
IMPAIRMENTS = ("ADHD", "anxiety", "diabetes", "asthma", "food allergy", "migraine")
HOME_LANGUAGES = {"Spanish": 45, "Arabic": 12, "Somali": 10, "Nepali": 8, "French": 6, "Other": 19}
GIFTED_AREAS = ("superior cognitive", "mathematics", "reading/writing", "science", "visual arts")

# What EMIS needs beyond the plan content, derived without drawing from the generator (so the
# population stays the same for a seed): consent and referral dates before an evaluation, one
# initial evaluation in LATE_EVALUATION_EVERY past the 60-day timeline with a non-compliance
# reason, and GQ program codes (210013 "SE outside regular class" for placements outside the
# regular class, 235012 for EL services; docs/emis.md).
CONSENT_DAYS_BEFORE_ETR = 45
LATE_CONSENT_DAYS_BEFORE_ETR = 75
REFERRAL_DAYS_BEFORE_CONSENT = 14
LATE_EVALUATION_EVERY = 17
LATE_NON_COMPLIANCE_ID = "01"
OUTSIDE_REGULAR_CLASS = frozenset({"IE16", "IE17", "IE18"})
SPECIAL_EDUCATION_PROGRAM_CODE = "210013"
ENGLISH_LEARNER_PROGRAM_CODE = "235012"


@dataclass
class PlanPopulationSummary:
    """What the generator wrote, in counts only."""

    plan_students: int = 0
    documents: int = 0
    completed: int = 0
    drafts: int = 0
    students_by_program: dict[str, int] = field(default_factory=dict)
    documents_by_type: dict[str, int] = field(default_factory=dict)
    moved_504_to_iep: int = 0
    same_day_amendments: int = 0
    completed_before_cutover: int = 0
    seconds: float = 0.0
    skipped: bool = False


def _pick(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _school_year_end(day: date) -> date:
    """The last day of the school year the day belongs to (summer belongs to the next one)."""
    return date(day.year + ((day.month, day.day) > (6, 5)), 6, 5)


def _school_year_start(year_end: date) -> date:
    return date(year_end.year - 1, 8, 20)


def evaluation_dates(evaluation: str, meeting: date, *, late: bool = False) -> dict[str, str]:
    """Consent, referral and transfer dates an evaluation team report records for EMIS."""
    if evaluation == "TETR":
        return {"original_etr_date": (meeting - timedelta(days=400)).isoformat()}
    days = LATE_CONSENT_DAYS_BEFORE_ETR if late else CONSENT_DAYS_BEFORE_ETR
    consent = meeting - timedelta(days=days)
    dates = {
        "consent_date": consent.isoformat(),
        "consent_outcome": "CNGI" if evaluation == "IETR" else "CNGR",
    }
    if evaluation == "IETR":
        referral = consent - timedelta(days=REFERRAL_DAYS_BEFORE_CONSENT)
        dates["referral_date"] = referral.isoformat()
    if late:
        dates["non_compliance"] = LATE_NON_COMPLIANCE_ID
    return dates


class _Population:
    """Builds every student's documents in memory, with ids chosen so amendments can refer."""

    def __init__(self, rng: random.Random, today: date, first_id: int) -> None:
        self.rng = rng
        self.today = today
        self.next_id = first_id
        self.documents: list[NewPlanDocument] = []
        self.students: dict[str, set[int]] = {}
        self.moved_504_to_iep = 0
        self.same_day_amendments = 0

    # one document

    def completion(self, meeting: date) -> datetime | None:
        """When the team locked the document; None while it is still being written."""
        lag = self.rng.choices((0, self.rng.randint(1, 3), self.rng.randint(4, 14)), (50, 35, 15))[
            0
        ]
        day = meeting + timedelta(days=lag)
        if day >= self.today:
            return None
        return datetime(day.year, day.month, day.day, self.rng.randint(13, 22), tzinfo=UTC)

    def add(
        self,
        student: PlanStudent,
        program: str,
        document_type: str,
        meeting: date,
        *,
        end: date | None = None,
        amends: int | None = None,
        fields: dict[str, Any] | None = None,
        sections: dict[str, Any] | None = None,
        draft: bool = False,
        completed_at: datetime | None = None,
    ) -> int | None:
        """Add a document unless its meeting is still to come; return its id."""
        if meeting >= self.today:
            return None
        completed_at = None if draft else completed_at or self.completion(meeting)
        document_id = self.next_id
        self.next_id += 1
        self.documents.append(
            NewPlanDocument(
                id=document_id,
                student_id=student.id,
                program=program,
                document_type=document_type,
                status="completed" if completed_at else "draft",
                completed_at=completed_at,
                meeting_date=meeting,
                effective_start=meeting,
                effective_end=end,
                amends_document_id=amends,
                fields=fields or {},
                sections=sections or {},
            )
        )
        self.students.setdefault(program, set()).add(student.id)
        return document_id

    def days_after(self, start: date, low: int, high: int) -> date:
        return start + timedelta(days=self.rng.randint(low, high))

    def some_day(self, first: date, last: date) -> date:
        return self.days_after(first, 0, max(0, (last - first).days))

    # content

    def iep_content(self, student: PlanStudent, disability: str) -> tuple[dict, dict]:
        rng = self.rng
        high_school = (student.grade or "") in ("09", "10", "11", "12")
        test_type = _pick(rng, TEST_TYPES)
        accommodations = sorted(rng.sample(TEST_ACCOMMODATIONS, rng.randint(1, 3)))
        goals = rng.sample(GOAL_AREAS, rng.randint(1, 3))
        services = rng.sample(SERVICES, rng.randint(1, 2))
        fields = {
            "disability_condition": disability,
            "outcome": "IEPR",
            "placement": _pick(rng, PLACEMENTS),
            "test_type": test_type,
            "extended_school_year": rng.random() < 0.12,
            "graduation_test_exemptions": (
                ["ela", "mathematics"] if high_school and test_type == "alternate" else []
            ),
            "state_test_accommodations": [] if test_type == "standard" else accommodations,
            "el_status": "el" if rng.random() < 0.06 else "not_el",
            "secondary_planning": high_school,
        }
        fields["program_codes"] = (
            [SPECIAL_EDUCATION_PROGRAM_CODE] if fields["placement"] in OUTSIDE_REGULAR_CLASS else []
        )
        sections = {
            "present_levels": f"Progress reviewed in {', '.join(goals)}; data from classroom "
            "assessments and teacher observation.",
            "goals": [
                {"area": area, "goal": f"Will improve {area} skills as measured quarterly."}
                for area in goals
            ],
            "services": [
                {"service": service, "minutes_per_week": rng.choice((30, 60, 90, 120, 180))}
                for service in services
            ],
            "accommodations": accommodations,
            "team": list(IEP_TEAM),
        }
        return fields, sections

    def etr_content(
        self,
        disability: str,
        evaluation: str,
        *,
        exits: bool = False,
        meeting: date | None = None,
        late: bool = False,
    ) -> tuple:
        fields = {
            "evaluation_type": evaluation,
            "disability_condition": "**" if exits else disability,
            "outcome": "ETEX" if exits else f"ET{disability}",
            "non_compliance": "**",
        }
        if meeting is not None:
            fields.update(evaluation_dates(evaluation, meeting, late=late))
        sections = {
            "present_levels": "Summary of assessments, observations and parent input.",
            "team": ["school psychologist", "intervention specialist", "parent"],
        }
        return fields, sections

    # stories

    def special_education(self, student: PlanStudent, story: str, start: date) -> date | None:
        """An IEP student's history from `start`; returns the first IEP's date."""
        rng, program = self.rng, "special_education"
        disability = _pick(rng, DISABILITY_CONDITIONS)

        if story == "continuing":
            # the plan predates the system: its history here begins with an annual review
            etr_date = None
            iep_date, first_type = start, "iep_annual"
        elif story == "transfer":
            fields, sections = self.etr_content(disability, "TETR", meeting=start)
            self.add(student, program, "etr_transfer", start, fields=fields, sections=sections)
            etr_date, iep_date, first_type = start, start, "iep_transfer"
        else:
            late = student.id % LATE_EVALUATION_EVERY == 0
            fields, sections = self.etr_content(disability, "IETR", meeting=start, late=late)
            self.add(student, program, "etr_initial", start, fields=fields, sections=sections)
            etr_date, iep_date, first_type = start, self.days_after(start, 7, 30), "iep_initial"

        exit_type = next(
            (
                kind
                for kind in ("sped_exit", "sped_revocation")
                if rng.random() < EXIT_CHANCES[kind]
            ),
            None,
        )
        exit_on = self.days_after(iep_date, 60, 900) if exit_type else None

        # the IEPs: first, then annual reviews until the exit or today
        meeting, document_type = iep_date, first_type
        while meeting < self.today and (exit_on is None or meeting < exit_on):
            plan_end = meeting + timedelta(days=364)
            fields, sections = self.iep_content(student, disability)
            iep_id = self.add(
                student,
                program,
                document_type,
                meeting,
                end=plan_end,
                fields=fields,
                sections=sections,
            )
            self.amendments(student, iep_id, meeting, plan_end, fields, sections)
            meeting, document_type = self.days_after(meeting, 330, 364), "iep_annual"

        # a review whose meeting is near is being written
        if (
            exit_on is None
            and meeting >= self.today
            and rng.random() < UPCOMING_REVIEW_DRAFT_CHANCE
        ):
            fields, sections = self.iep_content(student, disability)
            self.add(
                student,
                program,
                "iep_annual",
                self.today - timedelta(days=rng.randint(1, 20)),
                fields=fields,
                sections=sections,
                draft=True,
            )

        # re-evaluations every three years
        reevaluation = (etr_date or iep_date - timedelta(days=400)) + timedelta(days=3 * 365 - 10)
        while reevaluation < self.today and (exit_on is None or reevaluation < exit_on):
            fields, sections = self.etr_content(disability, "RETR", meeting=reevaluation)
            self.add(
                student, program, "etr_reevaluation", reevaluation, fields=fields, sections=sections
            )
            reevaluation += timedelta(days=3 * 365 - 10)

        if exit_type and exit_on:
            if exit_type == "sped_exit":
                fields, sections = self.etr_content(disability, "RETR", exits=True, meeting=exit_on)
                self.add(
                    student, program, "etr_reevaluation", exit_on, fields=fields, sections=sections
                )
            self.add(student, program, exit_type, exit_on, fields={"exit_reason": exit_type})
        return iep_date

    def amendments(
        self,
        student: PlanStudent,
        iep_id: int | None,
        meeting: date,
        plan_end: date,
        fields: dict,
        sections: dict,
    ) -> None:
        if iep_id is None:
            return
        rng, program = self.rng, "special_education"
        iep_completed_at = self.documents[-1].completed_at
        if rng.random() < SAME_DAY_AMENDMENT_CHANCE:
            # amended the day it was locked, e.g. a service added right after the meeting
            self.add(
                student,
                program,
                "iep_amendment",
                meeting,
                end=plan_end,
                amends=iep_id,
                fields=fields,
                sections=sections,
                draft=iep_completed_at is None,
                completed_at=iep_completed_at and iep_completed_at + timedelta(minutes=30),
            )
            self.same_day_amendments += 1
        if rng.random() < AMENDMENT_CHANCE:
            amended = {**fields, "test_type": _pick(rng, TEST_TYPES)}
            self.add(
                student,
                program,
                "iep_amendment",
                self.days_after(meeting, 20, 200),
                end=plan_end,
                amends=iep_id,
                fields=amended,
                sections=sections,
            )

    def section_504(self, student: PlanStudent, start: date, until: date | None = None) -> None:
        """A 504 plan from `start`, renewed yearly; `until` is an IEP that replaces it."""
        rng, program = self.rng, "section_504"
        impairment = rng.choice(IMPAIRMENTS)
        accommodations = sorted(rng.sample(TEST_ACCOMMODATIONS, rng.randint(1, 3)))
        fields = {
            "eligible": True,
            "impairment": impairment,
            "state_test_accommodations": accommodations,
            "el_status": "not_el",
        }
        sections = {
            "present_levels": f"A {impairment.lower()} diagnosis limits a major life activity.",
            "accommodations": accommodations,
            "team": ["504 coordinator", "general education teacher", "parent"],
        }
        self.add(student, program, "504_eligibility", start, fields=fields, sections=sections)

        exit_on = until
        if exit_on is None and rng.random() < EXIT_CHANCES["504_exit"]:
            exit_on = self.days_after(start, 120, 800)
        meeting = self.days_after(start, 0, 14)
        while meeting < self.today and (exit_on is None or meeting < exit_on):
            self.add(
                student,
                program,
                "504_plan",
                meeting,
                end=meeting + timedelta(days=364),
                fields=fields,
                sections=sections,
            )
            meeting = self.days_after(meeting, 330, 364)

        keeps_plan = until is not None and rng.random() < KEEPS_504_AFTER_IEP
        if exit_on and not keeps_plan:
            self.add(student, program, "504_exit", exit_on, fields={"exit_reason": "504_exit"})

    def english_learner(self, student: PlanStudent, start: date) -> None:
        rng, program = self.rng, "english_learners"
        language = _pick(rng, HOME_LANGUAGES)
        self.add(
            student,
            program,
            "el_identification",
            start,
            fields={
                "el_status": "el",
                "home_language": language,
                "proficiency_level": 1,
                "program_codes": [ENGLISH_LEARNER_PROGRAM_CODE],
            },
            sections={"present_levels": "Screener results below the proficient range."},
        )
        year_end = _school_year_end(start)
        level = 1
        exits = rng.random() < EXIT_CHANCES["el_exit"]
        while _school_year_start(year_end) < self.today:
            meeting = max(start, _school_year_start(year_end))
            if exits and level >= 4:
                self.add(
                    student,
                    program,
                    "el_exit",
                    meeting,
                    fields={"el_status": "exited", "home_language": language},
                )
                return
            self.add(
                student,
                program,
                "el_plan",
                meeting,
                end=year_end,
                fields={
                    "el_status": "el",
                    "home_language": language,
                    "proficiency_level": level,
                    "program_codes": [ENGLISH_LEARNER_PROGRAM_CODE],
                },
                sections={
                    "goals": [{"area": "English language proficiency", "goal": "Reach level 5"}],
                    "services": [{"service": "ESL instruction", "minutes_per_week": 150}],
                    "team": ["EL teacher", "classroom teacher", "parent"],
                },
            )
            level = min(5, level + rng.randint(0, 2))
            year_end = date(year_end.year + 1, 6, 5)

    def yearly_plan(
        self,
        student: PlanStudent,
        program: str,
        plan_type: str,
        exit_type: str,
        first_year_end: date,
    ) -> None:
        """A plan written for each school year (WEP, RIMP); a skipped year lets it lapse."""
        rng = self.rng
        areas = (
            rng.sample(GIFTED_AREAS, rng.randint(1, 2)) if program == "advanced_learners" else []
        )
        exits = rng.random() < EXIT_CHANCES[exit_type]
        year_end = first_year_end
        while _school_year_start(year_end) < self.today:
            meeting = self.days_after(_school_year_start(year_end), 0, 30)
            if exits and year_end > first_year_end:
                self.add(student, program, exit_type, meeting, fields={"exit_reason": exit_type})
                return
            if rng.random() > 0.1:  # one year in ten the plan is not renewed
                fields = (
                    {"gifted_areas": areas}
                    if program == "advanced_learners"
                    else {"reading_diagnostic": "not on track", "grade": student.grade}
                )
                self.add(
                    student,
                    program,
                    plan_type,
                    meeting,
                    end=year_end,
                    fields=fields,
                    sections={
                        "goals": [{"area": areas[0] if areas else "reading", "goal": "Grow"}],
                        "team": ["teacher", "parent"],
                    },
                )
            year_end = date(year_end.year + 1, 6, 5)

    def student(self, student: PlanStudent) -> None:
        rng = self.rng
        history_days = (self.today - HISTORY_START).days
        start = self.days_after(HISTORY_START, 0, max(0, history_days - 20))

        draw = rng.random()
        if draw < SPECIAL_EDUCATION_SHARE:
            story = _pick(rng, IEP_STORIES)
            if story == "from_504":
                iep_start = max(start, HISTORY_START + timedelta(days=200))
                iep_date = self.special_education(student, "evaluated_here", iep_start)
                self.section_504(student, self.some_day(HISTORY_START, iep_start), until=iep_date)
                self.moved_504_to_iep += 1
            else:
                if story == "continuing":
                    start = self.some_day(HISTORY_START, HISTORY_START + timedelta(days=300))
                self.special_education(student, story, start)
        elif draw < SPECIAL_EDUCATION_SHARE + SECTION_504_SHARE:
            self.section_504(student, start)

        if rng.random() < ENGLISH_LEARNER_SHARE:
            self.english_learner(student, self.some_day(HISTORY_START, self.today))
        if rng.random() < ADVANCED_LEARNER_SHARE:
            first = _school_year_end(self.some_day(HISTORY_START, self.today))
            self.yearly_plan(student, "advanced_learners", "wep", "wep_exit", first)
        if student.grade in K4_GRADES and rng.random() < K4_READING_SHARE:
            first = _school_year_end(self.today - timedelta(days=rng.choice((0, 365))))
            self.yearly_plan(student, "k4_literacy", "rimp", "rimp_exit", first)


def generate_plan_documents(
    app_db: AppDatabase, *, seed: int = 7, today: date
) -> PlanPopulationSummary:
    """Fill the app database with plan documents for its plan students; deterministic per seed.

    Does nothing (and says so) when the app database already holds plan documents.
    """
    started = time.monotonic()
    if app_db.documents.count():
        logger.info("app database already holds plan documents; plan population skipped")
        return PlanPopulationSummary(skipped=True)

    students = app_db.students()
    with app_db.transaction():
        population = _Population(random.Random(seed), today, app_db.documents.next_id())
        for student in students:
            population.student(student)
        app_db.documents.add_many(population.documents, actor=PLANS_ACTOR)

    documents = population.documents
    completed = [document for document in documents if document.completed_at]
    cutover = datetime(DEFAULT_CUTOVER.year, DEFAULT_CUTOVER.month, DEFAULT_CUTOVER.day, tzinfo=UTC)
    summary = PlanPopulationSummary(
        plan_students=len(students),
        documents=len(documents),
        completed=len(completed),
        drafts=len(documents) - len(completed),
        students_by_program={
            program: len(ids) for program, ids in sorted(population.students.items())
        },
        documents_by_type=dict(sorted(Counter(d.document_type for d in documents).items())),
        moved_504_to_iep=population.moved_504_to_iep,
        same_day_amendments=population.same_day_amendments,
        completed_before_cutover=sum(1 for d in completed if d.completed_at < cutover),
        seconds=round(time.monotonic() - started, 2),
    )
    logger.info(
        "generated %d plan documents (%d drafts) for %d plan students in %.1f s",
        summary.documents,
        summary.drafts,
        summary.plan_students,
        summary.seconds,
    )
    return summary
