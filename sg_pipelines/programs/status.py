"""Where each program's flag integration stands, read from the warehouse without writing.

For `sg-pipelines status` and asset metadata: per program, the last attempted and the last
successful push (the pair an operator compares), what the last push set, ended and failed, and
how many students with a badge cannot be flagged, by reason. Counts only: never a student id
next to a program name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb

from sg_pipelines.programs.flag_deltas import sql
from sg_pipelines.warehouse import connect_read_only

NO_PUSH = (None, None, None, None, 0, 0, 0, 0)


@dataclass(frozen=True)
class ProgramStatus:
    """One program's flags, as counts."""

    program: str
    last_attempted_at: datetime | None = None
    last_attempt_status: str | None = None
    last_attempt_day: date | None = None
    last_success_at: datetime | None = None
    flags_set: int = 0
    flags_ended: int = 0
    flags_updated: int = 0
    changes_failed: int = 0
    unflaggable: dict[str, int] = field(default_factory=dict)

    @property
    def healthy(self) -> bool:
        """The last attempt is the last success (PowerSchool's two-timestamp health check)."""
        return self.last_attempted_at is not None and self.last_attempted_at == self.last_success_at

    def as_metadata(self) -> dict[str, Any]:
        return {
            "last_attempted_at": self.last_attempted_at.isoformat()
            if self.last_attempted_at
            else "",
            "last_attempt_status": self.last_attempt_status or "",
            "last_success_at": self.last_success_at.isoformat() if self.last_success_at else "",
            "flags_set": self.flags_set,
            "flags_ended": self.flags_ended,
            "flags_updated": self.flags_updated,
            "changes_failed": self.changes_failed,
            **{f"unflaggable: {reason}": count for reason, count in self.unflaggable.items()},
        }


def program_status(warehouse_path: Path | str) -> list[ProgramStatus]:
    """Every program that has flag deltas or pushes, in name order; [] before the first run."""
    path = Path(warehouse_path)
    if not path.exists():
        return []
    with connect_read_only(path) as conn:
        tables = _tables(conn)
        if "flag_push_log" not in tables:
            return []
        pushes = {row[0]: row[1:] for row in conn.execute(sql("flag_status_pushes")).fetchall()}
        unflaggable: dict[str, dict[str, int]] = {}
        if "unflaggable_badges" in tables:
            for program, reason, count in conn.execute(sql("flag_status_unflaggable")).fetchall():
                unflaggable.setdefault(program, {})[reason] = count
        for program, count in conn.execute(sql("flag_status_held")).fetchall():
            if count:
                unflaggable.setdefault(program, {})["held by another owner"] = count

    return [
        ProgramStatus(program, *pushes.get(program, NO_PUSH), unflaggable.get(program, {}))
        for program in sorted(set(pushes) | set(unflaggable))
    ]


def _tables(conn: duckdb.DuckDBPyConnection) -> set[str]:
    return {
        row[0]
        for row in conn.execute("SELECT table_name FROM information_schema.tables").fetchall()
    }
