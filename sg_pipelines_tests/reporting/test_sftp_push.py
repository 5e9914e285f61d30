"""The SFTP push end to end against a real asyncssh SFTP server on loopback."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from sg_pipelines.emis.fixed_width import relation_rows
from sg_pipelines.emis.layouts import FD, GE
from sg_pipelines.emis.snapshot import open_snapshot
from sg_pipelines.reporting.sftp_push import (
    COMPLETE_FILE,
    PushTarget,
    alert_failed_pushes,
    push_snapshot,
)
from sg_pipelines_tests.reporting.conftest import PASSWORD, USERNAME, SftpServer
from sg_pipelines_tests.smtp_server import LoopbackSmtpServer


def target(server: SftpServer, **overrides: object) -> PushTarget:
    values: dict[str, object] = {
        "name": "Campus state reporting",
        "host": "127.0.0.1",
        "port": server.port,
        "username": USERNAME,
        "password": PASSWORD,
        "remote_dir": "/",
        "known_hosts": str(server.known_hosts),
        "record_types": ("ge", "fd", "gq"),
        "contact_email": "emis@district.test",
        "connect_timeout_seconds": 5.0,
    }
    values.update(overrides)
    return PushTarget(**values)  # type: ignore[arg-type]


def lines(server: SftpServer, name: str) -> list[str]:
    return (server.root / name).read_bytes().decode("ascii").split("\r\n")[:-1]


def table_count(snapshot: Path, table: str) -> int:
    with open_snapshot(snapshot) as conn:
        return len(relation_rows(conn.sql(f"SELECT * FROM {table}")))


def test_the_push_writes_only_the_permitted_record_sets_then_the_marker(
    drop: SftpServer, snapshot: Path
) -> None:
    [result] = push_snapshot(snapshot, [target(drop)])

    assert result.ok, result.error_class
    assert sorted(path.name for path in drop.root.iterdir()) == [
        COMPLETE_FILE,
        "FD.txt",
        "GE.txt",
        "GQ.txt",
    ]
    ge = lines(drop, "GE.txt")
    assert len(ge) == table_count(snapshot, "emis_ge") > 0
    assert all(len(line) == GE.width and line.startswith("GE2026") for line in ge)
    assert {file.name: file.rows for file in result.files}["GE.txt"] == len(ge)
    marker = (drop.root / COMPLETE_FILE).read_text()
    assert marker.startswith(snapshot.name) and "GE.txt" in marker
    assert not any(path.name.endswith(".partial") for path in drop.root.iterdir())


def test_fd_fields_campus_owns_are_at_signs_only_with_the_option(
    drop: SftpServer, snapshot: Path
) -> None:
    owned = next(e for e in FD.elements if e.owner == "sis")
    start = sum(e.width for e in FD.elements[: FD.elements.index(owned)])

    push_snapshot(snapshot, [target(drop, record_types=("fd",), replace_unknown=True)])
    with_option = lines(drop, "FD.txt")[0]
    push_snapshot(snapshot, [target(drop, record_types=("fd",), replace_unknown=False)])
    without_option = lines(drop, "FD.txt")[0]

    assert with_option[start : start + owned.width] == "@" * owned.width
    assert without_option[start : start + owned.width] == " " * owned.width
    assert with_option[:start] == without_option[:start]


def test_a_second_push_replaces_the_files(drop: SftpServer, snapshot: Path) -> None:
    (drop.root / "GE.txt").write_text("stale")

    [result] = push_snapshot(snapshot, [target(drop, record_types=("ge",))])

    assert result.ok
    assert lines(drop, "GE.txt")[0].startswith("GE")


def test_a_wrong_password_fails_that_target_only_and_alerts_its_contact(
    drop: SftpServer, snapshot: Path, smtp_server: LoopbackSmtpServer
) -> None:
    good = target(drop, name="good", record_types=("gq",))
    bad = replace(good, name="bad", password="wrong")

    results = push_snapshot(snapshot, [bad, good])
    sent = alert_failed_pushes(smtp_server.settings(), [bad, good], results)

    assert [(r.target, r.status) for r in results] == [("bad", "failed"), ("good", "ok")]
    assert results[0].error_class == "PermissionDenied"
    assert results[0].files == ()
    assert sent == 1
    [message] = smtp_server.wait_for(1)
    assert message["To"] == "emis@district.test"
    assert results[0].push_id in message.get_content()
    assert PASSWORD not in message.get_content()


def test_an_unknown_host_key_is_refused(drop: SftpServer, snapshot: Path, tmp_path) -> None:
    other = tmp_path / "known_hosts"
    other.write_text("")

    [result] = push_snapshot(snapshot, [target(drop, known_hosts=str(other))])

    assert not result.ok
    assert not (drop.root / "GE.txt").exists()


def test_a_target_from_a_stored_export_takes_its_permissions_and_fd_option() -> None:
    class Permission:
        def __init__(self, endpoint: str, replace_unknown: bool = False) -> None:
            self.endpoint, self.replace_unknown = endpoint, replace_unknown

    class Export:
        name = "Campus"
        contact_email = "emis@district.test"
        sftp = {"host": "sftp.district.test", "port": 2222, "username": "u", "remote_dir": "/in"}
        permissions = (Permission("ohioPreId"), Permission("fd", replace_unknown=True))

    pushed = PushTarget.from_export(Export(), password="p")

    assert pushed is not None
    assert pushed.record_types == ("fd", "ohioPreId")
    assert pushed.replace_unknown and pushed.port == 2222 and pushed.remote_dir == "/in"
    Export.sftp = None
    assert PushTarget.from_export(Export()) is None
