"""Flag deltas: the changes that bring Campus's program flags in line with the badges.

For one program and day, the desired flags are the badges of linked, active students, starting
no earlier than the program's cutover (`sql/flag_deltas.sql`). They are compared with what
Campus reports now, through the gateway. Only flags this system owns are changed: created by
our vendor key and starting on or after the cutover. Flags entered by hand, by another vendor
or before the cutover are never touched (E8); when one of them covers a badge's dates the badge
is not flagged a second time but recorded as a `hold` ("held by another owner").

Only the newest day reads Campus and is pushed. An older day (a backfill) writes no deltas and
says "historical day: not pushed": its badges are history, and the newest day's flags carry
their dates, so replaying old days against a Campus that has moved on would only mislead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from importlib.resources import files
from typing import Any, Literal

import duckdb
import pandas as pd

from sg_pipelines.programs.gateways.base import CampusFlag, FlagProgram, FlagsGateway
from sg_pipelines.programs.gateways.base import participation_id as new_participation_id

DayState = Literal["current", "historical", "before cutover"]
PUSHED_ACTIONS = ("set", "end", "update")


@cache
def sql(name: str) -> str:
    """The text of `sql/{name}.sql` next to this module."""
    return files("sg_pipelines.programs").joinpath("sql", f"{name}.sql").read_text("utf-8")


def ensure_flag_tables(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute(sql("flag_tables"))


@dataclass(frozen=True)
class DeltaSummary:
    """Counts of one (program, day) slice of `flag_deltas`; no student ids."""

    program: str
    as_of_date: date
    state: DayState
    gateway: str | None = None
    campus_flags: int = 0
    owned_open_flags: int = 0
    set_count: int = 0
    end_count: int = 0
    update_count: int = 0
    held_count: int = 0

    @property
    def changes(self) -> int:
        """Changes the push would make (holds are never pushed)."""
        return self.set_count + self.end_count + self.update_count

    @property
    def note(self) -> str:
        return {
            "current": "newest day: pushed",
            "historical": "historical day: not pushed",
            "before cutover": "before the program's cutover: nothing to do",
        }[self.state]

    def as_metadata(self) -> dict[str, Any]:
        return {
            "state": self.note,
            "gateway": self.gateway or "",
            "campus_flags": self.campus_flags,
            "owned_open_flags": self.owned_open_flags,
            "to_set": self.set_count,
            "to_end": self.end_count,
            "to_update": self.update_count,
            "held_by_another_owner": self.held_count,
        }


def compute_flag_deltas(
    conn: duckdb.DuckDBPyConnection,
    program: FlagProgram,
    day: date,
    cutover: date,
    gateway: FlagsGateway | None,
    *,
    current: bool,
) -> DeltaSummary:
    """Replace the (program, day) slice of `flag_deltas` and return its counts.

    Args:
        gateway: reads Campus; only used when `current`.
        current: whether `day` is the newest complete day (the only one pushed).
    """
    ensure_flag_tables(conn)
    if day < cutover:
        summary = DeltaSummary(program.key, day, "before cutover")
    elif not current or gateway is None:
        summary = DeltaSummary(program.key, day, "historical")
    else:
        # read Campus before the transaction: the warehouse never waits on the network
        flags = gateway.current_flags(program)
        _load_campus_flags(conn, flags)
        params = {"program": program.key, "day": day, "cutover": cutover, "owner": gateway.owner}
        [(campus_flags, owned_open)] = conn.execute(
            sql("flag_delta_counts"), {k: params[k] for k in ("day", "cutover", "owner")}
        ).fetchall()
        summary = DeltaSummary(program.key, day, "current", gateway.name, campus_flags, owned_open)

    conn.execute("BEGIN TRANSACTION")
    try:
        conn.execute(
            "DELETE FROM flag_deltas WHERE program = ? AND as_of_date = ?", [program.key, day]
        )
        conn.execute(
            "DELETE FROM flag_delta_summary WHERE program = ? AND as_of_date = ?",
            [program.key, day],
        )
        if summary.state == "current":
            _register_participation_id(conn)
            conn.execute(f"INSERT INTO flag_deltas {sql('flag_deltas')}", params)
            counts = dict(
                conn.execute(
                    "SELECT action, count(*) FROM flag_deltas "
                    "WHERE program = ? AND as_of_date = ? GROUP BY action",
                    [program.key, day],
                ).fetchall()
            )
            summary = DeltaSummary(
                program.key,
                day,
                "current",
                summary.gateway,
                summary.campus_flags,
                summary.owned_open_flags,
                counts.get("set", 0),
                counts.get("end", 0),
                counts.get("update", 0),
                counts.get("hold", 0),
            )
        _write_summary(conn, summary)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return summary


def read_summary(conn: duckdb.DuckDBPyConnection, program: str, day: date) -> DeltaSummary | None:
    """The counts `compute_flag_deltas` wrote for (program, day), if any."""
    ensure_flag_tables(conn)
    rows = conn.execute(
        "SELECT program, as_of_date, state, gateway, campus_flags, owned_open_flags, set_count, "
        "end_count, update_count, held_count FROM flag_delta_summary "
        "WHERE program = ? AND as_of_date = ?",
        [program, day],
    ).fetchall()
    return DeltaSummary(*rows[0]) if rows else None


@dataclass(frozen=True)
class ChangeGuard:
    """Whether a push may go ahead: the mass-change rule (fault catalogue A6) for flags."""

    blocked: bool
    changes: int
    base: int
    limit: int
    message: str

    def as_metadata(self) -> dict[str, Any]:
        return {"changes": self.changes, "owned_open_flags": self.base, "limit": self.limit}


def change_guard(
    summary: DeltaSummary, *, max_share: float, floor: int, confirmed: bool
) -> ChangeGuard:
    """Block a push that would change more than `max_share` of the program's open flags.

    The limit is never below `floor`, so small programs are not blocked. A program with no
    flags of ours in Campus yet is being switched on: its first push is the initial load and
    is not blocked. `confirmed` lets one run through.
    """
    base = summary.owned_open_flags
    limit = max(floor, math.floor(max_share * base))
    changes = summary.changes
    if base == 0 or changes <= limit:
        reason = "first push of the program" if base == 0 and changes else "within the limit"
        return ChangeGuard(False, changes, base, limit, f"{summary.program}: {reason}")

    message = (
        f"{summary.program}: the push would change {changes} of {base} open flags "
        f"({changes / base:.0%}), more than flags.max_change_share={max_share:g} allows "
        f"(limit {limit}). Check the roster and badges first (a bad roster pull or leaked draft "
        "plans look like this). If the change is expected, confirm it for one run: launch the "
        "run with the tag sg/confirm_large_change=true, or set flags.confirm_large_change: true "
        "in the settings file and set it back afterwards."
    )
    if confirmed:
        return ChangeGuard(False, changes, base, limit, f"confirmed: {message}")
    return ChangeGuard(True, changes, base, limit, message)


def _load_campus_flags(conn: duckdb.DuckDBPyConnection, flags: list[CampusFlag]) -> None:
    frame = pd.DataFrame(
        {
            "participation_id": pd.Series([f.participation_id for f in flags], dtype="object"),
            "sourced_id": pd.Series([f.sourced_id for f in flags], dtype="object"),
            "start_date": pd.Series([f.start_date for f in flags], dtype="object"),
            "end_date": pd.Series([f.end_date for f in flags], dtype="object"),
            "created_by": pd.Series([f.created_by for f in flags], dtype="object"),
        }
    )
    conn.register("campus_flags_frame", frame)
    try:
        conn.execute(
            "CREATE OR REPLACE TEMP TABLE campus_flags_now AS SELECT "
            "participation_id::VARCHAR AS participation_id, sourced_id::VARCHAR AS sourced_id, "
            "start_date::DATE AS start_date, end_date::DATE AS end_date, "
            "created_by::VARCHAR AS created_by FROM campus_flags_frame"
        )
    finally:
        conn.unregister("campus_flags_frame")


def _register_participation_id(conn: duckdb.DuckDBPyConnection) -> None:
    """`flag_participation_id(program, sourced_id, start)`: the id a new flag is PUT to."""
    # fetchall: DuckDB refuses new work on a connection while a result is still unread
    [(registered,)] = conn.execute(
        "SELECT count(*) FROM duckdb_functions() WHERE function_name = 'flag_participation_id'"
    ).fetchall()
    if not registered:
        conn.create_function(
            "flag_participation_id",
            new_participation_id,
            [duckdb.sqltype("VARCHAR"), duckdb.sqltype("VARCHAR"), duckdb.sqltype("DATE")],
            duckdb.sqltype("VARCHAR"),
            side_effects=False,
        )


def _write_summary(conn: duckdb.DuckDBPyConnection, summary: DeltaSummary) -> None:
    conn.execute(
        "INSERT INTO flag_delta_summary VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            summary.program,
            summary.as_of_date,
            summary.gateway,
            summary.state,
            summary.campus_flags,
            summary.owned_open_flags,
            summary.set_count,
            summary.end_count,
            summary.update_count,
            summary.held_count,
            datetime.now(UTC),
        ],
    )
