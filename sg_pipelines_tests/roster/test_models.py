"""Parsing rules at the edge: what providers really send, and what we refuse to guess."""

import json
from datetime import UTC, datetime

import pytest

from sg_pipelines.roster.collections import DEMOGRAPHICS, ENROLLMENTS, USERS
from sg_pipelines.roster.errors import EnvelopeError
from sg_pipelines.roster.models import (
    Demographics,
    User,
    normalise_emis_student_id,
    parse_flag,
    parse_instant,
    strict_date,
)
from sg_pipelines.roster.parsing import PageParser, parse_records
from sg_pipelines.roster.sync import delta_filter
from sg_pipelines_tests.roster.fake_provider import user

# The rule tables, shared with test_sql_staging.py, which runs them through the staging SQL.
FLAGS = [
    ("true", True), ("TRUE", True), ("True", True), (True, True),
    ("false", False), ("FALSE", False), (False, False), ("", None), (None, None),
]  # fmt: skip
REFUSED_FLAGS = ["yes", "1", 1, "t"]
DATES = [
    ("2012-01-02", "2012-01-02", False),
    ("2012-13-01", None, True),
    ("01/02/2012", None, True),
    ("2012-02-30", None, True),
    ("2012-1-2", None, True),
    ("2012-02-29", "2012-02-29", False),  # a leap day
    ("2013-02-29", None, True),
    ("2012-01-05T00:00:00Z", None, True),  # a date-time where a date is expected
    ("2012-01-05 00:00:00", None, True),
    (" 2012-01-05", None, True),
    ("2012-01-05 ", None, True),
    ("20120105", None, True),
    ("2012/01/05", None, True),
    ("05-01-2012", None, True),
    ("0000-01-01", None, True),
    ("", None, False),
    (None, None, False),
]
# dates that are not even text: the record still imports, the date is null with a warning
NON_TEXT_DATES = [True, False, 20120105, 2012.5, {}, [], ["2012-01-05"], {"date": "2012-01-05"}]
INSTANTS = [
    ("2025-03-04T10:00:00Z", datetime(2025, 3, 4, 10, 0, tzinfo=UTC)),
    ("2025-03-04T05:00:00-05:00", datetime(2025, 3, 4, 10, 0, tzinfo=UTC)),
    ("2025-03-04T10:00:00.123Z", datetime(2025, 3, 4, 10, 0, 0, 123000, tzinfo=UTC)),
    ("2025-03-04T10:00:00", datetime(2025, 3, 4, 10, 0, tzinfo=UTC)),
]
EMIS_STUDENT_IDS = [
    ("12345", "000012345", False),
    (12345, "000012345", False),
    ("000012345", "000012345", False),
    ("123456789", "123456789", False),
    ("1234567890", None, True),
    ("12-345", None, True),
    ("AB1234567", None, True),
    ("", None, False),
    (None, None, False),
]


def row_of(model, record, collection=USERS):
    warnings = []
    row = model.model_validate(record).row(lambda field, reason: warnings.append(field))
    return dict(zip(collection.columns, row, strict=True)), warnings


@pytest.mark.parametrize(("value", "expected"), FLAGS)
def test_booleans_accept_every_spelling_providers_send(value, expected):
    assert parse_flag(value) is expected


@pytest.mark.parametrize("value", REFUSED_FLAGS)
def test_booleans_refuse_anything_else(value):
    with pytest.raises(ValueError):
        parse_flag(value)


@pytest.mark.parametrize(("value", "expected", "warned"), DATES)
def test_dates_are_iso_only_and_never_swapped(value, expected, warned):
    warnings = []
    assert strict_date(value, "birthDate", lambda f, r: warnings.append(f)) == expected
    assert bool(warnings) is warned


def test_a_bad_birth_date_still_imports_the_record_with_a_warning():
    record = {"sourcedId": "stu-1", "birthDate": "01/02/2012", "sex": "Female", "white": True}

    row, warnings = row_of(Demographics, record, DEMOGRAPHICS)

    assert row["birth_date"] is None
    assert warnings == ["birthDate"]
    assert row["sex"] == "female"  # Ed-Fi capitalises sex
    assert row["white"] is True


