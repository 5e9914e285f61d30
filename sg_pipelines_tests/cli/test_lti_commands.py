"""`sg-pipelines lti ...` against a real app-database file."""

import pytest
from typer.testing import CliRunner

from sg_pipelines.cli import app


@pytest.fixture
def cli(tmp_path, monkeypatch):
    monkeypatch.setenv("SG_HOME", str(tmp_path))
    runner = CliRunner()
    return lambda *args: runner.invoke(app, ["lti", *args])


PLATFORM = [
    "--issuer",
    "https://district.example.org",
    "--client-id",
    "client-1",
]


def test_register_deploy_list_and_remove(cli):
    registered = cli(
        "register",
        "--district",
        "Example City",
        *PLATFORM,
        "--auth-login-url",
        "https://district.example.org/campus/oidc/authorize",
        "--key-set-url",
        "https://district.example.org/campus/oidc/jwks",
        "--deployment",
        "dep-1",
    )
    assert registered.exit_code == 0, registered.output
    assert "deployment dep-1 (whole district)" in registered.output

    deployed = cli("deploy", *PLATFORM, "--deployment", "dep-2", "--building", "000101")
    assert deployed.exit_code == 0, deployed.output
    assert "deployment dep-2 (000101)" in deployed.output

    listed = cli("list")
    assert "Example City" in listed.output and "dep-1" in listed.output

    assert cli("remove", *PLATFORM).exit_code == 0
    assert "No LTI registrations yet" in cli("list").output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["deploy", *PLATFORM, "--deployment", "d"], "no registration"),
        (["remove", *PLATFORM], "no registration"),
    ],
)
def test_unknown_platforms_are_refused_with_a_clear_error(cli, args, message):
    result = cli(*args)

    assert result.exit_code == 2
    assert message in result.output


def test_plain_http_platform_urls_are_refused_outside_loopback(cli):
    result = cli(
        "register",
        "--district",
        "X",
        *PLATFORM,
        "--auth-login-url",
        "http://district.example.org/authorize",
        "--key-set-url",
        "https://district.example.org/jwks",
        "--deployment",
        "d",
    )

    assert result.exit_code == 2
    assert "https" in result.output
