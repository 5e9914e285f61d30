"""The participation rules, program by program, as tables of documents and the badge they make."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from sg_pipelines.programs.documents import DOCUMENT_TYPES
from sg_pipelines.programs.rules import PROGRAM_RULES, ROLES, rule_rows
from sg_pipelines.settings import PROGRAM_KEYS
from sg_pipelines_tests.programs.test_badges import badges_as_of, doc

SEP_10 = date(2025, 9, 10)
DAY = date(2025, 10, 1)


def test_every_program_has_rules_for_exactly_its_document_types():
    assert tuple(PROGRAM_RULES) == PROGRAM_KEYS == tuple(DOCUMENT_TYPES)
    for program, rules in PROGRAM_RULES.items():
        assert rules.starts and rules.exits
        assert rules.starts | rules.exits | rules.amendments <= set(DOCUMENT_TYPES[program])
        assert not rules.starts & rules.exits
    assert {role for _, _, role, _ in rule_rows()} <= set(ROLES)


@pytest.mark.parametrize(
    ("program", "document_type", "role"),
    [
        ("special_education", "iep_initial", "start"),
        ("special_education", "iep_annual", "start"),
        ("special_education", "iep_transfer", "start"),
        ("special_education", "iep_amendment", "amendment"),
        ("special_education", "etr_initial", "neutral"),
        ("special_education", "etr_transfer", "neutral"),
        ("special_education", "sped_exit", "exit"),
        ("special_education", "sped_revocation", "exit"),
        ("section_504", "504_eligibility", "neutral"),
        ("section_504", "504_plan", "start"),
        ("section_504", "504_exit", "exit"),
        ("english_learners", "el_identification", "start"),
        ("english_learners", "el_exit", "exit"),
        ("advanced_learners", "wep", "start"),
        ("k4_literacy", "rimp_exit", "exit"),
    ],
)
def test_document_roles(program, document_type, role):
    assert PROGRAM_RULES[program].role(document_type) == role


def test_a_type_from_another_program_has_no_role():
    with pytest.raises(ValueError, match="unknown document type"):
        PROGRAM_RULES["section_504"].role("iep_initial")


# (program, documents, expected intervals on DAY: start, end, start doc, end doc, active)
RULE_TABLE = [
    pytest.param(
        "special_education",
        [doc(1, "iep_initial", SEP_10, end=date(2026, 9, 9))],
        [(SEP_10, None, 1, None, True)],
        id="an initial IEP starts participation on its effective start",
    ),
    pytest.param(
        "special_education",
        [doc(1, "etr_initial", SEP_10)],
        [],
        id="an evaluation team report alone starts nothing",
    ),
    pytest.param(
        "special_education",
        [doc(1, "iep_transfer", SEP_10), doc(2, "etr_transfer", SEP_10)],
        [(SEP_10, None, 1, None, True)],
        id="a transfer IEP starts participation",
    ),
    pytest.param(
        "special_education",
        [doc(1, "iep_initial", date(2024, 9, 1)), doc(2, "iep_annual", date(2025, 8, 28))],
        [(date(2024, 9, 1), None, 1, None, True)],
        id="an annual review continues the plan",
    ),
    pytest.param(
        "special_education",
        [doc(1, "iep_annual", SEP_10)],
        [(SEP_10, None, 1, None, True)],
        id="an annual IEP whose initial predates the system starts participation",
    ),
    pytest.param(
        "special_education",
        [doc(1, "iep_initial", date(2025, 3, 1)), doc(2, "sped_exit", date(2025, 9, 15))],
        [(date(2025, 3, 1), date(2025, 9, 14), 1, 2, False)],
        id="an exit ends participation the day before its effective date",
    ),
    pytest.param(
        "special_education",
        [doc(1, "iep_initial", date(2025, 3, 1)), doc(2, "sped_revocation", date(2025, 10, 1))],
        [(date(2025, 3, 1), date(2025, 9, 30), 1, 2, False)],
        id="a revocation of consent ends participation",
    ),
    pytest.param(
        "special_education",
        [
            doc(1, "iep_initial", SEP_10),
            doc(2, "sped_exit", date(2025, 11, 1), completed=date(2025, 9, 20)),
        ],
        [(SEP_10, date(2025, 10, 31), 1, 2, True)],
        id="an exit completed early with a later effective date shows the known end",
    ),
    pytest.param(
        "special_education",
        [doc(1, "sped_exit", date(2025, 3, 1)), doc(2, "iep_initial", SEP_10)],
        [(SEP_10, None, 2, None, True)],
        id="an exit with nothing to end changes nothing",
    ),
    pytest.param(
        "special_education",
        [doc(1, "iep_initial", SEP_10), doc(2, "sped_exit", SEP_10)],
        [],
        id="an exit effective on the plan's first day leaves no badge",
    ),
    pytest.param(
        "special_education",
        [
            doc(1, "iep_initial", date(2024, 9, 1)),
            doc(2, "sped_exit", date(2025, 1, 10)),
            doc(3, "iep_initial", SEP_10),
        ],
        [(date(2024, 9, 1), date(2025, 1, 9), 1, 2, False), (SEP_10, None, 3, None, True)],
        id="a new IEP after an exit opens a second interval",
    ),
    pytest.param(
        "special_education",
        [doc(1, "iep_initial", SEP_10), doc(2, "iep_amendment", SEP_10, amends=1)],
        [(SEP_10, None, 1, None, True)],
        id="a same-day amendment continues the plan it amends",
    ),
    pytest.param(
        "special_education",
        [
            doc(1, "iep_initial", SEP_10, status="draft"),
            doc(2, "iep_amendment", date(2025, 9, 20), amends=1),
        ],
        [],
        id="an amendment never starts participation alone",
    ),
    pytest.param(
        "special_education",
        [doc(1, "iep_initial", SEP_10, status="draft")],
        [],
        id="E7: a draft dated inside the window makes no badge",
    ),
    pytest.param(
        "special_education",
        [doc(1, "iep_initial", SEP_10), doc(2, "sped_exit", date(2025, 9, 20), status="draft")],
        [(SEP_10, None, 1, None, True)],
        id="a draft exit ends nothing",
    ),
    pytest.param(
        "special_education",
        [doc(1, "iep_initial", SEP_10, completed=date(2025, 10, 2))],
        [],
        id="a document completed after the day does not count on the day",
    ),
    pytest.param(
        "special_education",
        [
            doc(1, "iep_initial", SEP_10),
            doc(2, "sped_exit", date(2025, 9, 20), completed=date(2025, 10, 2)),
        ],
        [(SEP_10, None, 1, None, True)],
        id="an exit completed after the day does not end the badge on the day",
    ),
    pytest.param(
        "special_education",
        [
            doc(
                1,
                "iep_initial",
                SEP_10,
                # 23:30 in Ohio on 1 October is already 2 October in UTC
                completed=datetime(2025, 10, 2, 3, 30, tzinfo=UTC),
            )
        ],
        [(SEP_10, None, 1, None, True)],
        id="completion counts on its day in America/New_York",
    ),
    pytest.param(
        "section_504",
        [doc(1, "504_eligibility", SEP_10)],
        [],
        id="a 504 eligibility determination alone starts nothing",
    ),
    pytest.param(
        "section_504",
        [doc(1, "504_eligibility", SEP_10), doc(2, "504_plan", date(2025, 9, 12))],
        [(date(2025, 9, 12), None, 2, None, True)],
        id="a 504 plan starts participation",
    ),
    pytest.param(
        "section_504",
        [doc(1, "504_plan", date(2025, 1, 10)), doc(2, "504_exit", SEP_10)],
        [(date(2025, 1, 10), date(2025, 9, 9), 1, 2, False)],
        id="a 504 exit ends participation",
    ),
    pytest.param(
        "section_504",
        [doc(1, "504_plan", date(2025, 1, 10)), doc(2, "iep_initial", SEP_10)],
        [(date(2025, 1, 10), None, 1, None, True)],
        id="an IEP does not end a 504 plan without a 504 exit",
    ),
    pytest.param(
        "special_education",
        [
            doc(1, "504_plan", date(2025, 1, 10)),
            doc(2, "504_exit", SEP_10),
            doc(3, "iep_initial", SEP_10),
        ],
        [(SEP_10, None, 3, None, True)],
        id="a student moved from a 504 plan starts special education on the IEP",
    ),
    pytest.param(
        "section_504",
        [
            doc(1, "504_plan", date(2025, 1, 10)),
            doc(2, "504_exit", SEP_10),
            doc(3, "iep_initial", SEP_10),
        ],
        [(date(2025, 1, 10), date(2025, 9, 9), 1, 2, False)],
        id="a student moved to an IEP leaves 504 the day before",
    ),
    pytest.param(
        "english_learners",
        [doc(1, "el_identification", date(2024, 8, 20)), doc(2, "el_plan", SEP_10)],
        [(date(2024, 8, 20), None, 1, None, True)],
        id="an EL identification starts participation and the plan continues it",
    ),
    pytest.param(
        "english_learners",
        [doc(1, "el_identification", date(2024, 8, 20)), doc(2, "el_exit", SEP_10)],
        [(date(2024, 8, 20), date(2025, 9, 9), 1, 2, False)],
        id="an EL exit ends participation",
    ),
    pytest.param(
        "advanced_learners",
        [
            doc(1, "wep", date(2024, 8, 20), end=date(2025, 6, 5)),
            doc(2, "wep", date(2025, 8, 25), end=date(2026, 6, 5)),
        ],
        [(date(2024, 8, 20), None, 1, None, True)],
        id="a WEP renewed within the grace continues over the summer",
    ),
    pytest.param(
        "advanced_learners",
        [doc(1, "wep", date(2025, 8, 20)), doc(2, "wep_exit", SEP_10)],
        [(date(2025, 8, 20), date(2025, 9, 9), 1, 2, False)],
        id="a WEP exit ends participation",
    ),
    pytest.param(
        "k4_literacy",
        [doc(1, "rimp", date(2025, 8, 20), end=date(2026, 5, 29))],
        [(date(2025, 8, 20), None, 1, None, True)],
        id="a reading improvement plan starts participation",
    ),
    pytest.param(
        "k4_literacy",
        [doc(1, "rimp", date(2024, 8, 20), end=date(2025, 5, 29))],
        [(date(2024, 8, 20), date(2025, 8, 27), 1, None, False)],
        id="a reading improvement plan not renewed lapses after the grace",
    ),
    pytest.param(
        "k4_literacy",
        [doc(1, "rimp", date(2025, 8, 20)), doc(2, "rimp_exit", SEP_10)],
        [(date(2025, 8, 20), date(2025, 9, 9), 1, 2, False)],
        id="a reading improvement plan exit ends participation",
    ),
]


@pytest.mark.parametrize(("program", "documents", "expected"), RULE_TABLE)
def test_participation_rules(program, documents, expected):
    assert badges_as_of(documents, program, DAY) == expected
