"""The warehouse's one-writer rule across processes (fault catalogue D1): a run that finds the
file locked by another process waits for it and writes, never fails or half-writes."""

from __future__ import annotations

import subprocess
import sys
import time

from sg_pipelines.warehouse import connect, connect_read_only, warehouse_resource

HOLD_SECONDS = 1.5

HOLDER = """
import sys, time, duckdb
conn = duckdb.connect(sys.argv[1])
conn.execute("CREATE TABLE IF NOT EXISTS written (writer VARCHAR)")
conn.execute("INSERT INTO written VALUES ('holder')")
print("holding", flush=True)
time.sleep(float(sys.argv[2]))
conn.close()
"""


def test_a_writer_waits_for_another_processs_lock_and_then_writes(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path), str(HOLD_SECONDS)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "holding"

    started = time.monotonic()
    with connect(warehouse_resource(path)) as conn:
        waited = time.monotonic() - started
        conn.execute("INSERT INTO written VALUES ('run')")
    holder.wait(timeout=30)

    assert waited > 0.2  # it really met the lock, and retried past it
    with connect_read_only(path) as conn:
        assert sorted(conn.execute("SELECT writer FROM written").fetchall()) == [
            ("holder",),
            ("run",),
        ]
