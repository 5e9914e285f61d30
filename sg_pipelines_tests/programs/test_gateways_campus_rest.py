"""The Campus REST adapter against the sandbox: paging, tokens, vendor auth, flag set-up."""

from __future__ import annotations

from datetime import date

import pytest

from sg_pipelines.programs.gateways import FlagChange, FlagSetupError, participation_id
from sg_pipelines_tests.programs.flag_helpers import SPED, VENDOR_KEY, rest_gateway, student_ids


def set_change(sourced_id: str, start: date = date(2025, 3, 1)) -> FlagChange:
    return FlagChange("set", sourced_id, start, None, participation_id(SPED.key, sourced_id, start))


def test_current_flags_reads_every_page(sandbox):
    program = sandbox.flags.add_program("Special Education")
    ids = student_ids(sandbox, 5)
    for sourced_id in ids:
        sandbox.flags.add_participation(program.sourced_id, sourced_id, date(2024, 9, 1))

    with rest_gateway(sandbox, page_size=2) as gateway:
        flags = gateway.current_flags(SPED)

    assert sorted(flag.sourced_id for flag in flags) == sorted(ids)
    assert {flag.created_by for flag in flags} == {None}
    assert sandbox.faults.request_count("participations") == 3


def test_create_mode_creates_the_flag_once_and_finds_it_afterwards(sandbox):
    with rest_gateway(sandbox) as first, rest_gateway(sandbox) as second:
        created = first.ensure_program_flag(SPED)
        found = second.ensure_program_flag(SPED)

    assert created == found
    assert (created.name, created.special_ed, created.active) == ("Special Education", True, True)
    assert len(sandbox.flags.programs) == 1


def test_existing_mode_uses_the_district_flag_whatever_its_case(sandbox):
    made = sandbox.flags.add_program("special education")

    with rest_gateway(sandbox, flag_mode="existing") as gateway:
        flag = gateway.ensure_program_flag(SPED)

    assert flag.flag_id == made.sourced_id


def test_existing_mode_without_the_flag_names_what_to_create(sandbox):
    with (
        rest_gateway(sandbox, flag_mode="existing") as gateway,
        pytest.raises(FlagSetupError, match=r"'Special Education' does not exist.*Flags Setup"),
    ):
        gateway.ensure_program_flag(SPED)


def test_an_expired_token_is_replaced_once_without_failing_the_change(sandbox):
    (s1,) = student_ids(sandbox, 1)
    with rest_gateway(sandbox) as gateway:
        gateway.ensure_program_flag(SPED)
        sandbox.app.state.tokens.expire_all()
        [result] = gateway.apply(SPED, [set_change(s1)])

    assert (result.status, result.attempts) == ("ok", 2)


def test_a_wrong_vendor_secret_fails_the_first_change_and_skips_the_rest(sandbox):
    ids = student_ids(sandbox, 3)
    with rest_gateway(sandbox) as gateway:
        gateway.ensure_program_flag(SPED)
        sandbox.flags.vendor_secret = "rotated"
        results = gateway.apply(SPED, [set_change(sourced_id) for sourced_id in ids])

    assert [r.status for r in results] == ["failed", "skipped", "skipped"]
    assert "vendor key and secret" in results[0].error
    assert sandbox.flags.participations == {}
    assert gateway.owner == VENDOR_KEY


def test_a_refused_change_records_the_status_and_code_but_no_campus_text(sandbox):
    with rest_gateway(sandbox) as gateway:
        [result] = gateway.apply(SPED, [set_change("not-a-student")])

    assert (result.status, result.attempts) == ("failed", 1)
    assert result.error == "HTTP 422 (invaliddata)"
