"""The flags gateway: how program flags reach Campus, whatever carries them.

A flag in Campus is a *participation* of a student in a *program* (the flag set up in Campus
Flags Setup), with a start date and an optional end date. The pipeline computes the changes
(`flag_deltas`) and hands them to a gateway; the gateway reports what Campus holds and what
happened to each change. Adapters: `CampusRestGateway` (the partner-only REST endpoint, see
docs/campus-flags-api.md) and `CsvSftpGateway` (a nightly `documents.csv` over SFTP).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal, Protocol

FlagAction = Literal["set", "end", "update"]
ChangeStatus = Literal["ok", "failed", "skipped"]

# uuid5 namespace of every id this system chooses for Campus records (flags and participations)
FLAG_ID_NAMESPACE = uuid.UUID("6f1c8d52-3a0e-5b7e-9f0d-2c4b8a1e7d35")


@dataclass(frozen=True)
class FlagProgram:
    """One program as the gateways see it: our key and the Campus flag's name."""

    key: str
    flag_name: str


@dataclass(frozen=True)
class ProgramFlag:
    """A program flag as Campus lists it (Campus Flags Setup)."""

    flag_id: str
    name: str
    special_ed: bool
    active: bool


@dataclass(frozen=True)
class CampusFlag:
    """One student's participation in a program, as Campus holds it now.

    `created_by` is the vendor key of whoever created it, or None when it was entered by hand
    in Campus; only flags created by our own vendor key can be ours.
    """

    participation_id: str
    sourced_id: str
    start_date: date
    end_date: date | None
    created_by: str | None


@dataclass(frozen=True)
class FlagChange:
    """One change to push: set a new flag, end one, or move its dates."""

    action: FlagAction
    sourced_id: str
    start_date: date
    end_date: date | None
    participation_id: str


@dataclass(frozen=True)
class ChangeResult:
    """What happened to one change. `error` is in our words and never holds personal data."""

    change: FlagChange
    status: ChangeStatus
    attempts: int
    error: str | None = None


class FlagSetupError(Exception):
    """The program's flag is missing or unusable in Campus; a district administrator must act."""


class GatewayError(Exception):
    """The gateway could not reach Campus or read its state; nothing was changed."""


class FlagsGateway(Protocol):
    """What the pipeline needs from whatever carries flags to Campus.

    Attributes:
        name: the adapter's name, recorded in `flag_push_log.gateway`.
        owner: the vendor key our flags carry as `created_by`; flags with another owner are
            never changed.
    """

    name: str
    owner: str

    def ensure_program_flag(self, program: FlagProgram) -> ProgramFlag:
        """The program's flag in Campus, created first when the flag mode allows it."""
        ...

    def current_flags(self, program: FlagProgram) -> list[CampusFlag]:
        """Every participation Campus holds for the program, whoever created it."""
        ...

    def apply(self, program: FlagProgram, changes: Sequence[FlagChange]) -> list[ChangeResult]:
        """Push the changes; one result per change, in order. Never raises for one change."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


def participation_id(program: str, sourced_id: str, start_date: date) -> str:
    """The id we choose for a new flag: the same program, student and start always give the
    same id, so a retried PUT updates the flag it created instead of adding a second one."""
    return str(uuid.uuid5(FLAG_ID_NAMESPACE, f"participation:{program}:{sourced_id}:{start_date}"))


def program_flag_id(vendor_key: str, flag_name: str) -> str:
    """The id we choose when creating a program flag (flag mode "create")."""
    return str(uuid.uuid5(FLAG_ID_NAMESPACE, f"program:{vendor_key}:{flag_name.casefold()}"))


def missing_flag_message(flag_name: str, reason: str) -> str:
    """What a district administrator must do when a program flag cannot be used."""
    return (
        f"Campus program flag {flag_name!r} {reason}. In Campus Flags Setup create (or fix) a "
        f"flag named exactly {flag_name!r}, Active, Flagged, with the 'Special Ed' checkbox "
        "ticked; or set flags.flag_mode to 'create' to let this integration create it."
    )
