"""Matching roster students to plan-system students: the rules, as pure functions.

A roster student (keyed by Campus `sourcedId`) is matched by the first key that finds anyone, in
this order: an Internal SIS Student Id equal to the sourcedId, then the EMIS Student ID, the state
id, the local id. One candidate at that key is a link; two or more go to review, never merged.
A plan student already holding another sourcedId is re-keyed (a Campus id reset), unless that
other sourcedId is an active roster student, in which case the match goes to review instead of
stealing it. Name and birth date alone only ever propose a match for review. Roster students
that match nothing become new plan-system students.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from sg_pipelines.appdb import PlanStudent

BY_INTERNAL_SIS_ID = "internal_sis_id"
BY_EMIS_STUDENT_ID = "emis_student_id"
BY_STATE_ID = "state_id"
BY_LOCAL_ID = "local_id"
CREATED = "created"

# The keys tried after the Internal SIS Student Id, strongest first.
SECOND_KEYS = (BY_EMIS_STUDENT_ID, BY_STATE_ID, BY_LOCAL_ID)

PROPOSED_AMBIGUOUS = "ambiguous"
PROPOSED_CONFLICT = "conflict"
PROPOSED_NAME_BIRTH_DATE = "name_birth_date"

KEY_LABELS = {
    BY_EMIS_STUDENT_ID: "EMIS Student ID",
    BY_STATE_ID: "state id",
    BY_LOCAL_ID: "local id",
}


@dataclass(frozen=True)
class RosterStudent:
    """A student from the warehouse table `roster_students`, as linking needs them."""

    sourced_id: str
    is_active: bool
    given_name: str
    family_name: str
    birth_date: date | None = None
    emis_student_id: str | None = None
    state_id: str | None = None
    local_id: str | None = None
    building_irn: str | None = None
    grade: str | None = None


@dataclass(frozen=True)
class Link:
    """A roster student matched to a plan student.

    `previous_sourced_id` is the Internal SIS Student Id the plan student carried before this run
    (None when it had none).
    """

    sourced_id: str
    plan_student_id: int
    matched_by: str
    previous_sourced_id: str | None = None

    @property
    def needs_write_back(self) -> bool:
        return self.previous_sourced_id != self.sourced_id

    @property
    def is_rekey(self) -> bool:
        return self.previous_sourced_id is not None and self.previous_sourced_id != self.sourced_id


@dataclass(frozen=True)
class Review:
    """A match a person must settle; nothing is written back for it."""

    sourced_id: str
    candidate_plan_student_ids: tuple[int, ...]
    reason: str
    proposed_by: str


@dataclass
class LinkDecisions:
    """What one linking run decided, before anything is written."""

    links: list[Link] = field(default_factory=list)
    reviews: list[Review] = field(default_factory=list)
    creations: list[str] = field(default_factory=list)
    inactive_unlinked: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Proposal:
    rank: int
    sourced_id: str
    key: str
    candidate: PlanStudent


def _name_key(first_name: str, last_name: str, birth_date: date) -> tuple[str, str, date]:
    return first_name.strip().casefold(), last_name.strip().casefold(), birth_date


def match_students(
    roster: Iterable[RosterStudent], plan_students: Iterable[PlanStudent]
) -> LinkDecisions:
    """Decide, for every roster student, link, review, create or nothing (inactive, unlinked)."""
    roster = sorted(roster, key=lambda student: student.sourced_id)
    plan_students = list(plan_students)
    decisions = LinkDecisions()

    # index the plan students by every key
    by_internal_sis_id = {
        plan.internal_sis_student_id: plan for plan in plan_students if plan.internal_sis_student_id
    }
    by_key: dict[str, dict[str, list[PlanStudent]]] = {
        key: defaultdict(list) for key in SECOND_KEYS
    }
    for plan in plan_students:
        for key in SECOND_KEYS:
            value = getattr(plan, key)
            if value:
                by_key[key][value].append(plan)

    # first the Internal SIS Student Id: a link to an active roster student is firm
    links: dict[str, Link] = {}
    firm_owner: dict[int, str] = {}
    pending: list[RosterStudent] = []
    for student in roster:
        plan = by_internal_sis_id.get(student.sourced_id)
        if plan is not None:
            links[student.sourced_id] = Link(
                student.sourced_id, plan.id, BY_INTERNAL_SIS_ID, plan.internal_sis_student_id
            )
            if student.is_active:
                firm_owner[plan.id] = student.sourced_id
        elif student.is_active:
            pending.append(student)
        else:
            decisions.inactive_unlinked.append(student.sourced_id)

    # then the second keys: the first key with any candidate decides
    proposals: dict[int, list[_Proposal]] = defaultdict(list)
    unmatched: list[RosterStudent] = []
    for student in pending:
        for rank, key in enumerate(SECOND_KEYS):
            value = getattr(student, key)
            candidates = by_key[key].get(value, []) if value else []
            if len(candidates) > 1:
                decisions.reviews.append(
                    Review(
                        student.sourced_id,
                        tuple(plan.id for plan in candidates),
                        f"{len(candidates)} plan students share this {KEY_LABELS[key]}",
                        PROPOSED_AMBIGUOUS,
                    )
                )
            elif candidates and candidates[0].id in firm_owner:
                decisions.reviews.append(
                    Review(
                        student.sourced_id,
                        (candidates[0].id,),
                        f"the plan student with this {KEY_LABELS[key]} is linked to another "
                        "active sourcedId",
                        PROPOSED_CONFLICT,
                    )
                )
            elif candidates:
                proposals[candidates[0].id].append(
                    _Proposal(rank, student.sourced_id, key, candidates[0])
                )
            else:
                continue
            break
        else:
            unmatched.append(student)

    # a plan student wanted by several roster students goes to the strongest key, if only one
    for plan_id, contenders in proposals.items():
        best = min(proposal.rank for proposal in contenders)
        winners = [proposal for proposal in contenders if proposal.rank == best]
        winner = winners[0] if len(winners) == 1 else None
        for proposal in contenders:
            if proposal is winner:
                continue
            decisions.reviews.append(
                Review(
                    proposal.sourced_id,
                    (plan_id,),
                    f"{len(contenders)} roster students match the same plan student",
                    PROPOSED_CONFLICT,
                )
            )
        if winner is None:
            continue

        # a re-key takes the plan student from an inactive roster student linked to it by id
        previous = winner.candidate.internal_sis_student_id
        if previous in links:
            del links[previous]
            decisions.inactive_unlinked.append(previous)
        links[winner.sourced_id] = Link(winner.sourced_id, plan_id, winner.key, previous)

    # name and birth date only ever propose; anyone else left is new to the plan system
    taken = {link.plan_student_id for link in links.values()}
    by_name: dict[tuple[str, str, date], list[PlanStudent]] = defaultdict(list)
    for plan in plan_students:
        if plan.birth_date and plan.id not in taken:
            by_name[_name_key(plan.first_name, plan.last_name, plan.birth_date)].append(plan)
    for student in unmatched:
        candidates = (
            by_name.get(_name_key(student.given_name, student.family_name, student.birth_date), [])
            if student.birth_date
            else []
        )
        if candidates:
            decisions.reviews.append(
                Review(
                    student.sourced_id,
                    tuple(plan.id for plan in candidates),
                    "no id matches; same name and birth date",
                    PROPOSED_NAME_BIRTH_DATE,
                )
            )
        else:
            decisions.creations.append(student.sourced_id)

    decisions.links = sorted(links.values(), key=lambda link: link.sourced_id)
    decisions.reviews.sort(key=lambda review: review.sourced_id)
    decisions.inactive_unlinked.sort()
    return decisions
