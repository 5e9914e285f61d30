"""A real asyncssh SFTP server on loopback, and a published snapshot with GE, FD and GQ rows."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from sg_pipelines.emis.ranges import ReportRequest
from sg_pipelines.emis.reconciliation import build_reconciliation
from sg_pipelines.emis.records import BUILDERS
from sg_pipelines.emis.snapshot import publish_snapshot
from sg_pipelines.emis.tables import replace_table
from sg_pipelines_tests.emis.warehouse_rows import Warehouse
from sg_pipelines_tests.sftp_server import SftpServer, running_sftp_server
from sg_pipelines_tests.smtp_server import smtp_server, smtp_settings

__all__ = ["smtp_server", "smtp_settings"]

USERNAME = "campus-drop"
PASSWORD = "sftp password for tests"
REQUEST = ReportRequest(fiscal_year=2026, effective_date=date(2025, 11, 1))


@pytest.fixture(scope="session")
def sftp_server(tmp_path_factory) -> Iterator[SftpServer]:
    """A real SFTP server (password auth, generated host key) chrooted to a temp directory."""
    with running_sftp_server(tmp_path_factory.mktemp("push-root"), USERNAME, PASSWORD) as server:
        yield server


@pytest.fixture
def drop(sftp_server: SftpServer) -> SftpServer:
    """The server with an empty drop directory."""
    return sftp_server.clear()


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
