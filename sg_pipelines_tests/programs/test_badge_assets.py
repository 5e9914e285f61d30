"""The plan-document snapshot and badge assets, materialized by Dagster on files in tmp_path:
one partition, a ranged single run, cutover edges, and the checks."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest
import yaml
from dagster import AssetCheckSeverity, AssetKey, AssetSelection, materialize

from sg_pipelines.appdb import AppDatabase, AppDatabaseResource, NewStudent
from sg_pipelines.appdb.records import NewPlanDocument
from sg_pipelines.programs.badge_assets import build_badge_assets
from sg_pipelines.programs.badge_checks import build_badge_checks
from sg_pipelines.programs.partitions import partition_key
from sg_pipelines.resources import SettingsResource
from sg_pipelines.settings import load_settings
from sg_pipelines.warehouse import warehouse_resource

SPED_CUTOVER = date(2025, 8, 1)
SECTION_504_CUTOVER = date(2025, 9, 1)
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 16, tzinfo=UTC)


def completed(student_id: int, document_type: str, program: str, day: date, **extra):
    return NewPlanDocument(
        student_id=student_id,
        program=program,
        document_type=document_type,
        status="completed",
        completed_at=at(extra.pop("completed_on", day)),
        meeting_date=day,
        effective_start=day,
        **extra,
    )


@pytest.fixture
def district(tmp_path: Path):
    """Settings, an app database with four plan students, and an empty warehouse."""
    settings_file = tmp_path / "settings.yaml"
    settings_file.write_text(
        yaml.safe_dump(
            {
                "home": str(tmp_path),
                "programs": {
                    "special_education": {"enabled": True, "cutover_date": str(SPED_CUTOVER)},
                    "section_504": {"enabled": True, "cutover_date": str(SECTION_504_CUTOVER)},
                },
            }
        )
    )
    settings = load_settings(settings_file, environ={})

    with AppDatabase(settings.app_database) as database:
        ids = [
            database.create_student(
                NewStudent("A", "B", internal_sis_student_id=sourced_id), actor="test"
            )
            for sourced_id in ("sourced-1", None, "sourced-3", "sourced-4")
        ]
        sped, s504 = "special_education", "section_504"
        database.documents.add_many(
            [
                completed(ids[0], "iep_initial", sped, date(2025, 7, 1)),
                completed(
                    ids[0], "sped_exit", sped, date(2025, 8, 20), completed_on=date(2025, 8, 18)
                ),
                completed(ids[1], "iep_initial", sped, date(2025, 8, 10)),
                # E7: a draft dated inside the window
                NewPlanDocument(ids[2], sped, "iep_initial", meeting_date=date(2025, 8, 5)),
                completed(ids[3], "504_plan", s504, date(2025, 8, 15)),
            ],
            actor="test",
        )

    resources = {
        "warehouse": warehouse_resource(settings.warehouse),
        "app_db": AppDatabaseResource(url=settings.app_database),
        "settings": SettingsResource(settings_file=str(settings_file)),
    }
    return settings, resources


def run(settings, resources, **kwargs):
    assets = build_badge_assets(settings)
    return materialize(
        [*assets, *build_badge_checks(settings)],
        resources=resources,
        raise_on_error=kwargs.pop("raise_on_error", True),
        **kwargs,
    )


def fetch(settings, sql: str, params=()) -> list[tuple]:
    with duckdb.connect(str(settings.warehouse), read_only=True) as conn:
        return conn.execute(sql, params).fetchall()


def snapshot(settings, resources) -> None:
    result = run(settings, resources, selection=AssetSelection.assets("plan_documents"))
    assert result.success


def badge_metadata(result):
    [event] = [
        event
        for event in result.get_asset_materialization_events()
        if event.asset_key == AssetKey("program_participation_badges")
    ][:1]
    return {key: value.value for key, value in event.materialization.metadata.items()}


def test_plan_documents_snapshot_carries_sourced_ids_and_drafts_but_no_sections(district):
    settings, resources = district

    result = run(settings, resources, selection=AssetSelection.assets("plan_documents"))

    assert result.success
    [event] = result.get_asset_materialization_events()
    metadata = event.materialization.metadata
    assert (metadata["documents"].value, metadata["drafts"].value) == (5, 1)
    assert metadata["unlinked_documents"].value == 1
    assert fetch(
        settings, "SELECT count(*) FILTER (WHERE sourced_id IS NULL), count(*) FROM plan_documents"
    ) == [(1, 5)]
    columns = [row[0] for row in fetch(settings, "DESCRIBE plan_documents")]
    assert "sections" not in columns and "sourced_id" in columns


def test_one_partition_writes_its_slice_with_counts_and_no_student_ids(district):
    settings, resources = district
    snapshot(settings, resources)

    result = run(
        settings,
        resources,
        selection=AssetSelection.assets("program_participation_badges", "unflaggable_badges"),
        partition_key=partition_key("special_education", date(2025, 8, 20)),
    )

    assert result.success
    metadata = badge_metadata(result)
    assert {key: metadata[key] for key in ("badges_active", "badges_closed", "unflaggable")} == {
        "badges_active": 1,
        "badges_closed": 1,
        "unflaggable": 1,
    }
    assert "sourced-1" not in str(metadata)
    assert fetch(
        settings,
        "SELECT sourced_id, badge_start, badge_end, active_on_day "
        "FROM program_participation_badges ORDER BY badge_start",
    ) == [
        ("sourced-1", date(2025, 7, 1), date(2025, 8, 19), False),
        (None, date(2025, 8, 10), None, True),
    ]
    assert fetch(settings, "SELECT reason FROM unflaggable_badges") == [("not linked",)]
    checks = {check.check_name: check for check in result.get_asset_check_evaluations()}
    assert checks["badges_rest_on_completed_documents"].passed
    assert checks["badge_intervals_do_not_overlap"].passed
    unflaggable = checks["unflaggable_badges_on_newest_day"]
    assert (unflaggable.passed, unflaggable.severity) == (False, AssetCheckSeverity.WARN)


@pytest.mark.parametrize(
    ("day", "written", "skipped_reason"),
    [
        (date(2025, 8, 31), 0, "before the program's cutover (2025-09-01)"),
        (date(2025, 9, 1), 1, None),
    ],
    ids=["the day before the cutover is skipped", "the cutover day is computed"],
)
def test_cutover_edges(district, day, written, skipped_reason):
    settings, resources = district
    snapshot(settings, resources)

    result = run(
        settings,
        resources,
        selection=AssetSelection.assets("program_participation_badges", "unflaggable_badges"),
        partition_key=partition_key("section_504", day),
    )

    assert result.success
    assert badge_metadata(result).get("skipped_reason") == skipped_reason
    assert fetch(settings, "SELECT count(*) FROM program_participation_badges") == [(written,)]


def test_a_ranged_run_computes_a_month_of_history_in_one_pass(district):
    settings, resources = district
    snapshot(settings, resources)

    result = run(
        settings,
        resources,
        selection=AssetSelection.assets("program_participation_badges", "unflaggable_badges"),
        tags={
            RANGE_START_TAG: partition_key("special_education", SPED_CUTOVER),
            RANGE_END_TAG: partition_key("special_education", date(2025, 8, 31)),
        },
    )

    assert result.success
    materialized = [
        event
        for event in result.get_asset_materialization_events()
        if event.asset_key == AssetKey("program_participation_badges")
    ]
    assert len(materialized) == 31
    metadata = badge_metadata(result)
    assert (metadata["partitions_computed"], metadata["partitions_skipped"]) == (31, 0)
    assert fetch(
        settings,
        "SELECT count(DISTINCT as_of_date), count(*) FILTER (WHERE active_on_day) "
        "FROM program_participation_badges",
    ) == [(31, 19 + 22)]  # sourced-1 active 1-19 August, the unlinked student 10-31 August


def test_draft_documents_behind_a_badge_fail_the_blocking_check(district):
    settings, resources = district
    snapshot(settings, resources)
    key = partition_key("special_education", date(2025, 8, 15))
    assert run(settings, resources, partition_key=key).success

    # a bug in any writer could put a draft behind a badge
    with duckdb.connect(str(settings.warehouse)) as conn:
        conn.execute(
            "INSERT INTO program_participation_badges SELECT 'special_education', "
            "DATE '2025-08-15', student_id, sourced_id, DATE '2025-08-05', NULL, id, NULL, true "
            "FROM plan_documents WHERE status = 'draft'"
        )
    result = materialize(
        build_badge_checks(settings),
        resources={"warehouse": resources["warehouse"]},
        selection=AssetSelection.all_asset_checks(),
        raise_on_error=False,
    )

    evaluations = {check.check_name: check for check in result.get_asset_check_evaluations()}
    documents = evaluations["badges_rest_on_completed_documents"]
    assert (documents.passed, documents.severity) == (False, AssetCheckSeverity.ERROR)
    assert documents.metadata["from_draft_documents"].value == 1
    assert evaluations["badge_intervals_do_not_overlap"].passed
    unflaggable = evaluations["unflaggable_badges_on_newest_day"]
    assert (unflaggable.passed, unflaggable.severity) == (False, AssetCheckSeverity.WARN)


def test_overlapping_intervals_fail_the_blocking_check(district):
    settings, resources = district
    snapshot(settings, resources)
    key = partition_key("special_education", date(2025, 8, 15))
    assert run(settings, resources, partition_key=key).success

    with duckdb.connect(str(settings.warehouse)) as conn:
        conn.execute(
            "INSERT INTO program_participation_badges SELECT program, as_of_date, "
            "plan_student_id, sourced_id, badge_start + 1, NULL, start_document_id, NULL, true "
            "FROM program_participation_badges WHERE sourced_id = 'sourced-1'"
        )
    result = materialize(
        build_badge_checks(settings),
        resources={"warehouse": resources["warehouse"]},
        selection=AssetSelection.all_asset_checks(),
        raise_on_error=False,
    )

    evaluations = {check.check_name: check for check in result.get_asset_check_evaluations()}
    overlap = evaluations["badge_intervals_do_not_overlap"]
    assert (overlap.passed, overlap.metadata["overlapping_intervals"].value) == (False, 1)
