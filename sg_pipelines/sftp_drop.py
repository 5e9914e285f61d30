"""Dropping files on an SFTP server the way a reader can trust: no marker while files change.

Both SFTP paths (the flags' `documents.csv` and the reporting record sets) deliver the same way:
remove the old `COMPLETE` marker, write each file under a temporary name and rename it into
place, then write the new marker last, also by rename. Host keys are always checked.
"""

import posixpath
from collections.abc import Callable, Iterable
from typing import Any

import asyncssh

PARTIAL_SUFFIX = ".partial"


def connect_options(
    *,
    port: int,
    username: str,
    known_hosts: str | None,
    connect_timeout: float,
    password: str | None,
) -> dict[str, Any]:
    """asyncssh options: a password when given, otherwise the account's SSH keys.

    `known_hosts=None` means `~/.ssh/known_hosts`; never "accept any key".
    """
    options: dict[str, Any] = {
        "port": port,
        "username": username,
        "known_hosts": known_hosts if known_hosts is not None else (),
        "connect_timeout": connect_timeout,
        "agent_path": None,
    }
    if password is not None:
        options.update(password=password, client_keys=None)
    return options


async def deliver(
    host: str,
    options: dict[str, Any],
    remote_dir: str,
    files: Iterable[tuple[str, bytes]],
    marker_name: str,
    marker: Callable[[], bytes],
    on_written: Callable[[str, bytes], None] = lambda name, content: None,
) -> None:
    """Upload `files` into `remote_dir`, then the marker whose content `marker()` gives."""
    marker_path = posixpath.join(remote_dir, marker_name)
    async with (
        asyncssh.connect(host, **options) as conn,
        conn.start_sftp_client() as sftp,
    ):
        # while new files are on their way there is no marker: readers wait
        if await sftp.exists(marker_path):
            await sftp.remove(marker_path)
        for name, content in files:
            await write_then_rename(sftp, posixpath.join(remote_dir, name), content)
            on_written(name, content)
        await write_then_rename(sftp, marker_path, marker())


async def write_then_rename(sftp: asyncssh.SFTPClient, path: str, content: bytes) -> None:
    """Write under a temporary name, then rename over `path` in one step."""
    partial = f"{path}{PARTIAL_SUFFIX}"
    async with sftp.open(partial, "wb") as handle:
        await handle.write(content)
    try:
        await sftp.posix_rename(partial, path)
    except asyncssh.SFTPOpUnsupported:
        # plain SFTP rename refuses to replace: the old file goes first
        if await sftp.exists(path):
            await sftp.remove(path)
        await sftp.rename(partial, path)