@pytest.mark.parametrize("value", NON_TEXT_DATES)
@pytest.mark.parametrize(
    ("collection", "record", "field"),
    [
        (DEMOGRAPHICS, {"sourcedId": "stu-1"}, "birthDate"),
        (ENROLLMENTS, {"sourcedId": "enr-1", "user": "stu-1"}, "beginDate"),
        (ENROLLMENTS, {"sourcedId": "enr-1", "user": "stu-1"}, "endDate"),
    ],
)
def test_a_date_that_is_not_text_is_null_with_a_warning_never_a_rejected_record(
    collection, record, field, value
):
    page = parse_records(collection, [{**record, field: value}])

    assert page.quarantined == []
    [row] = page.rows
    column = {"birthDate": "birth_date", "beginDate": "begin_date", "endDate": "end_date"}[field]
    assert dict(zip(collection.columns, row, strict=True))[column] is None
    assert [(warning.field, warning.sourced_id) for warning in page.warnings] == [
        (field, record["sourcedId"])
    ]


@pytest.mark.parametrize(("value", "expected"), INSTANTS)
def test_date_last_modified_becomes_utc_aware(value, expected):
    parsed = parse_instant(value)
    assert parsed == expected
    assert parsed.utcoffset().total_seconds() == 0


def test_cursor_comparisons_are_made_in_utc():
    # A15: a stored cursor against the same instant written with a -05:00 offset
    cursor = parse_instant("2025-03-04T10:00:00Z")

    assert parse_instant("2025-03-04T04:59:59-05:00") < cursor
    assert parse_instant("2025-03-04T05:00:00-05:00") == cursor


def test_delta_filter_subtracts_the_lookback_in_seconds_and_writes_utc():
    cursor = parse_instant("2025-03-04T05:00:00-05:00")

    assert delta_filter(cursor, 3600) == "dateLastModified>'2025-03-04T09:00:00Z'"
    assert delta_filter(cursor, 0) == "dateLastModified>'2025-03-04T10:00:00Z'"


@pytest.mark.parametrize(
    ("given", "family"),
    [
        ({"preferredFirstName": "Al"}, {"preferredLastName": "Smith"}),
        ({"preferredGivenName": "Al"}, {"preferredFamilyName": "Smith"}),
    ],
)
def test_both_preferred_name_spellings_are_read(given, family):
    row, _ = row_of(User, user("stu-1", **given, **family))

    assert (row["preferred_first_name"], row["preferred_last_name"]) == ("Al", "Smith")


def test_unknown_ext_roles_are_kept():
    record = user("u-1", roles=[{"roleType": "primary", "role": "ext:caseworker"}])

    row, _ = row_of(User, record)

    assert row["primary_role"] == "ext:caseworker"
    assert row["role_names"] == '["ext:caseworker"]'


def test_ed_fi_json_booleans_and_null_lists_are_accepted():
    row, _ = row_of(User, user("u-1", enabledUser=False, agents=None, grades=None))

    assert row["enabled_user"] is False
    assert row["agent_sourced_ids"] == "[]"


@pytest.mark.parametrize(("value", "expected", "warned"), EMIS_STUDENT_IDS)
def test_emis_student_id_is_nine_digits_with_leading_zeros(value, expected, warned):
    warnings = []
    assert normalise_emis_student_id(value, lambda f, r: warnings.append(f)) == expected
    assert bool(warnings) is warned


def test_state_id_comes_from_metadata_or_user_ids():
    from_metadata, _ = row_of(User, user("a", metadata={"ic": {"stateId": "OH1"}}))
    from_user_ids, _ = row_of(User, user("b", userIds=[{"type": "stateId", "identifier": "OH2"}]))

    assert (from_metadata["state_id"], from_user_ids["state_id"]) == ("OH1", "OH2")


def test_inactive_is_read_as_tobedeleted():
    row, _ = row_of(User, user("u-1", status="inactive"))
    assert row["status"] == "tobedeleted"


def test_a_page_with_bad_records_quarantines_only_those():
    records = [user("u-1"), {"givenName": "x"}, "not an object", user("u-2", status="weird")]

    page = PageParser(USERS)(json.dumps({"users": records}).encode())

    assert page.record_count == 4
    assert [row[0] for row in page.rows] == ["u-1"]
    assert [(q.sourced_id, q.reason) for q in page.quarantined] == [
        (None, "sourcedId: Field required"),
        (None, "not a JSON object"),
        ("u-2", "status: Value error, status must be active or tobedeleted"),
    ]


def test_enrollments_without_a_user_are_quarantined():
    page = PageParser(ENROLLMENTS)(b'{"enrollments": [{"sourcedId": "e-1"}]}')

    assert page.quarantined[0].reason.startswith("user:")


@pytest.mark.parametrize(
    "body", [b"{}", b'{"errors": [{"message": "boom"}]}', b"[]", b'{"users": null}', b"<html>"]
)
def test_a_success_without_the_envelope_is_an_error_not_an_empty_roster(body):
    with pytest.raises(EnvelopeError):
        PageParser(USERS)(body)
