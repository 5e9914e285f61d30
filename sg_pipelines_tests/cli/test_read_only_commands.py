"""A command that only reads, run on a home with nothing in it yet, says so in one line and
leaves the filesystem as it found it (no home folder, no app database, no warehouse)."""

import os
import socket
import subprocess
import sys

import pytest

COMMAND = [sys.executable, "-c", "from sg_pipelines.cli import run; run()"]


def sg_pipelines(*args: str, home, cwd):
    environment = {key: value for key, value in os.environ.items() if not key.startswith("SG_")}
    return subprocess.run(
        [*COMMAND, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**environment, "SG_HOME": str(home)},
        timeout=120,
        check=False,
    )


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# (command, exit code, the stream that says so, what it says)
READ_ONLY = [
    (("status",), 1, "stdout", "No warehouse at {home}/warehouse.duckdb yet: run a sync first."),
    (("lti", "list"), 0, "stdout", "No LTI registrations yet: no database at {home}/app.sqlite."),
    (("exports", "list"), 0, "stdout", "No data exports yet: no database at {home}/app.sqlite."),
    (
        ("exports", "show", "Campus EMIS"),
        1,
        "stderr",
        "error: no data exports yet: no database at {home}/app.sqlite",
    ),
]


@pytest.mark.parametrize("home_exists", [False, True], ids=["no home", "empty home"])
@pytest.mark.parametrize(
    ("command", "exit_code", "stream", "line"), READ_ONLY, ids=[" ".join(c[0]) for c in READ_ONLY]
)
def test_a_read_only_command_on_an_empty_home_says_so_and_makes_nothing(
    tmp_path, home_exists, command, exit_code, stream, line
):
    home = tmp_path / "home"
    if home_exists:
        home.mkdir()

    result = sg_pipelines(*command, home=home, cwd=tmp_path)

    assert result.returncode == exit_code, result.stderr
    assert getattr(result, stream).strip() == line.format(home=home)
    assert "Traceback" not in result.stderr
    assert sorted(tmp_path.rglob("*")) == ([home] if home_exists else [])


def test_sandbox_report_on_a_missing_home_makes_nothing_and_names_the_unreachable_api(tmp_path):
    home = tmp_path / "home"
    api_url = f"http://127.0.0.1:{unused_port()}"
    report = ["sandbox", "report", "--client-id", "c", "--client-secret", "s", "--students", "20"]

    result = sg_pipelines(*report, "--api-url", api_url, home=home, cwd=tmp_path)

    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"error: cannot reach the reporting API at {api_url} (ConnectError)"
    )
    assert list(tmp_path.iterdir()) == []
