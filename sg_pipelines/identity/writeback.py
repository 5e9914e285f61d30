"""Writing one run's linking decisions back to the app database."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from sg_pipelines.appdb import AppDatabase, Contact, NewStudent, PlanStudent
from sg_pipelines.identity.linking import (
    BY_EMIS_STUDENT_ID,
    BY_INTERNAL_SIS_ID,
    BY_LOCAL_ID,
    BY_STATE_ID,
    CREATED,
    Link,
    LinkDecisions,
    RosterStudent,
)


@dataclass
class LinkSummary:
    """Counts for one linking run; our ids and counts only.

    `linked_by_*` count every roster student linked at that key this run (a re-key is also
    counted under the key that found it); `unchanged` are linked students nothing was written for.
    """

    linked_by_internal_sis_id: int = 0
    linked_by_emis_student_id: int = 0
    linked_by_state_id: int = 0
    linked_by_local_id: int = 0
    created: int = 0
    rekeyed: int = 0
    sent_to_review: int = 0
    updated: int = 0
    deactivated: int = 0
    reactivated: int = 0
    unchanged: int = 0
    inactive_not_linked: int = 0

    @property
    def newly_linked(self) -> int:
        """Existing plan students that received a sourcedId this run (re-keys included)."""
        return self.linked_by_emis_student_id + self.linked_by_state_id + self.linked_by_local_id

    def as_metadata(self) -> dict[str, int]:
        return {**asdict(self), "newly_linked": self.newly_linked}


@dataclass
class WriteBack:
    """What the app database now holds for this run: the summary and every link with its id."""

    summary: LinkSummary
    links: list[Link] = field(default_factory=list)


_LINKED_BY_FIELD = {
    BY_INTERNAL_SIS_ID: "linked_by_internal_sis_id",
    BY_EMIS_STUDENT_ID: "linked_by_emis_student_id",
    BY_STATE_ID: "linked_by_state_id",
    BY_LOCAL_ID: "linked_by_local_id",
}


def demographic_changes(plan: PlanStudent, student: RosterStudent) -> dict[str, Any]:
    """Fields where the roster knows better than the plan system; a missing value never erases."""
    wanted = {
        "first_name": student.given_name,
        "last_name": student.family_name,
        "birth_date": student.birth_date,
        "emis_student_id": student.emis_student_id,
        "state_id": student.state_id,
        "local_id": student.local_id,
        "building_irn": student.building_irn,
        "grade": student.grade,
    }
    return {
        name: value
        for name, value in wanted.items()
        if value not in (None, "") and getattr(plan, name) != value
    }


def new_student(student: RosterStudent) -> NewStudent:
    return NewStudent(
        internal_sis_student_id=student.sourced_id,
        first_name=student.given_name,
        last_name=student.family_name,
        birth_date=student.birth_date,
        emis_student_id=student.emis_student_id,
        state_id=student.state_id,
        local_id=student.local_id,
        building_irn=student.building_irn,
        grade=student.grade,
    )


def apply_decisions(
    app_db: AppDatabase,
    decisions: LinkDecisions,
    roster: Sequence[RosterStudent],
    contacts: Mapping[str, Sequence[Contact]],
    *,
    actor: str,
    run_id: str,
) -> WriteBack:
    """Write links, re-keys, activity, demographics, contacts and new students, in one transaction.

    Any failure rolls the whole run back, so the app database keeps its last good state.
    """
    students = {student.sourced_id: student for student in roster}
    summary = LinkSummary(
        sent_to_review=len(decisions.reviews),
        inactive_not_linked=len(decisions.inactive_unlinked),
    )
    links: list[Link] = []

    with app_db.transaction():
        plan_students = {plan.id: plan for plan in app_db.students()}
        current_contacts = app_db.contacts_by_student()

        for link in decisions.links:
            student = students[link.sourced_id]
            plan = plan_students[link.plan_student_id]
            field_name = _LINKED_BY_FIELD[link.matched_by]
            setattr(summary, field_name, getattr(summary, field_name) + 1)
            wrote = False

            if link.needs_write_back:
                detail = {"matched_by": link.matched_by, "run_id": run_id}
                app_db.set_internal_sis_id(plan.id, link.sourced_id, actor=actor, detail=detail)
                summary.rekeyed += link.is_rekey
                wrote = True

            if plan.active != student.is_active:
                app_db.set_active(plan.id, student.is_active, actor=actor)
                summary.deactivated += not student.is_active
                summary.reactivated += student.is_active
                wrote = True

            if student.is_active:
                changes = demographic_changes(plan, student)
                known = {
                    contact.external_id: contact for contact in current_contacts.get(plan.id, [])
                }
                changed_contacts = [
                    contact
                    for contact in contacts.get(student.sourced_id, [])
                    if known.get(contact.external_id) != contact
                ]
                if changes:
                    app_db.update_student(plan.id, changes, actor=actor)
                if changed_contacts:
                    app_db.upsert_contacts(plan.id, changed_contacts, actor=actor)
                if changes or changed_contacts:
                    summary.updated += 1
                    wrote = True

            summary.unchanged += not wrote
            links.append(link)

        for sourced_id in decisions.creations:
            student = students[sourced_id]
            plan_id = app_db.create_student(
                new_student(student), contacts.get(sourced_id, []), actor=actor
            )
            summary.created += 1
            links.append(Link(sourced_id, plan_id, CREATED, None))

    return WriteBack(summary=summary, links=links)
