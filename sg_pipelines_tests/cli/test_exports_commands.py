"""`sg-pipelines exports ...` against a real app-database file and a real SMTP server."""

import os
import re
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from sg_pipelines.cli import app
from sg_pipelines_tests.smtp_server import smtp_server  # noqa: F401  (fixture)


@pytest.fixture
def cli(tmp_path, monkeypatch, smtp_server):  # noqa: F811
    monkeypatch.setenv("SG_HOME", str(tmp_path))
    settings = smtp_server.settings()
    monkeypatch.setenv("SG_SMTP__HOST", settings.host)
    monkeypatch.setenv("SG_SMTP__PORT", str(settings.port))
    runner = CliRunner()
    return lambda *args: runner.invoke(app, ["exports", *args])


ADD = [
    "add",
    "--name",
    "Campus EMIS",
    "--first-name",
    "Pat",
    "--last-name",
    "Lee",
    "--email",
    "pat.lee@district.example.org",
    "--endpoint",
    "ge",
    "--endpoint",
    "fd",
    "--max-page-size",
    "500",
    "--replace-unknown",
]


def test_add_mails_the_link_and_show_never_prints_a_secret(cli, smtp_server):  # noqa: F811
    added = cli(*ADD)

    assert added.exit_code == 0, added.output
    assert "Mailed the acceptance link" in added.output
    [mail] = smtp_server.wait_for(1)
    assert mail["To"] == "pat.lee@district.example.org"
    assert re.search(r"/exports/accept/\S+", mail.get_content())

    shown = cli("show", "Campus EMIS")
    assert shown.exit_code == 0, shown.output
    assert "Campus EMIS" in shown.output
    assert "secret" not in shown.output.lower() or "never" in shown.output.lower()

    listed = cli("list")
    assert "Campus EMIS" in listed.output and "ge" in listed.output


def test_update_disable_and_enable(cli):
    assert cli(*ADD).exit_code == 0

    updated = cli("update", "Campus EMIS", "--endpoint", "gq")
    assert updated.exit_code == 0, updated.output
    assert "gq" in updated.output

    assert "disabled" in cli("disable", "Campus EMIS").output
    assert "disabled" not in cli("enable", "Campus EMIS").output


@pytest.mark.parametrize(
    "args",
    [
        ["show", "No Such Export"],
        ["disable", "No Such Export"],
        [*ADD[:-5], "--endpoint", "grades"],
    ],
)
def test_mistakes_get_a_clear_error_and_exit_1(cli, args):
    result = cli(*args)

    assert result.exit_code == 1
    assert "error:" in result.output


@pytest.mark.parametrize(
    ("sftp", "message"),
    [
        (
            ["--sftp-host", "h", "--sftp-username", "u", "--sftp-port", "99999"],
            "between 1 and 65535",
        ),
        (["--sftp-host", "h", "--sftp-username", "u", "--sftp-port", "0"], "between 1 and 65535"),
        (["--sftp-username", "u"], "needs --sftp-host and --sftp-username"),
    ],
)
def test_a_bad_sftp_push_is_refused_in_words(cli, sftp, message):
    result = cli(*ADD, "--no-email", *sftp)

    assert result.exit_code == 1
    assert "error:" in result.output and message in result.output
    assert "(fields:" not in result.output
    assert "Campus EMIS" not in cli("list").output, "nothing is added"


def test_show_takes_the_client_id_that_list_prints(cli):
    assert cli(*ADD, "--no-email").exit_code == 0
    # the client id is the second column of the account's line, whatever characters it holds
    [line] = [line for line in cli("list").output.splitlines() if "Campus EMIS" in line]
    [client_id] = [word for word in line.split() if word.startswith("sgx_")]

    shown = cli("show", client_id)

    assert shown.exit_code == 0, shown.output
    assert "Campus EMIS" in shown.output


def test_read_only_commands_create_no_database_and_point_at_the_demo(tmp_path):
    demo_home = tmp_path / ".sg-pipelines" / "demo"
    demo_home.mkdir(parents=True)
    (demo_home / ".sg-pipelines-demo").write_text("made by `sg-pipelines demo`\n")
    environment = {key: value for key, value in os.environ.items() if not key.startswith("SG_")}

    def run(*args):
        return subprocess.run(
            [sys.executable, "-c", "from sg_pipelines.cli import run; run()", *args],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=environment,
            timeout=120,
            check=False,
        )

    listed, shown, status = run("exports", "list"), run("exports", "show", "x"), run("status")

    app_db = tmp_path / ".sg-pipelines" / "app.sqlite"
    assert listed.returncode == 0
    assert listed.stdout.strip() == (
        f"No data exports yet: no database at {app_db}. The demo's data is in "
        ".sg-pipelines/demo: SG_HOME=.sg-pipelines/demo sg-pipelines exports list"
    )
    assert shown.returncode == 1 and shown.stderr.strip().startswith("error: no data exports yet")
    assert status.returncode == 1
    assert "SG_HOME=.sg-pipelines/demo sg-pipelines status" in status.stdout
    assert not app_db.exists()


def test_a_year_out_of_range_reads_as_a_year(tmp_path, monkeypatch):
    monkeypatch.setenv("SG_HOME", str(tmp_path))
    arguments = ["exports", "add", "--name", "Campus EMIS", "--first-name", "Ada"]
    arguments += ["--last-name", "Lovelace", "--email", "ada@example.org", "--endpoint", "ge"]
    arguments += ["--option", "ge.fiscalYear=1999", "--no-email"]

    result = CliRunner().invoke(app, arguments)

    assert result.exit_code == 1
    assert "must be between 2000 and 2100" in result.output
