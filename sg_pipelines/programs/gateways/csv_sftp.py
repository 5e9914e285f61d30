"""The CSV-over-SFTP adapter: the generic fallback for districts without the REST endpoint.

Every push uploads one complete `documents.csv` (Student Id, Program/Form, Start Date, End Date,
URL) holding every flag this system has pushed, for all programs, then a `COMPLETE` marker. The
old marker is removed first and the file is written under a temporary name and renamed, so a
reader that waits for `COMPLETE` never sees half a file. The URL opens the viewer with a signed,
expiring token (`viewer_links.py`).

There is nothing to read back over SFTP, so "what Campus holds" is what we last pushed
successfully, as recorded in the warehouse (`flag_push_results`): every flag is ours.
"""

from __future__ import annotations

import asyncio
import csv
import io
import logging
import random
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import asyncssh

from sg_pipelines.programs.gateways.base import (
    CampusFlag,
    ChangeResult,
    FlagChange,
    FlagProgram,
    ProgramFlag,
)
from sg_pipelines.programs.viewer_links import ViewerLinks
from sg_pipelines.roster.retry import Backoff
from sg_pipelines.sftp_drop import connect_options, deliver

logger = logging.getLogger(__name__)

DOCUMENTS_FILE = "documents.csv"
COMPLETE_FILE = "COMPLETE"
CSV_HEADER = ("Student Id", "Program/Form", "Start Date", "End Date", "URL")
# the vendor key our CSV flags carry: there is no Campus vendor key on this route
CSV_OWNER = "sg-pipelines-csv"


class CsvSftpGateway:
    """Writes `documents.csv` and `COMPLETE` to the district's SFTP drop.

    Args:
        programs: every enabled program; the file always holds all of them.
        pushed_flags: the flags last pushed successfully for a program key (from the warehouse).
        links: signs the viewer URLs.
        viewer_base_url: where the viewer listens (`flags.viewer_base_url`).
        password: SFTP password; without one, asyncssh's default client keys are offered.
        known_hosts: a known_hosts file; None uses `~/.ssh/known_hosts` (never unchecked).
    """

    name = "csv_sftp"
    owner = CSV_OWNER

    def __init__(
        self,
        host: str,
        port: int,
        username: str,
        remote_dir: str,
        *,
        programs: Sequence[FlagProgram],
        pushed_flags: Callable[[str], list[CampusFlag]],
        links: ViewerLinks,
        viewer_base_url: str,
        password: str | None = None,
        known_hosts: str | None = None,
        max_retries: int = 3,
        max_backoff_seconds: float = 60.0,
        connect_timeout_seconds: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        log: logging.Logger | logging.LoggerAdapter = logger,
    ) -> None:
        self.host = host
        self.port = port
        self.username = username
        self.remote_dir = remote_dir
        self.programs = list(programs)
        self._pushed_flags = pushed_flags
        self._links = links
        self._viewer_base_url = viewer_base_url
        self._password = password
        self._known_hosts = known_hosts
        self._backoff = Backoff(max_retries, max_backoff_seconds, rng=random.Random())
        self._connect_timeout = connect_timeout_seconds
        self._sleep = sleep
        self._log = log

    def close(self) -> None:
        """Nothing stays open between uploads."""

    def ensure_program_flag(self, program: FlagProgram) -> ProgramFlag:
        """The SIS maps the Program/Form column to its flag; there is nothing to set up here."""
        return ProgramFlag(program.key, program.flag_name, special_ed=True, active=True)

    def current_flags(self, program: FlagProgram) -> list[CampusFlag]:
        return self._pushed_flags(program.key)

    def apply(self, program: FlagProgram, changes: Sequence[FlagChange]) -> list[ChangeResult]:
        """Upload the whole file with the changes applied; every change shares the upload's fate."""
        state = {flag.participation_id: flag for flag in self._pushed_flags(program.key)}
        for change in changes:
            state[change.participation_id] = CampusFlag(
                change.participation_id,
                change.sourced_id,
                change.start_date,
                change.end_date,
                self.owner,
            )
        flags = {
            other.key: (list(state.values()) if other.key == program.key else None)
            for other in self.programs
        }
        content = self.render(flags)

        attempts, error = self._upload_with_retries(content)
        status = "ok" if error is None else "failed"
        return [ChangeResult(change, status, attempts, error) for change in changes]

    def render(self, flags: dict[str, list[CampusFlag] | None]) -> bytes:
        """`documents.csv` for every program (None: that program's last pushed flags)."""
        names = {program.key: program.flag_name for program in self.programs}
        rows = []
        for key, program_flags in flags.items():
            for flag in self._pushed_flags(key) if program_flags is None else program_flags:
                rows.append(
                    (
                        flag.sourced_id,
                        names[key],
                        flag.start_date.isoformat(),
                        flag.end_date.isoformat() if flag.end_date else "",
                        self._links.url(self._viewer_base_url, key, flag.sourced_id),
                    )
                )
        rows.sort(key=lambda row: (row[1], row[0], row[2]))

        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(CSV_HEADER)
        writer.writerows(rows)
        return buffer.getvalue().encode("utf-8")

    # upload

    def _upload_with_retries(self, content: bytes) -> tuple[int, str | None]:
        """Attempts made and the last error (None once the upload succeeded)."""
        attempt = 0
        while True:
            attempt += 1
            started = time.monotonic()
            try:
                asyncio.run(self._upload(content))
            except (OSError, asyncssh.Error) as error:
                reason = f"SFTP upload failed ({type(error).__name__})"
                if attempt > self._backoff.max_retries:
                    return attempt, f"{reason} after {attempt} attempts"
                delay = self._backoff.delay(attempt)
                self._log.warning("%s, retry %d in %.1fs", reason, attempt, delay)
                self._sleep(delay)
                continue
            self._log.info(
                "uploaded %s (%d bytes) in %.1fs",
                DOCUMENTS_FILE,
                len(content),
                time.monotonic() - started,
            )
            return attempt, None

    async def _upload(self, content: bytes) -> None:
        options = connect_options(
            port=self.port,
            username=self.username,
            known_hosts=self._known_hosts,
            connect_timeout=self._connect_timeout,
            password=self._password,
        )
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        await deliver(
            self.host,
            options,
            self.remote_dir,
            [(DOCUMENTS_FILE, content)],
            COMPLETE_FILE,
            lambda: f"{stamp}\n".encode(),
        )
