"""The optional SFTP push: after each publish, the state's fixed-width files on an account's server.

For each data export with an SFTP target, every record set the account may call (`ge`, `fd`,
`fe`, `gq`, `ohioPreId`) is rendered from the published snapshot in the state's fixed-width
format (`emis/fixed_width.py`) and uploaded as `GE.txt`, `FD.txt`, `FE.txt`, `GQ.txt`,
`PREID.txt`. The old `COMPLETE` marker goes first, each file is written under a temporary name
and renamed, and a new `COMPLETE` naming the snapshot comes last: a reader that waits for the
marker never sees a half-written set. A target that fails leaves the others untouched; its
result says which files were already replaced, and the next publish tries again.

FD's "replace unknown fields with @" option decides how the fields Campus owns are written:
`@` to their width with the option, spaces without it.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncssh

from sg_pipelines.emis.fixed_width import relation_rows, render
from sg_pipelines.emis.layouts import LAYOUTS, Layout
from sg_pipelines.emis.snapshot import open_snapshot
from sg_pipelines.notify.alerts import push_failure_alert, send_quietly
from sg_pipelines.settings import SmtpSettings
from sg_pipelines.sftp_drop import connect_options, deliver

logger = logging.getLogger(__name__)

# endpoint name -> (snapshot table, remote file name)
RECORD_SETS: dict[str, tuple[str, str]] = {
    "ge": ("emis_ge", "GE.txt"),
    "fd": ("emis_fd", "FD.txt"),
    "fe": ("emis_fe", "FE.txt"),
    "gq": ("emis_gq", "GQ.txt"),
    "ohioPreId": ("ohio_pre_id", "PREID.txt"),
}
COMPLETE_FILE = "COMPLETE"


@dataclass(frozen=True)
class PushTarget:
    """One account's SFTP server and what it may receive.

    Args:
        name: the data export's name (in results, logs and alerts).
        host, port, username, remote_dir: where to write.
        password: the SFTP password; without one, asyncssh's default client keys are offered.
        known_hosts: a known_hosts file checked against the server's key; None uses
            `~/.ssh/known_hosts`. Host keys are always checked.
        record_types: the endpoints the account is permitted (`ge`, `fd`, `fe`, `gq`,
            `ohioPreId`); nothing else is written.
        replace_unknown: FD's `@` option.
        contact_email: who hears about a failed push; None sends no alert.
    """

    name: str
    host: str
    port: int
    username: str
    remote_dir: str
    record_types: tuple[str, ...]
    password: str | None = field(default=None, repr=False)
    known_hosts: str | None = None
    replace_unknown: bool = False
    contact_email: str | None = None
    connect_timeout_seconds: float = 30.0

    @classmethod
    def from_export(
        cls, export: Any, *, password: str | None = None, known_hosts: str | None = None
    ) -> PushTarget | None:
        """The target of a stored data export (`appdb.exports.DataExport`), or None without one.

        The export's `sftp` JSON gives host, port, username and remote_dir (and known_hosts);
        its permissions give the record types and FD's `@` option.
        """
        sftp: Mapping[str, Any] | None = export.sftp
        if not sftp or not sftp.get("host"):
            return None
        permissions = {permission.endpoint: permission for permission in export.permissions}
        fd = permissions.get("fd")
        return cls(
            name=export.name,
            host=sftp["host"],
            port=int(sftp.get("port") or 22),
            username=sftp.get("username") or "",
            remote_dir=sftp.get("remote_dir") or "/",
            record_types=tuple(endpoint for endpoint in RECORD_SETS if endpoint in permissions),
            password=password,
            known_hosts=known_hosts or sftp.get("known_hosts"),
            replace_unknown=bool(fd and fd.replace_unknown),
            contact_email=export.contact_email,
        )


@dataclass(frozen=True)
class PushedFile:
    name: str
    rows: int
    size: int


@dataclass(frozen=True)
class PushResult:
    """What one target's push did; `push_id` is the correlation id in logs and alerts."""

    target: str
    push_id: str
    snapshot: str
    status: str
    started_at: datetime
    seconds: float
    files: tuple[PushedFile, ...] = ()
    error_class: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def metadata(self) -> dict[str, Any]:
        """Counts and names only, for asset metadata and logs."""
        return {
            "target": self.target,
            "push_id": self.push_id,
            "status": self.status,
            "files": [file.name for file in self.files],
            "rows": sum(file.rows for file in self.files),
            "seconds": round(self.seconds, 2),
            "error_class": self.error_class,
        }


