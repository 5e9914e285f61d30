"""`sg-pipelines status` never shows a sync as running when nothing runs it."""

from datetime import UTC, datetime

from typer.testing import CliRunner

from sg_pipelines.cli import app
from sg_pipelines.demo import mark_syncs_interrupted
from sg_pipelines.roster.sync import begin_sync
from sg_pipelines.warehouse import connect

EARLIER = datetime(2025, 3, 1, 2, 0, tzinfo=UTC)
LATER = datetime(2025, 3, 2, 2, 0, tzinfo=UTC)


def status_lines(home) -> list[str]:
    result = CliRunner().invoke(app, ["status"], env={"SG_HOME": str(home)})
    assert result.exit_code == 0, result.output
    return [line.strip() for line in result.output.splitlines() if " UTC  " in line]


def test_the_next_sync_marks_one_left_running_as_interrupted(tmp_path) -> None:
    with connect(tmp_path / "warehouse.duckdb") as conn:
        begin_sync(conn, "stopped-night", "full", lookback_seconds=0, now=EARLIER)
        begin_sync(conn, "next-night", "delta", lookback_seconds=0, now=LATER)

    lines = status_lines(tmp_path)

    assert lines[0].startswith("2025-03-02 02:00 UTC  full  running")
    assert lines[1].startswith("2025-03-01 02:00 UTC  full  interrupted ")
    assert lines[1].endswith("(stopped before it finished)")


def test_a_demo_stopped_by_ctrl_c_leaves_no_sync_running(tmp_path) -> None:
    with connect(tmp_path / "warehouse.duckdb") as conn:
        begin_sync(conn, "first-night", "full", lookback_seconds=0, now=EARLIER)

    mark_syncs_interrupted(tmp_path / "warehouse.duckdb")

    assert [line.split()[3:5] for line in status_lines(tmp_path)] == [["full", "interrupted"]]
