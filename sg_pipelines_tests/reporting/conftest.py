"""A real asyncssh SFTP server on loopback, and a published snapshot with GE, FD and GQ rows."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import asyncssh
import pytest

from sg_pipelines.emis.ranges import ReportRequest
from sg_pipelines.emis.reconciliation import build_reconciliation
from sg_pipelines.emis.records import BUILDERS
from sg_pipelines.emis.snapshot import publish_snapshot
from sg_pipelines.emis.tables import replace_table
from sg_pipelines_tests.emis.warehouse_rows import Warehouse
from sg_pipelines_tests.smtp_server import smtp_server, smtp_settings

__all__ = ["smtp_server", "smtp_settings"]

USERNAME = "campus-drop"
PASSWORD = "sftp password for tests"
REQUEST = ReportRequest(fiscal_year=2026, effective_date=date(2025, 11, 1))


@dataclass
class SftpServer:
    port: int
    root: Path
    known_hosts: Path


class _PasswordServer(asyncssh.SSHServer):
    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        return (username, password) == (USERNAME, PASSWORD)


@pytest.fixture(scope="session")
def sftp_server(tmp_path_factory) -> Iterator[SftpServer]:
    """A real SFTP server (password auth, generated host key) chrooted to a temp directory."""
    root = tmp_path_factory.mktemp("push-root")
    host_key = asyncssh.generate_private_key("ssh-ed25519")
    loop = asyncio.new_event_loop()
    started = threading.Event()
    state: dict[str, asyncssh.SSHAcceptor] = {}

    class _ChrootSftp(asyncssh.SFTPServer):
        def __init__(self, chan: asyncssh.SSHServerChannel) -> None:
            super().__init__(chan, chroot=str(root).encode())

    async def listen() -> None:
        state["acceptor"] = await asyncssh.listen(
            "127.0.0.1",
            0,
            server_host_keys=[host_key],
            server_factory=_PasswordServer,
            sftp_factory=_ChrootSftp,
        )
        started.set()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(listen())
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True, name="push-sftp-server")
    thread.start()
    assert started.wait(10)
    acceptor = state["acceptor"]
    port = acceptor.get_port()
    known_hosts = root.parent / "push_known_hosts"
    public = host_key.export_public_key().decode().split()[:2]
    known_hosts.write_text(f"[127.0.0.1]:{port} {' '.join(public)}\n")

    yield SftpServer(port, root, known_hosts)

    loop.call_soon_threadsafe(acceptor.close)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


@pytest.fixture
def drop(sftp_server: SftpServer) -> SftpServer:
    """The server with an empty drop directory."""
    for path in sftp_server.root.iterdir():
        path.unlink()
    return sftp_server


@pytest.fixture(scope="session")
def snapshot(tmp_path_factory) -> Path:
    """A published snapshot: two IEP students (GE, GQ) and one with an ETR and a 504 plan (FD)."""
    warehouse = Warehouse()
    for number in (1, 2):
        warehouse.document(warehouse.student(number), "iep_initial", date(2025, 9, 1))
    third = warehouse.student(3)
    warehouse.document(third, "etr_initial", date(2025, 9, 10), disability_condition="10")
    warehouse.document(third, "504_plan", date(2025, 9, 12), program="section_504")
    conn = warehouse.connect()
    for table, builder in BUILDERS.items():
        replace_table(conn, table, builder(conn, REQUEST))
    replace_table(conn, "emis_reconciliation", build_reconciliation(conn, REQUEST))
    home = tmp_path_factory.mktemp("home")
    return publish_snapshot(conn, home, now=datetime(2025, 11, 1, 7, tzinfo=UTC)).path
