"""Pushing one program's flag deltas to Campus and recording what happened.

Every change gets a row in `flag_push_results` (status, attempts, our own error text), and
every push a row in `flag_push_log` (complete, partial, failed or withheld). A change that failed
is not queued anywhere: the next night's deltas are computed against Campus again, and Campus
still differs, so it comes back by itself. Pushing the same deltas twice is harmless: every
write is a PUT to an id fixed by the change.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal

import duckdb
import pandas as pd

from sg_pipelines.programs.flag_deltas import PUSHED_ACTIONS, ChangeGuard, ensure_flag_tables, sql
from sg_pipelines.programs.gateways.base import (
    CampusFlag,
    ChangeResult,
    FlagChange,
    FlagProgram,
    FlagSetupError,
    FlagsGateway,
    GatewayError,
)

logger = logging.getLogger(__name__)

PushStatus = Literal["complete", "partial", "failed", "withheld"]
RESULT_COLUMNS = (
    "push_id", "program", "as_of_date", "sourced_id", "action", "status", "attempts", "error",
    "pushed_at", "start_date", "end_date", "campus_participation_id",
)  # fmt: skip


@dataclass(frozen=True)
class PushOutcome:
    """Counts of one push; no student ids."""

    push_id: str
    program: str
    as_of_date: date
    gateway: str
    status: PushStatus
    set_count: int = 0
    ended_count: int = 0
    updated_count: int = 0
    failed_count: int = 0
    skipped_count: int = 0
    message: str | None = None

    def as_metadata(self) -> dict[str, Any]:
        return {
            "push_status": self.status,
            "gateway": self.gateway,
            "flags_set": self.set_count,
            "flags_ended": self.ended_count,
            "flags_updated": self.updated_count,
            "changes_failed": self.failed_count,
            "changes_skipped": self.skipped_count,
        }


def read_changes(conn: duckdb.DuckDBPyConnection, program: str, day: date) -> list[FlagChange]:
    """The pushable rows of the (program, day) slice of `flag_deltas`, in a stable order."""
    ensure_flag_tables(conn)
    rows = conn.execute(
        "SELECT action, sourced_id, start_date, end_date, campus_participation_id "
        "FROM flag_deltas WHERE program = ? AND as_of_date = ? AND action IN (?, ?, ?) "
        "ORDER BY action, sourced_id, start_date",
        [program, day, *PUSHED_ACTIONS],
    ).fetchall()
    return [FlagChange(*row) for row in rows]


def push_flags(
    conn: duckdb.DuckDBPyConnection,
    gateway: FlagsGateway,
    program: FlagProgram,
    day: date,
    push_id: str,
    *,
    guard: ChangeGuard | None = None,
    log: logging.Logger | logging.LoggerAdapter = logger,
) -> PushOutcome:
    """Push the (program, day) deltas through `gateway`; record results and a log row.

    A blocked `guard` withholds the whole push. A missing program flag fails it before any
    change is sent. Failures of single changes make the push partial, never raise.
    """
    ensure_flag_tables(conn)
    started = datetime.now(UTC)
    changes = read_changes(conn, program.key, day)

    if guard is not None and guard.blocked:
        outcome = PushOutcome(
            push_id, program.key, day, gateway.name, "withheld", message=guard.message
        )
        _record(conn, outcome, [], started)
        return outcome

    try:
        gateway.ensure_program_flag(program)
    except (FlagSetupError, GatewayError) as error:
        outcome = PushOutcome(
            push_id,
            program.key,
            day,
            gateway.name,
            "failed",
            failed_count=len(changes),
            message=str(error),
        )
        _record(conn, outcome, [], started)
        return outcome

    results = gateway.apply(program, changes) if changes else []
    ok = Counter(r.change.action for r in results if r.status == "ok")
    failed = sum(r.status == "failed" for r in results)
    skipped = sum(r.status == "skipped" for r in results)
    if not failed and not skipped:
        status: PushStatus = "complete"
    elif ok:
        status = "partial"
    else:
        status = "failed"
    message = _first_error(results)
    outcome = PushOutcome(
        push_id,
        program.key,
        day,
        gateway.name,
        status,
        ok["set"],
        ok["end"],
        ok["update"],
        failed,
        skipped,
        message,
    )
    _record(conn, outcome, results, started)
    log.info(
        f"pushed {program.key} flags through {gateway.name}: {outcome.set_count} set, "
        f"{outcome.ended_count} ended, {outcome.updated_count} updated, {failed} failed, "
        f"{skipped} skipped ({status})"
    )
    return outcome


def pushed_flags(
    conn: duckdb.DuckDBPyConnection, program: str, gateway: str, owner: str
) -> list[CampusFlag]:
    """The flags last delivered for a program through `gateway` (the CSV route's Campus state)."""
    ensure_flag_tables(conn)
    rows = conn.execute(
        sql("flag_pushed_state"), {"program": program, "gateway": gateway}
    ).fetchall()
    return [CampusFlag(pid, sourced_id, start, end, owner) for pid, sourced_id, start, end in rows]


def _first_error(results: list[ChangeResult]) -> str | None:
    """A summary of the errors: the most common one, with how many changes it hit."""
    errors = Counter(r.error for r in results if r.error)
    if not errors:
        return None
    error, count = errors.most_common(1)[0]
    return f"{count} change(s): {error}" + (
        f" (+{len(errors) - 1} other errors)" if len(errors) > 1 else ""
    )


def _record(
    conn: duckdb.DuckDBPyConnection,
    outcome: PushOutcome,
    results: list[ChangeResult],
    started: datetime,
) -> None:
    finished = datetime.now(UTC)
    conn.execute("BEGIN TRANSACTION")
    try:
        if results:
            # one insert from a frame: executemany costs a round trip per row
            frame = pd.DataFrame(
                [
                    (
                        outcome.push_id,
                        outcome.program,
                        outcome.as_of_date,
                        r.change.sourced_id,
                        r.change.action,
                        r.status,
                        r.attempts,
                        r.error,
                        finished,
                        r.change.start_date,
                        r.change.end_date,
                        r.change.participation_id,
                    )
                    for r in results
                ],
                columns=RESULT_COLUMNS,
                dtype="object",
            )
            conn.register("push_results_frame", frame)
            try:
                columns = ", ".join(RESULT_COLUMNS)
                conn.execute(
                    f"INSERT INTO flag_push_results ({columns}) SELECT {columns} "
                    "FROM push_results_frame"
                )
            finally:
                conn.unregister("push_results_frame")
        conn.execute(
            "INSERT INTO flag_push_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                outcome.push_id,
                outcome.program,
                outcome.as_of_date,
                outcome.gateway,
                outcome.status,
                outcome.set_count,
                outcome.ended_count,
                outcome.updated_count,
                outcome.failed_count,
                started,
                finished,
                outcome.message,
            ],
        )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
