"""Program participation badges: who participates in which program as of a day, set-based.

`write_badges` computes every requested (program, day) slice in one DuckDB pass over the
warehouse `plan_documents` snapshot (rules in `programs/rules.py`, SQL in `programs/sql/`) and
replaces those slices of `program_participation_badges` and `unflaggable_badges` in one
transaction. A single-run backfill of a program's whole history is one call.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path

import duckdb

from sg_pipelines.programs.rules import rule_rows

logger = logging.getLogger(__name__)

SQL_DIR = Path(__file__).parent / "sql"
BADGE_TABLES = ("program_participation_badges", "unflaggable_badges")


@cache
def read_sql(name: str) -> str:
    return (SQL_DIR / name).read_text(encoding="utf-8")


@dataclass(frozen=True)
class BadgeSliceCounts:
    """What one (program, day) slice holds, in counts only: safe for metadata and logs."""

    program: str
    as_of_date: date
    badges: int
    badges_active: int
    badges_opened: int
    badges_closed: int
    unflaggable: int

    def as_metadata(self) -> dict[str, int | str]:
        return {**asdict(self), "as_of_date": self.as_of_date.isoformat()}


def ensure_tables(conn: duckdb.DuckDBPyConnection) -> None:
    """Create the snapshot and badge tables when missing (a badge run before any snapshot)."""
    conn.execute(read_sql("plan_documents.sql"))
    conn.execute(read_sql("badges_schema.sql"))


def table_exists(conn: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(
        conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
        ).fetchone()[0]
    )


def _load_inputs(
    conn: duckdb.DuckDBPyConnection,
    days: Mapping[str, Iterable[date]],
    cutovers: Mapping[str, date],
) -> None:
    """Temp tables the SQL reads: the rules, the slices to write, and the days to compute.

    Each slice's day before is computed too, so that a slice can count opened and closed badges.
    """
    conn.execute(
        "CREATE OR REPLACE TEMP TABLE badge_rules (program VARCHAR, document_type VARCHAR, "
        "role VARCHAR, lapse_grace_days INTEGER)"
    )
    conn.executemany("INSERT INTO badge_rules VALUES (?, ?, ?, ?)", rule_rows())

    conn.execute("CREATE OR REPLACE TEMP TABLE badge_slices (program VARCHAR, as_of_date DATE)")
    conn.execute(
        "CREATE OR REPLACE TEMP TABLE badge_days "
        "(program VARCHAR, as_of_date DATE, cutover_date DATE)"
    )
    for program, program_days in days.items():
        slices = sorted(set(program_days))
        computed = sorted({*slices, *(day - timedelta(days=1) for day in slices)})
        conn.execute("INSERT INTO badge_slices SELECT ?, unnest(?::DATE[])", [program, slices])
        conn.execute(
            "INSERT INTO badge_days SELECT ?, unnest(?::DATE[]), ?",
            [program, computed, cutovers[program]],
        )

    roster = (
        "SELECT sourced_id, is_active FROM roster_students"
        if table_exists(conn, "roster_students")
        else "SELECT NULL::VARCHAR AS sourced_id, NULL::BOOLEAN AS is_active WHERE false"
    )
    conn.execute(f"CREATE OR REPLACE TEMP VIEW badge_roster_status AS {roster}")


def compute_badges(
    conn: duckdb.DuckDBPyConnection,
    days: Mapping[str, Iterable[date]],
    cutovers: Mapping[str, date],
) -> list[BadgeSliceCounts]:
    """Compute the badges of the given days into temp tables; return counts per slice.

    Leaves `computed_badges` (the slices and each one's day before) and `computed_unflaggable`
    on the connection, with the columns of `program_participation_badges` and
    `unflaggable_badges`.

    Args:
        conn: a warehouse connection holding `plan_documents` (and `roster_students`, if any).
        days: per program, the days to compute (typically a partition key range).
        cutovers: per program, its cutover date; intervals that ended before it are left out.
    """
    ensure_tables(conn)
    _load_inputs(conn, days, cutovers)
    conn.execute(
        f"CREATE OR REPLACE TEMP TABLE computed_badges AS {read_sql('badge_intervals.sql')}"
    )
    conn.execute(
        f"CREATE OR REPLACE TEMP TABLE computed_unflaggable AS {read_sql('unflaggable_badges.sql')}"
    )
    rows = conn.execute(read_sql("badge_counts.sql")).fetchall()
    return [BadgeSliceCounts(*row) for row in rows]


def write_badges(
    conn: duckdb.DuckDBPyConnection,
    days: Mapping[str, Iterable[date]],
    cutovers: Mapping[str, date],
) -> list[BadgeSliceCounts]:
    """Compute the given (program, day) slices and replace them, in one transaction.

    Returns the counts per slice written. Days before a program's cutover must be filtered out
    by the caller (the asset does, and says so in its metadata).
    """
    started = time.monotonic()
    counts = compute_badges(conn, days, cutovers)

    conn.execute("BEGIN TRANSACTION")
    try:
        for table in BADGE_TABLES:
            conn.execute(
                f"DELETE FROM {table} AS t USING badge_slices AS s "
                "WHERE t.program = s.program AND t.as_of_date = s.as_of_date"
            )
        conn.execute(
            "INSERT INTO program_participation_badges SELECT b.* FROM computed_badges AS b "
            "JOIN badge_slices AS s ON s.program = b.program AND s.as_of_date = b.as_of_date"
        )
        conn.execute(
            "INSERT INTO unflaggable_badges SELECT u.* FROM computed_unflaggable AS u "
            "JOIN badge_slices AS s ON s.program = u.program AND s.as_of_date = u.as_of_date"
        )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise

    logger.info(
        "wrote %d badge slices (%d badge rows) in %.1f s",
        len(counts),
        sum(count.badges for count in counts),
        time.monotonic() - started,
    )
    return counts
