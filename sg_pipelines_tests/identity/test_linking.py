"""The matching rules, over plain rows: no database involved."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from sg_pipelines.appdb import PlanStudent
from sg_pipelines.identity.linking import (
    BY_EMIS_STUDENT_ID,
    BY_INTERNAL_SIS_ID,
    BY_LOCAL_ID,
    BY_STATE_ID,
    PROPOSED_AMBIGUOUS,
    PROPOSED_CONFLICT,
    PROPOSED_NAME_BIRTH_DATE,
    RosterStudent,
    match_students,
)

SOURCED_ID = "sourced-new"
OLD_SOURCED_ID = "sourced-old"
ROSTER = RosterStudent(
    sourced_id=SOURCED_ID,
    is_active=True,
    given_name="Ada",
    family_name="Byron",
    birth_date=date(2012, 12, 10),
    emis_student_id="000001234",
    state_id="ST1234",
    local_id="L1234",
)


def plan(
    plan_id: int,
    *,
    internal: str | None = None,
    emis: str | None = None,
    state: str | None = None,
    local: str | None = None,
    first_name: str = "Someone",
    last_name: str = "Else",
    birth_date: date | None = None,
    active: bool = True,
) -> PlanStudent:
    return PlanStudent(
        id=plan_id,
        internal_sis_student_id=internal,
        emis_student_id=emis,
        state_id=state,
        local_id=local,
        first_name=first_name,
        last_name=last_name,
        birth_date=birth_date,
        building_irn=None,
        grade=None,
        active=active,
    )


@pytest.mark.parametrize(
    ("plan_students", "linked_plan_id", "matched_by"),
    [
        ([plan(1, internal=SOURCED_ID)], 1, BY_INTERNAL_SIS_ID),
        ([plan(1, emis="000001234")], 1, BY_EMIS_STUDENT_ID),
        ([plan(1, state="ST1234")], 1, BY_STATE_ID),
        ([plan(1, local="L1234")], 1, BY_LOCAL_ID),
        ([plan(1, emis="000001234"), plan(2, internal=SOURCED_ID)], 2, BY_INTERNAL_SIS_ID),
        ([plan(1, state="ST1234"), plan(2, emis="000001234")], 2, BY_EMIS_STUDENT_ID),
        ([plan(1, local="L1234"), plan(2, state="ST1234")], 2, BY_STATE_ID),
        ([plan(1, local="L1234"), plan(2, emis="000009999")], 1, BY_LOCAL_ID),
    ],
    ids=[
        "internal_sis_id",
        "emis_student_id",
        "state_id",
        "local_id",
        "internal_sis_id_beats_emis",
        "emis_beats_state_id",
        "state_id_beats_local_id",
        "other_emis_id_does_not_block_local_id",
    ],
)
def test_first_key_with_one_candidate_links_in_match_order(
    plan_students, linked_plan_id, matched_by
):
    decisions = match_students([ROSTER], plan_students)

    assert [(link.plan_student_id, link.matched_by) for link in decisions.links] == [
        (linked_plan_id, matched_by)
    ]
    assert decisions.reviews == []
    assert decisions.creations == []


@pytest.mark.parametrize(
    ("plan_students", "candidates", "proposed_by"),
    [
        ([plan(1, emis="000001234"), plan(2, emis="000001234")], (1, 2), PROPOSED_AMBIGUOUS),
        ([plan(1, state="ST1234"), plan(2, state="ST1234")], (1, 2), PROPOSED_AMBIGUOUS),
        # the state id would decide alone, but the EMIS Student ID comes first and is ambiguous
        (
            [plan(1, emis="000001234"), plan(2, emis="000001234"), plan(3, state="ST1234")],
            (1, 2),
            PROPOSED_AMBIGUOUS,
        ),
        (
            [plan(1, first_name="ada", last_name="BYRON", birth_date=date(2012, 12, 10))],
            (1,),
            PROPOSED_NAME_BIRTH_DATE,
        ),
    ],
    ids=["two_by_emis", "two_by_state_id", "ambiguous_key_decides", "name_and_birth_date"],
)
def test_two_candidates_or_name_and_birth_date_go_to_review_never_link(
    plan_students, candidates, proposed_by
):
    decisions = match_students([ROSTER], plan_students)

    assert decisions.links == []
    assert decisions.creations == []
    [review] = decisions.reviews
    assert (review.candidate_plan_student_ids, review.proposed_by) == (candidates, proposed_by)


def test_name_with_another_birth_date_creates_a_student():
    plan_students = [plan(1, first_name="Ada", last_name="Byron", birth_date=date(2011, 1, 1))]

    decisions = match_students([ROSTER], plan_students)

    assert decisions.creations == [SOURCED_ID]


def test_new_sourced_id_with_matching_emis_id_rekeys_instead_of_creating():
    decisions = match_students([ROSTER], [plan(1, internal=OLD_SOURCED_ID, emis="000001234")])

    [link] = decisions.links
    assert (link.plan_student_id, link.matched_by, link.previous_sourced_id) == (
        1,
        BY_EMIS_STUDENT_ID,
        OLD_SOURCED_ID,
    )
    assert link.is_rekey
    assert decisions.creations == []


def test_rekey_takes_the_student_from_its_inactive_old_sourced_id():
    old = replace(ROSTER, sourced_id=OLD_SOURCED_ID, is_active=False)

    decisions = match_students([ROSTER, old], [plan(1, internal=OLD_SOURCED_ID, emis="000001234")])

    assert [(link.sourced_id, link.is_rekey) for link in decisions.links] == [(SOURCED_ID, True)]
    assert decisions.inactive_unlinked == [OLD_SOURCED_ID]


def test_candidate_linked_to_another_active_sourced_id_goes_to_review_not_stolen():
    other = replace(ROSTER, sourced_id=OLD_SOURCED_ID, emis_student_id="000005555")

    decisions = match_students(
        [ROSTER, other], [plan(1, internal=OLD_SOURCED_ID, emis="000001234")]
    )

    assert [(link.sourced_id, link.plan_student_id) for link in decisions.links] == [
        (OLD_SOURCED_ID, 1)
    ]
    [review] = decisions.reviews
    assert (review.sourced_id, review.proposed_by) == (SOURCED_ID, PROPOSED_CONFLICT)


def test_two_roster_students_matching_one_plan_student_by_the_same_key_both_go_to_review():
    twin = replace(ROSTER, sourced_id="sourced-twin")

    decisions = match_students([ROSTER, twin], [plan(1, emis="000001234")])

    assert decisions.links == []
    assert sorted(review.sourced_id for review in decisions.reviews) == [SOURCED_ID, "sourced-twin"]


def test_two_roster_students_matching_one_plan_student_the_stronger_key_wins():
    by_local_id = replace(ROSTER, sourced_id="sourced-local", emis_student_id=None, state_id=None)

    decisions = match_students([by_local_id, ROSTER], [plan(1, emis="000001234", local="L1234")])

    assert [(link.sourced_id, link.matched_by) for link in decisions.links] == [
        (SOURCED_ID, BY_EMIS_STUDENT_ID)
    ]
    assert [review.sourced_id for review in decisions.reviews] == ["sourced-local"]


def test_inactive_roster_student_without_a_link_is_neither_created_nor_matched_by_key():
    inactive = replace(ROSTER, is_active=False)

    decisions = match_students([inactive], [plan(1, emis="000001234")])

    assert (decisions.links, decisions.creations, decisions.reviews) == ([], [], [])
    assert decisions.inactive_unlinked == [SOURCED_ID]


def test_inactive_roster_student_keeps_its_link():
    inactive = replace(ROSTER, is_active=False)

    decisions = match_students([inactive], [plan(1, internal=SOURCED_ID)])

    assert [(link.plan_student_id, link.matched_by) for link in decisions.links] == [
        (1, BY_INTERNAL_SIS_ID)
    ]


def test_roster_student_matching_nothing_is_created():
    decisions = match_students([ROSTER], [plan(1, emis="000009999")])

    assert decisions.creations == [SOURCED_ID]
