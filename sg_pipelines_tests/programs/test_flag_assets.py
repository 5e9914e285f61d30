"""The flag assets in Dagster: the newest day pushes, the blocking check stops a mass change."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import duckdb
import pytest
import yaml
from dagster import AssetKey, MaterializeResult, asset, materialize

from sg_pipelines.programs.flag_assets import (
    CONFIRM_LARGE_CHANGE_TAG,
    build_flag_assets,
    is_newest_day,
)
from sg_pipelines.programs.flag_assets import run_created_at as original_run_created_at
from sg_pipelines.programs.flag_checks import build_flag_checks
from sg_pipelines.programs.gateways.resource import FlagsGatewayResource
from sg_pipelines.programs.partitions import partition_key
from sg_pipelines.resources import SettingsResource
from sg_pipelines.settings import SANDBOX_VENDOR_SECRET, load_settings
from sg_pipelines.warehouse import warehouse_resource
from sg_pipelines_tests.programs.flag_helpers import (
    CUTOVER,
    SPED,
    Badge,
    student_ids,
    today,
    write_badges,
)

DAY = today()
STUDENTS = 30


@pytest.fixture
def district(tmp_path, sandbox):
    """Settings, definitions and resources of a district whose flags go to the sandbox."""
    settings_file = tmp_path / "settings.yaml"
    settings_file.write_text(
        yaml.safe_dump(
            {
                "home": str(tmp_path),
                "oneroster": {"token_url": sandbox.token_url},
                "programs": {"special_education": {"enabled": True, "cutover_date": str(CUTOVER)}},
                "flags": {"campus": {"base_url": sandbox.flags_url}},
            }
        )
    )
    settings = load_settings(settings_file, environ={})
    resources = {
        "warehouse": warehouse_resource(settings.warehouse),
        "settings": SettingsResource(settings_file=str(settings_file)),
        "flags_gateway": FlagsGatewayResource.from_settings(
            settings, client_secret=sandbox.client_secret, vendor_secret=SANDBOX_VENDOR_SECRET
        ),
    }
    assets = [*build_flag_assets(settings), *build_flag_checks(settings)]
    return settings, assets, resources


def set_badges(settings, badges: list[Badge], day: date = DAY) -> None:
    with duckdb.connect(str(settings.warehouse)) as conn:
        write_badges(conn, day, badges)


def run(district, day: date = DAY, tags: dict[str, str] | None = None):
    _, assets, resources = district
    return materialize(
        assets,
        partition_key=partition_key(SPED.key, day),
        resources=resources,
        tags=tags,
        raise_on_error=False,
    )


def test_the_newest_day_pushes_and_a_mass_ending_waits_for_confirmation(district, sandbox):
    settings = district[0]
    ids = student_ids(sandbox, STUDENTS)
    set_badges(settings, [Badge(sourced_id, date(2025, 3, 1)) for sourced_id in ids])

    first = run(district)

    assert first.success
    pushed = first.asset_materializations_for_node("flag_push_results")[0].metadata
    assert (pushed["push_status"].value, pushed["flags_set"].value) == ("complete", STUDENTS)
    assert len(sandbox.flags.participations) == STUDENTS

    # a roster scoped to the wrong year: every student inactive (fault catalogue A6)
    set_badges(settings, [Badge(i, date(2025, 3, 1), active_student=False) for i in ids])

    blocked = run(district)

    assert not blocked.success
    [check] = blocked.get_asset_check_evaluations()
    assert not check.passed
    assert "sg/confirm_large_change=true" in check.description
    assert blocked.asset_materializations_for_node("flag_push_results") == []
    assert all(p.end_date is None for p in sandbox.flags.participations.values())

    confirmed = run(district, tags={CONFIRM_LARGE_CHANGE_TAG: "true"})

    assert confirmed.success
    assert all(p.end_date == DAY - timedelta(days=1) for p in sandbox.flags.participations.values())


def test_an_older_day_is_history_and_is_not_pushed(district, sandbox):
    settings = district[0]
    old_day = DAY - timedelta(days=10)
    set_badges(settings, [Badge(student_ids(sandbox, 1)[0], date(2025, 3, 1))], day=old_day)

    result = run(district, day=old_day)

    assert result.success
    deltas = result.asset_materializations_for_node("flag_deltas")[0].metadata
    assert deltas["state"].value == "historical day: not pushed"
    assert sandbox.flags.participations == {}
    assert sandbox.faults.request_count("participations") == 0


def test_the_assets_wait_for_badges_and_the_roster(district):
    _, assets, _ = district
    deltas = next(a for a in assets if getattr(a, "key", None) == AssetKey("flag_deltas"))

    assert set(deltas.dependency_keys) == {
        AssetKey("program_participation_badges"),
        AssetKey("roster_students"),
    }


def test_a_run_created_before_midnight_still_pushes_its_day_after_midnight():
    # created 23:59 in New York on 3 December: 2 December is the newest complete day, whatever
    # the wall clock says when the step finally executes
    created = datetime(2026, 12, 4, 4, 59, tzinfo=UTC)

    assert is_newest_day(date(2026, 12, 2), created)
    assert not is_newest_day(date(2026, 12, 1), created)
    assert not is_newest_day(date(2026, 12, 2), created + timedelta(days=1))


def test_run_created_at_reads_the_run_record_in_utc():
    @asset
    def created(context) -> MaterializeResult:
        return MaterializeResult(metadata={"at": original_run_created_at(context).isoformat()})

    before = datetime.now(UTC)
    result = materialize([created])
    at = datetime.fromisoformat(
        result.asset_materializations_for_node("created")[0].metadata["at"].value
    )
    assert at.utcoffset() == timedelta(0)
    assert before - timedelta(seconds=5) <= at <= datetime.now(UTC)
