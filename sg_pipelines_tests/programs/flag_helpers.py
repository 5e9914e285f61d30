"""Shared by the flag tests: badge and roster tables as the contract shapes them, and gateways."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import duckdb

from sg_pipelines.programs.gateways import (
    CampusFlag,
    CampusRestGateway,
    ChangeResult,
    FlagChange,
    FlagProgram,
    ProgramFlag,
)
from sg_pipelines.programs.partitions import newest_complete_day
from sg_pipelines.sandbox import SandboxServer
from sg_pipelines.settings import SANDBOX_VENDOR_SECRET, CampusFlagsSettings

VENDOR_KEY = CampusFlagsSettings().vendor_key
SPED = FlagProgram("special_education", "Special Education")
SECTION_504 = FlagProgram("section_504", "Section 504")
CUTOVER = date(2025, 1, 1)


# one instant for the whole test session: a module collected before midnight in the district
# and run after it must still agree with the assets on which day is the newest
SESSION_NOW = datetime.now(UTC)


def today() -> date:
    """The newest complete day at the session's start: the only one that is pushed."""
    return newest_complete_day(SESSION_NOW)


@dataclass(frozen=True)
class Badge:
    sourced_id: str | None
    start: date
    end: date | None = None
    program: str = SPED.key
    active_student: bool = True
    plan_student_id: int = 0


def write_badges(conn: duckdb.DuckDBPyConnection, day: date, badges: Iterable[Badge]) -> None:
    """Replace `program_participation_badges` and `roster_students` with these badges' rows."""
    conn.execute(
        "CREATE OR REPLACE TABLE program_participation_badges (program VARCHAR, as_of_date DATE, "
        "plan_student_id BIGINT, sourced_id VARCHAR, badge_start DATE, badge_end DATE, "
        "start_document_id BIGINT, end_document_id BIGINT, active_on_day BOOLEAN)"
    )
    conn.execute(
        "CREATE OR REPLACE TABLE roster_students "
        "(sourced_id VARCHAR PRIMARY KEY, is_active BOOLEAN)"
    )
    students: dict[str, bool] = {}
    for number, badge in enumerate(badges, start=1):
        conn.execute(
            "INSERT INTO program_participation_badges VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                badge.program,
                day,
                badge.plan_student_id or number,
                badge.sourced_id,
                badge.start,
                badge.end,
                number,
                None,
                badge.start <= day and (badge.end is None or badge.end >= day),
            ],
        )
        if badge.sourced_id is not None:
            students[badge.sourced_id] = badge.active_student
    for sourced_id, active in students.items():
        conn.execute("INSERT INTO roster_students VALUES (?, ?)", [sourced_id, active])


def student_ids(sandbox: SandboxServer, count: int) -> list[str]:
    """sourcedIds of `count` students the sandbox district knows."""
    return [student["sourcedId"] for student in sandbox.district.students()[:count]]


def rest_gateway(sandbox: SandboxServer, **kwargs: object) -> CampusRestGateway:
    """A Campus REST gateway on the sandbox that never really sleeps between retries."""
    options: dict[str, object] = {"sleep": lambda seconds: None, **kwargs}
    return CampusRestGateway(
        sandbox.flags_url,
        sandbox.token_url,
        sandbox.client_id,
        sandbox.client_secret,
        VENDOR_KEY,
        SANDBOX_VENDOR_SECRET,
        **options,  # type: ignore[arg-type]
    )


@dataclass
class FakeGateway:
    """An in-memory gateway: Campus holds `flags`; `apply` records and applies the changes."""

    flags: list[CampusFlag] = field(default_factory=list)
    owner: str = VENDOR_KEY
    name: str = "fake"
    applied: list[FlagChange] = field(default_factory=list)

    def ensure_program_flag(self, program: FlagProgram) -> ProgramFlag:
        return ProgramFlag(program.key, program.flag_name, True, True)

    def current_flags(self, program: FlagProgram) -> list[CampusFlag]:
        return list(self.flags)

    def apply(self, program: FlagProgram, changes: Sequence[FlagChange]) -> list[ChangeResult]:
        self.applied += changes
        return [ChangeResult(change, "ok", 1) for change in changes]

    def close(self) -> None:
        pass
