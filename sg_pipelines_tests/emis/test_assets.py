"""The EMIS assets and checks, materialized by Dagster on a generated district's real warehouse
and app database files; then the snapshot the API would serve."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml
from dagster import AssetKey, materialize

from sg_pipelines.emis.assets import emis_assets
from sg_pipelines.emis.checks import emis_checks
from sg_pipelines.emis.snapshot import current_snapshot, open_snapshot
from sg_pipelines.resources import SettingsResource
from sg_pipelines.warehouse import warehouse_resource
from sg_pipelines_tests.emis.district import build_district, table_count


@pytest.fixture(scope="module")
def materialized(tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("emis")
    built = build_district(home, 600, today=date.today())
    settings_file = home / "settings.yaml"
    settings_file.write_text(yaml.safe_dump({"home": str(home)}))
    result = materialize(
        [*emis_assets, *emis_checks],
        resources={
            "warehouse": warehouse_resource(built.warehouse),
            "settings": SettingsResource(settings_file=str(settings_file)),
        },
    )
    return home, built, result


def test_every_record_asset_and_the_snapshot_materialize(materialized):
    _, built, result = materialized
    assert result.success
    keys = {event.asset_key for event in result.get_asset_materialization_events()}
    assert keys == {AssetKey(asset.key.path) for asset in emis_assets}
    assert table_count(built.warehouse, "emis_ge") > 0
    assert table_count(built.warehouse, "ohio_pre_id") > 0


def test_every_check_passes_on_the_generated_district(materialized):
    _, _, result = materialized
    evaluations = result.get_asset_check_evaluations()
    assert len(evaluations) == len(emis_checks)
    failed = [e.check_name for e in evaluations if not e.passed]
    assert failed == []


def test_metadata_carries_counts_and_no_student_ids(materialized):
    _, _, result = materialized
    for event in result.get_asset_materialization_events():
        for value in event.materialization.metadata.values():
            assert "0000" not in str(value.value)


def test_the_published_snapshot_serves_what_the_warehouse_built(materialized):
    home, built, _ = materialized
    path = current_snapshot(Path(home))
    assert path is not None
    with open_snapshot(path) as conn:
        [(ge,)] = conn.execute("SELECT count(*) FROM emis_ge").fetchall()
        [(drafts,)] = conn.execute(
            "SELECT count(*) FROM plan_documents WHERE status <> 'completed'"
        ).fetchall()
        reasons = dict(
            conn.execute(
                "SELECT campus_will, count(*) FROM emis_reconciliation GROUP BY ALL"
            ).fetchall()
        )
    assert ge == table_count(built.warehouse, "emis_ge")
    assert drafts == 0
    assert reasons.get("keep", 0) > 0