def render_record_sets(snapshot_path: Path, record_types: Iterable[str], *, replace_unknown: bool):
    """The fixed-width files for the given record types: {file name: (rows, content)}."""
    files: dict[str, tuple[int, bytes]] = {}
    with open_snapshot(snapshot_path) as conn:
        for record_type in record_types:
            if record_type not in RECORD_SETS:
                raise ValueError(f"unknown record type {record_type!r}")
            table, file_name = RECORD_SETS[record_type]
            rows = relation_rows(conn.sql(f"SELECT * FROM {table} ORDER BY ALL"))
            layout = LAYOUTS[table]
            if not replace_unknown:
                rows = _blank_unknown(layout, rows)
            files[file_name] = (len(rows), render(layout, rows).encode("ascii"))
    return files


def push_snapshot(snapshot_path: Path, targets: Sequence[PushTarget]) -> list[PushResult]:
    """Write each target's permitted record sets from the snapshot to its SFTP server.

    Targets are pushed one after another; a failure is recorded in its result, never raised.
    """
    snapshot_path = Path(snapshot_path)
    results = []
    for target in targets:
        started_at = datetime.now(UTC)
        started = time.monotonic()
        push_id = f"push-{uuid.uuid4().hex[:12]}"
        written: list[PushedFile] = []
        try:
            files = render_record_sets(
                snapshot_path, target.record_types, replace_unknown=target.replace_unknown
            )
            asyncio.run(_upload(target, files, snapshot_path.name, written))
        except (OSError, asyncssh.Error, ValueError) as error:
            status, error_class = "failed", type(error).__name__
            logger.warning(
                "push %s to %s failed after %d files: %s",
                push_id,
                target.name,
                len(written),
                error_class,
            )
        else:
            status, error_class = "ok", None
            logger.info(
                "push %s to %s: %d files, %d rows in %.1fs",
                push_id,
                target.name,
                len(written),
                sum(file.rows for file in written),
                time.monotonic() - started,
            )
        results.append(
            PushResult(
                target=target.name,
                push_id=push_id,
                snapshot=snapshot_path.name,
                status=status,
                started_at=started_at,
                seconds=time.monotonic() - started,
                files=tuple(written),
                error_class=error_class,
            )
        )
    return results


def alert_failed_pushes(
    smtp: SmtpSettings, targets: Sequence[PushTarget], results: Sequence[PushResult]
) -> int:
    """Mail each failed target's contact (mail errors are logged); returns mails sent."""
    contacts = {target.name: target.contact_email for target in targets}
    sent = 0
    for result in results:
        contact = contacts.get(result.target)
        if result.ok or not contact:
            continue
        sent += send_quietly(
            push_failure_alert,
            smtp,
            contact,
            account_name=result.target,
            failed_at=result.started_at,
            error_class=result.error_class or "unknown error",
            correlation_id=result.push_id,
            files=[file.name for file in result.files],
        )
    return sent


async def _upload(
    target: PushTarget,
    files: Mapping[str, tuple[int, bytes]],
    snapshot_name: str,
    written: list[PushedFile],
) -> None:
    options = connect_options(
        port=target.port,
        username=target.username,
        known_hosts=target.known_hosts,
        connect_timeout=target.connect_timeout_seconds,
        password=target.password,
    )

    def marker() -> bytes:
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        listing = "".join(f"{file.name} {file.rows}\n" for file in written)
        return f"{snapshot_name} {stamp}\n{listing}".encode()

    await deliver(
        target.host,
        options,
        target.remote_dir,
        [(name, content) for name, (_, content) in files.items()],
        COMPLETE_FILE,
        marker,
        on_written=lambda name, content: written.append(
            PushedFile(name, files[name][0], len(content))
        ),
    )


def _blank_unknown(layout: Layout, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows whose null Campus-owned fields render as spaces instead of `@`."""
    owned = [element.column for element in layout.elements if element.owner == "sis"]
    if not owned:
        return rows
    return [{**row, **{column: "" for column in owned if row.get(column) is None}} for row in rows]
