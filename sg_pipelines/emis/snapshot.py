"""Report snapshots: immutable DuckDB files the web app reads, switched in atomically.

`publish_snapshot` copies the tables the reporting API serves from the warehouse into a new
file `snapshots/emis-<UTC timestamp>.duckdb` under the district's home: the record tables for
the nightly request, the reconciliation, and the builders' inputs (completed documents,
roster students without names, enrollments, links), so the API can build records for any
caller's parameters with the same `build_*` functions. The file is written under a temporary
name and renamed when complete; then the pointer `snapshots/current.json` is written to a
temporary name and `os.replace`d, which is the switch. The previous snapshot stays until the
switch, and a reader that opened it keeps reading it; snapshots beyond the newest `keep` are
deleted after the switch.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from sg_pipelines.warehouse import prepare

logger = logging.getLogger(__name__)

SNAPSHOT_DIR = "snapshots"
POINTER = "current.json"
PREFIX = "emis-"
SUFFIX = ".duckdb"
DEFAULT_KEEP = 3

RECORD_TABLES = ("emis_ge", "emis_fd", "emis_fe", "emis_gq", "ohio_pre_id", "emis_reconciliation")
# What the builders read, without what they do not need (names, birth dates, drafts).
INPUT_QUERIES = {
    "plan_documents": "SELECT * FROM plan_documents WHERE status = 'completed'",
    "roster_students": "SELECT sourced_id, is_active, emis_student_id, building_irn, grade "
    "FROM roster_students",
    "roster_enrollment_periods": "SELECT * FROM roster_enrollment_periods",
    "student_links": "SELECT plan_student_id, sourced_id, matched_by, linked_at, "
    "previous_sourced_id FROM student_links",
}


@dataclass(frozen=True)
class PublishedSnapshot:
    """A published snapshot: its file, and how many rows each table holds."""

    path: Path
    published_at: datetime
    row_counts: dict[str, int]
    pruned: int


def snapshot_dir(home: Path) -> Path:
    return Path(home) / SNAPSHOT_DIR


def publish_snapshot(
    conn: duckdb.DuckDBPyConnection,
    home: Path,
    *,
    request_summary: dict[str, object] | None = None,
    keep: int = DEFAULT_KEEP,
    now: datetime | None = None,
) -> PublishedSnapshot:
    """Copy the served tables from the warehouse `conn` into a new snapshot and switch to it."""
    if keep < 1:
        raise ValueError("keep at least the snapshot being published")
    now = now or datetime.now(UTC)
    directory = snapshot_dir(home)
    directory.mkdir(parents=True, exist_ok=True)
    name = f"{PREFIX}{now:%Y%m%dT%H%M%S%fZ}{SUFFIX}"
    final = directory / name
    temporary = directory / f".{name}.tmp"
    temporary.unlink(missing_ok=True)

    # write the whole file under a temporary name
    queries = {table: f"SELECT * FROM {table}" for table in RECORD_TABLES} | INPUT_QUERIES
    counts: dict[str, int] = {}
    conn.execute(f"ATTACH '{temporary}' AS snapshot_target")
    try:
        for table, query in queries.items():
            conn.execute(f"CREATE TABLE snapshot_target.{table} AS {query}")
            [(counts[table],)] = conn.execute(
                f"SELECT count(*) FROM snapshot_target.{table}"
            ).fetchall()
        if request_summary is not None:
            conn.execute(
                "CREATE TABLE snapshot_target.emis_report_request AS "
                "SELECT ?::JSON AS request, ?::TIMESTAMPTZ AS published_at",
                [json.dumps(request_summary), now],
            )
        conn.execute("CHECKPOINT snapshot_target")
    finally:
        conn.execute("DETACH snapshot_target")
    _fsync(temporary)
    os.replace(temporary, final)

    # the switch: one rename of the pointer
    pointer = {"file": name, "published_at": now.isoformat(), "row_counts": counts}
    _write_atomically(directory / POINTER, json.dumps(pointer, indent=2))
    pruned = prune_snapshots(home, keep=keep)
    logger.info("published report snapshot %s (%d tables, %d pruned)", name, len(counts), pruned)
    return PublishedSnapshot(final, now, counts, pruned)


def current_snapshot(home: Path) -> Path | None:
    """The snapshot the API serves now, or None before the first publish."""
    pointer = snapshot_dir(home) / POINTER
    try:
        name = json.loads(pointer.read_text(encoding="utf-8"))["file"]
    except FileNotFoundError:
        return None
    path = snapshot_dir(home) / name
    return path if path.exists() else None


@contextmanager
def open_snapshot(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to a snapshot, in UTC; the file never changes under it."""
    conn = duckdb.connect(str(path), read_only=True)
    try:
        yield prepare(conn)
    finally:
        conn.close()


def prune_snapshots(home: Path, *, keep: int = DEFAULT_KEEP) -> int:
    """Delete snapshots beyond the newest `keep`, never the current one; returns how many."""
    directory = snapshot_dir(home)
    current = current_snapshot(home)
    files = sorted(directory.glob(f"{PREFIX}*{SUFFIX}"), reverse=True)
    removed = 0
    for path in files[keep:]:
        if path != current:
            path.unlink(missing_ok=True)
            path.with_name(path.name + ".wal").unlink(missing_ok=True)
            removed += 1
    return removed


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    with temporary.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    _fsync_dir(path.parent)


def _fsync(path: Path) -> None:
    with path.open("rb") as handle:
        os.fsync(handle.fileno())


def _fsync_dir(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
