"""`sg-pipelines status` never shows a sync as running when nothing runs it, and meets a
warehouse a sync is writing with a wait and then one line, never a traceback."""

import os
import subprocess
import sys
from datetime import UTC, datetime

from typer.testing import CliRunner

from sg_pipelines.cli import app
from sg_pipelines.demo import mark_syncs_interrupted
from sg_pipelines.roster.sync import begin_sync
from sg_pipelines.warehouse import READ_WAIT_SECONDS, connect

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


# a sync writing the warehouse, as another process: it holds DuckDB's file lock until it ends
WRITER = """
import sys, time, duckdb
conn = duckdb.connect(sys.argv[1])
print("holding", flush=True)
time.sleep(float(sys.argv[2]))
conn.close()
"""


def status_while_a_writer_holds(home, hold_seconds: float) -> tuple[subprocess.Popen, object]:
    with connect(home / "warehouse.duckdb") as conn:
        begin_sync(conn, "night", "full", lookback_seconds=0, now=EARLIER)
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(home / "warehouse.duckdb"), str(hold_seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout.readline().strip() == "holding"
    environment = {key: value for key, value in os.environ.items() if not key.startswith("SG_")}
    try:
        result = subprocess.run(
            [sys.executable, "-c", "from sg_pipelines.cli import run; run()", "status"],
            capture_output=True,
            text=True,
            env={**environment, "SG_HOME": str(home)},
            timeout=120,
            check=False,
        )
    finally:
        writer.kill()
        writer.wait(timeout=30)
    return writer, result


def test_status_meeting_a_sync_that_keeps_writing_says_so_in_one_line(tmp_path) -> None:
    writer, result = status_while_a_writer_holds(tmp_path, hold_seconds=120)

    assert result.returncode == 1
    assert result.stdout == ""  # no half a report
    assert result.stderr.strip() == (
        f"error: the warehouse {tmp_path / 'warehouse.duckdb'} is busy: a sync is writing to it "
        f"(pid {writer.pid}); try again in a moment"
    )


def test_status_waits_for_a_sync_that_lets_go_within_the_wait(tmp_path) -> None:
    _, result = status_while_a_writer_holds(tmp_path, hold_seconds=READ_WAIT_SECONDS * 0.8)

    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "2025-03-01 02:00 UTC  full  running" in result.stdout
