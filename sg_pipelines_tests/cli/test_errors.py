"""A user sees one clear line per problem from `sg-pipelines`, never a traceback."""

import subprocess
import sys

import pytest


def sg_pipelines(*args, env=None):
    return subprocess.run(
        [sys.executable, "-c", "from sg_pipelines.cli import run; run()", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("settings_text", "message"),
    [
        ("onerostr:\n  base_url: http://x\n", "onerostr: Extra inputs are not permitted"),
        ("oneroster:\n  page_sise: 10\n", "oneroster.page_sise: Extra inputs are not permitted"),
        ("oneroster:\n  max_concurrency: ten\n", "oneroster.max_concurrency"),
        ("a: [\n", "not valid YAML at line 2, column 1"),
        # unquoted, YAML itself would build the date and fail outside the settings check
        (
            "programs:\n  special_education:\n    cutover_date: 2025-13-45\n",
            "programs.special_education.cutover_date",
        ),
        ("home: /tmp/a\nhome: /tmp/b\n", "'home' is given twice (line 2, column 1)"),
    ],
)
def test_bad_settings_get_one_line_naming_the_field(tmp_path, settings_text, message):
    settings = tmp_path / "settings.yaml"
    settings.write_text(settings_text)

    result = sg_pipelines(
        "status", env={"SG_SETTINGS_FILE": str(settings), "SG_HOME": str(tmp_path), "PATH": ""}
    )

    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_a_missing_file_is_one_line(tmp_path):
    result = sg_pipelines("sandbox", "serve", "--csv", str(tmp_path / "missing"))

    assert result.returncode == 2
    assert "No such file or directory" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_folder_without_a_manifest_is_one_line(tmp_path):
    result = sg_pipelines("sandbox", "serve", "--csv", str(tmp_path))

    assert result.returncode == 2
    assert "manifest.csv" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("settings_text", ["- a\n", "just a string\n"])
@pytest.mark.parametrize("command", [("status",), ("serve",), ("exports", "list")])
def test_a_settings_file_that_is_not_a_mapping_is_one_line(tmp_path, settings_text, command):
    settings = tmp_path / "settings.yaml"
    settings.write_text(settings_text)

    result = sg_pipelines(
        *command, env={"SG_SETTINGS_FILE": str(settings), "SG_HOME": str(tmp_path), "PATH": ""}
    )

    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"error: settings file {settings} must hold a mapping at the top level"
    )


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("SG_TIMEZONE", "Mars/Olympus", "timezone: Value error, must be an IANA time zone"),
        ("SG_ONEROSTER__BASE_URL", "campus.example.org/oneroster", "oneroster.base_url"),
        ("SG_API__PUBLIC_URL", "ftp://reports.example.org", "api.public_url"),
        ("SG_FLAGS__VIEWER_BASE_URL", "plans", "flags.viewer_base_url"),
        ("SG_APP_DATABASE_URL", "not a url", "app_database_url"),
        ("SG_SMTP__PORT", "70000", "smtp.port"),
    ],
)
def test_a_setting_of_the_wrong_form_is_refused_at_load_in_one_line(
    tmp_path, variable, value, message
):
    result = sg_pipelines("status", env={variable: value, "SG_HOME": str(tmp_path), "PATH": ""})

    assert result.returncode == 2
    assert result.stderr.startswith("error: invalid settings: ")
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("settings_bytes", "message"),
    [
        ("home: café\n".encode("latin-1"), "is not UTF-8 text; save it as UTF-8"),
        (b'home: "a\\0b"\n', ": home holds a NUL character"),
        (b'oneroster:\n  scopes: ["a", "b\\0"]\n', ": oneroster.scopes[1] holds a NUL character"),
    ],
)
@pytest.mark.parametrize("command", [("status",), ("demo", "--students", "20")])
def test_a_settings_file_that_cannot_be_read_is_one_line_naming_it(
    tmp_path, settings_bytes, message, command
):
    settings = tmp_path / "settings.yaml"
    settings.write_bytes(settings_bytes)
    home = ("--home", str(tmp_path / "home")) if command[0] == "demo" else ()

    result = sg_pipelines(*command, *home, env={"SG_SETTINGS_FILE": str(settings), "PATH": ""})

    assert result.returncode == 2
    assert result.stderr.startswith(f"error: settings file {settings}")
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_plain_file_given_as_a_csv_bundle_is_one_line(tmp_path):
    plain = tmp_path / "users.csv"
    plain.write_text("sourcedId,givenName\n1,Ada\n")

    result = sg_pipelines("sandbox", "serve", "--csv", str(plain))

    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"error: {plain} is neither a folder nor a .zip archive; a OneRoster CSV bundle is one "
        "of those, holding manifest.csv"
    )


def test_a_bundle_record_that_cannot_be_read_names_its_file_and_record_never_its_value(tmp_path):
    (tmp_path / "manifest.csv").write_text(
        "propertyName,value\noneroster.version,1.1\nfile.orgs,bulk\n"
    )
    (tmp_path / "orgs.csv").write_text(
        "sourcedId,status,dateLastModified,name,type\n"
        "org-1,active,2025-01-01T00:00:00Z,Ada School,school\n"
        "org-2,active,03/14/2012,Byron School,school\n"
    )

    result = sg_pipelines("sandbox", "serve", "--csv", str(tmp_path))

    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: orgs.csv, record 2: dateLastModified is not an ISO 8601 date-time"
    )
