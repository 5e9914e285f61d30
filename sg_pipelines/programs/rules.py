"""Which completed plan documents start, continue and end a program participation badge.

The rules are data (`PROGRAM_RULES`); `sg_pipelines/programs/sql/badge_intervals.sql` applies
them to the warehouse snapshot, set-based. What they mean, for every program:

- **Only completed documents count, and only from the day they were completed** (the completion
  instant's date in America/New_York). A document completed after day D changes nothing as of
  D, so a day's participation can be recomputed later and come out the same. Drafts never count.
- A **start** document opens participation on its effective date (`effective_start`, else the
  meeting date, else the completion day) unless the student already participates; then it
  renews the plan (a later annual IEP or 504 plan).
- An **exit** document's effective date is the first day the student is out of the program:
  the badge's last day (`badge_end`, inclusive) is the day before, as the eSchoolPLUS rule
  (end = exit date - 1) and EMIS effective-date records (close one day, open the next) have it.
  An exit while the student does not participate changes nothing. An exit effective on the day
  its plan starts leaves an empty interval, which is no badge.
- An **amendment** continues the plan it amends and never starts or ends participation on its
  own, nor moves any date (EMIS: "amendments do not reset the timeline"). Evaluation reports,
  504 eligibility determinations and amendments are **neutral**: they are plan history, not
  participation.
- Documents of one day are taken in effective-date order, then completion order, then id: the
  team's latest word on a day wins (an exit completed after a start on the same effective date
  closes it; a start completed after an exit reopens it the same day).
- **Lapse**: special education, Section 504 and English learners end only by an exit document
  (the peer, SameGoal, end-dates its "student has an IEP" flag when the student exits; an IEP
  past its review date is a late review, not an exit). Written education plans and reading
  improvement plans are written for one school year and lapse: with no renewal effective
  before `effective_end` + `lapse_grace_days` + 1, the badge ends on `effective_end` +
  `lapse_grace_days` (the grace carries a plan over the summer). Until that day has passed the
  badge is open, since a renewal may still come; its `end_document_id` stays empty.
- **Programs do not end each other.** A student who moves from a 504 plan to an IEP keeps the
  Section 504 badge until the 504 team completes a 504 exit. SameGoal lets both be active at
  once (its Pre-ID report picks the most recent of the two), and ending a Campus flag with no
  document saying so would be a decision nobody made.
"""

from __future__ import annotations

from dataclasses import dataclass

from sg_pipelines.programs.documents import DOCUMENT_TYPES
from sg_pipelines.settings import PROGRAM_KEYS

ROLES = ("start", "exit", "amendment", "neutral")


@dataclass(frozen=True)
class ProgramRules:
    """How one program's completed documents make its participation badges."""

    program: str
    starts: frozenset[str]
    exits: frozenset[str]
    amendments: frozenset[str] = frozenset()
    lapse_grace_days: int | None = None

    def role(self, document_type: str) -> str:
        """`start`, `exit`, `amendment` or `neutral` (a known type that moves no badge)."""
        if document_type not in DOCUMENT_TYPES[self.program]:
            raise ValueError(f"unknown document type {document_type!r} for {self.program}")
        if document_type in self.starts:
            return "start"
        if document_type in self.exits:
            return "exit"
        if document_type in self.amendments:
            return "amendment"
        return "neutral"


PROGRAM_RULES: dict[str, ProgramRules] = {
    "special_education": ProgramRules(
        "special_education",
        starts=frozenset({"iep_initial", "iep_annual", "iep_transfer"}),
        exits=frozenset({"sped_exit", "sped_revocation"}),
        amendments=frozenset({"iep_amendment"}),
    ),
    "section_504": ProgramRules(
        "section_504",
        starts=frozenset({"504_plan"}),
        exits=frozenset({"504_exit"}),
    ),
    "english_learners": ProgramRules(
        "english_learners",
        starts=frozenset({"el_identification", "el_plan"}),
        exits=frozenset({"el_exit"}),
    ),
    "advanced_learners": ProgramRules(
        "advanced_learners",
        starts=frozenset({"wep"}),
        exits=frozenset({"wep_exit"}),
        lapse_grace_days=90,
    ),
    "k4_literacy": ProgramRules(
        "k4_literacy",
        starts=frozenset({"rimp"}),
        exits=frozenset({"rimp_exit"}),
        lapse_grace_days=90,
    ),
}


def rule_rows(programs: list[str] | None = None) -> list[tuple[str, str, str, int | None]]:
    """`(program, document_type, role, lapse_grace_days)` for every known document type.

    The badge SQL joins the warehouse documents to these rows.
    """
    rows = []
    for program in programs or PROGRAM_KEYS:
        rules = PROGRAM_RULES[program]
        for document_type in DOCUMENT_TYPES[program]:
            rows.append((program, document_type, rules.role(document_type), rules.lapse_grace_days))
    return rows
