"""The CSV-over-SFTP adapter against a real asyncssh SFTP server on loopback."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date
from urllib.parse import unquote, urlparse

import asyncssh
import duckdb
import pytest

from sg_pipelines.programs.flag_deltas import compute_flag_deltas
from sg_pipelines.programs.gateways import CsvSftpGateway, FlagChange, participation_id
from sg_pipelines.programs.gateways.resource import FlagsGatewayResource
from sg_pipelines.programs.push import push_flags
from sg_pipelines.programs.viewer_links import VIEW_PATH, ViewerLinks
from sg_pipelines_tests.programs.flag_helpers import (
    CUTOVER,
    SECTION_504,
    SPED,
    Badge,
    today,
    write_badges,
)
from sg_pipelines_tests.sftp_server import SftpServer, running_sftp_server

USERNAME = "district-drop"
PASSWORD = "correct horse battery staple"
SIGNING_KEY = "test-signing-key"
DAY = today()


@pytest.fixture(scope="module")
def sftp_server(tmp_path_factory) -> Iterator[SftpServer]:
    """A real SFTP server (password auth, generated host key) chrooted to a temp directory."""
    with running_sftp_server(tmp_path_factory.mktemp("sftp-root"), USERNAME, PASSWORD) as server:
        yield server


@pytest.fixture
def drop(sftp_server: SftpServer) -> SftpServer:
    """The server with an empty drop directory."""
    return sftp_server.clear()


def resource(server: SftpServer, **overrides: object) -> FlagsGatewayResource:
    options = {
        "gateway": "csv_sftp",
        "sftp_host": "127.0.0.1",
        "sftp_port": server.port,
        "sftp_username": USERNAME,
        "sftp_password": PASSWORD,
        "sftp_remote_dir": "/",
        "sftp_known_hosts": str(server.known_hosts),
        "viewer_base_url": "https://plans.example.org",
        "link_signing_key": SIGNING_KEY,
        **overrides,
    }
    return FlagsGatewayResource(**options)  # type: ignore[arg-type]


def rows(server: SftpServer) -> list[dict[str, str]]:
    text = (server.root / "documents.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def nightly(conn, server: SftpServer, program, push_id: str, **overrides: object):
    with resource(server, **overrides).open(conn, [SPED, SECTION_504]) as gateway:
        compute_flag_deltas(conn, program, DAY, CUTOVER, gateway, current=True)
        return push_flags(conn, gateway, program, DAY, push_id)


def test_the_push_uploads_every_program_then_the_complete_marker(drop):
    conn = duckdb.connect()
    write_badges(
        conn,
        DAY,
        [
            Badge("stu-1", date(2025, 3, 1)),
            Badge("stu-2", date(2024, 9, 1), date(2025, 6, 30)),
            Badge("stu-3", date(2025, 4, 1), program=SECTION_504.key),
        ],
    )

    first = nightly(conn, drop, SPED, "push-1")
    second = nightly(conn, drop, SECTION_504, "push-2")

    assert (first.status, first.set_count, second.set_count) == ("complete", 2, 1)
    assert sorted(p.name for p in drop.root.iterdir()) == ["COMPLETE", "documents.csv"]
    found = rows(drop)
    assert [
        (r["Student Id"], r["Program/Form"], r["Start Date"], r["End Date"]) for r in found
    ] == [
        ("stu-3", "Section 504", "2025-04-01", ""),
        ("stu-1", "Special Education", "2025-03-01", ""),
        ("stu-2", "Special Education", "2025-01-01", "2025-06-30"),
    ]

    # the URL opens the viewer with a token naming the program and student
    url = urlparse(found[1]["URL"])
    assert (url.scheme, url.netloc) == ("https", "plans.example.org")
    assert url.path.startswith(VIEW_PATH + "/")
    token = unquote(url.path.removeprefix(VIEW_PATH + "/"))
    link = ViewerLinks(SIGNING_KEY, ttl_seconds=3600).verify(token)
    assert (link.program, link.sourced_id) == (SPED.key, "stu-1")


def test_what_was_pushed_is_the_state_the_next_night_compares_with(drop):
    conn = duckdb.connect()
    write_badges(conn, DAY, [Badge("stu-1", date(2025, 3, 1))])
    nightly(conn, drop, SPED, "push-1")
    write_badges(conn, DAY, [Badge("stu-1", date(2025, 3, 1), date(2025, 5, 31))])

    again = nightly(conn, drop, SPED, "push-2")
    unchanged = nightly(conn, drop, SPED, "push-3")

    assert (again.ended_count, unchanged.set_count + unchanged.ended_count) == (1, 0)
    assert [(r["Student Id"], r["End Date"]) for r in rows(drop)] == [("stu-1", "2025-05-31")]


def test_a_refused_login_fails_every_change_and_leaves_no_marker(drop):
    gateway = CsvSftpGateway(
        "127.0.0.1",
        drop.port,
        USERNAME,
        "/",
        programs=[SPED],
        pushed_flags=lambda key: [],
        links=ViewerLinks(SIGNING_KEY, 3600),
        viewer_base_url="https://plans.example.org",
        password="wrong",
        known_hosts=str(drop.known_hosts),
        max_retries=1,
        sleep=lambda seconds: None,
    )
    change = FlagChange(
        "set",
        "stu-1",
        date(2025, 3, 1),
        None,
        participation_id(SPED.key, "stu-1", date(2025, 3, 1)),
    )

    [result] = gateway.apply(SPED, [change])

    assert (result.status, result.attempts) == ("failed", 2)
    assert "PermissionDenied" in result.error
    assert list(drop.root.iterdir()) == []


def test_an_unknown_host_key_is_refused(drop, tmp_path):
    conn = duckdb.connect()
    write_badges(conn, DAY, [Badge("stu-1", date(2025, 3, 1))])
    stranger = tmp_path / "known_hosts"
    other_key = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode()
    stranger.write_text(f"[127.0.0.1]:{drop.port} {' '.join(other_key.split()[:2])}\n")

    outcome = nightly(conn, drop, SPED, "push-1", sftp_known_hosts=str(stranger), push_retries=0)

    assert outcome.status == "failed"
    assert not (drop.root / "documents.csv").exists()


def test_the_development_signing_key_is_refused_for_a_district_host(drop):
    conn = duckdb.connect()
    gateway_resource = FlagsGatewayResource(gateway="csv_sftp", sftp_host="sftp.district.example")

    with (
        pytest.raises(ValueError, match="SG_LINK_SIGNING_KEY"),
        gateway_resource.open(conn, [SPED]),
    ):
        pass
