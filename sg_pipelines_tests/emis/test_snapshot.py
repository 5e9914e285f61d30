"""Report snapshots: published whole, switched atomically, readable while the next one lands."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import duckdb
import pytest

from sg_pipelines.emis.ranges import ReportRequest
from sg_pipelines.emis.reconciliation import build_reconciliation
from sg_pipelines.emis.records import BUILDERS
from sg_pipelines.emis.snapshot import (
    RECORD_TABLES,
    current_snapshot,
    open_snapshot,
    publish_snapshot,
    snapshot_dir,
)
from sg_pipelines.emis.tables import replace_table
from sg_pipelines_tests.emis.warehouse_rows import Warehouse

REQUEST = ReportRequest(fiscal_year=2026, effective_date=date(2025, 11, 1))
FIRST = datetime(2025, 11, 1, 7, tzinfo=UTC)


def warehouse_with_records(students: int) -> duckdb.DuckDBPyConnection:
    warehouse = Warehouse()
    for number in range(1, students + 1):
        warehouse.document(warehouse.student(number), "iep_initial", date(2025, 9, 1))
    conn = warehouse.connect()
    for table, builder in BUILDERS.items():
        replace_table(conn, table, builder(conn, REQUEST))
    replace_table(conn, "emis_reconciliation", build_reconciliation(conn, REQUEST))
    return conn


def ge_count(conn: duckdb.DuckDBPyConnection) -> int:
    return conn.execute("SELECT count(*) FROM emis_ge").fetchall()[0][0]


def test_nothing_is_current_before_the_first_publish(tmp_path):
    assert current_snapshot(tmp_path) is None


def test_a_snapshot_holds_the_served_tables_and_the_builders_inputs(tmp_path):
    published = publish_snapshot(warehouse_with_records(2), tmp_path, now=FIRST)

    assert current_snapshot(tmp_path) == published.path
    with open_snapshot(published.path) as conn:
        assert ge_count(conn) == 2
        # the API can build for its own parameters from the snapshot alone
        other = ReportRequest(fiscal_year=2026, emis_student_ids=["2"])
        assert BUILDERS["emis_ge"](conn, other).fetchall()[0][2] == "000000002"
        tables = {
            name for (name,) in conn.execute("SELECT table_name FROM duckdb_tables()").fetchall()
        }
        columns = {
            c
            for (c,) in conn.execute(
                "SELECT column_name FROM duckdb_columns() WHERE table_name = 'roster_students'"
            ).fetchall()
        }
    assert set(RECORD_TABLES) <= tables
    assert "given_name" not in columns
    assert published.row_counts["emis_ge"] == 2


def test_a_reader_of_the_old_snapshot_keeps_reading_it_while_a_new_one_is_published(tmp_path):
    publish_snapshot(warehouse_with_records(1), tmp_path, now=FIRST)
    old = current_snapshot(tmp_path)

    with open_snapshot(old) as reader:
        assert ge_count(reader) == 1
        second = publish_snapshot(warehouse_with_records(3), tmp_path, now=FIRST + timedelta(1))
        # the switch happened, and the old file is untouched under its reader
        assert current_snapshot(tmp_path) == second.path != old
        assert old.exists()
        assert ge_count(reader) == 1

    with open_snapshot(current_snapshot(tmp_path)) as conn:
        assert ge_count(conn) == 3
    assert not list(snapshot_dir(tmp_path).glob(".*tmp"))


def test_old_snapshots_beyond_keep_are_pruned_after_the_switch(tmp_path):
    conn = warehouse_with_records(1)
    for day in range(4):
        last = publish_snapshot(conn, tmp_path, now=FIRST + timedelta(days=day), keep=2)

    files = sorted(path.name for path in snapshot_dir(tmp_path).glob("emis-*.duckdb"))
    assert len(files) == 2
    assert files[-1] == last.path.name
    pointer = json.loads((snapshot_dir(tmp_path) / "current.json").read_text())
    assert pointer["file"] == last.path.name


def test_a_failed_publish_leaves_the_current_snapshot_in_place(tmp_path):
    conn = warehouse_with_records(1)
    first = publish_snapshot(conn, tmp_path, now=FIRST)
    conn.execute("DROP TABLE emis_gq")

    with pytest.raises(duckdb.CatalogException):
        publish_snapshot(conn, tmp_path, now=FIRST + timedelta(1))
    assert current_snapshot(tmp_path) == first.path
