from pathlib import Path

import pytest
from pydantic import ValidationError

from sg_pipelines.settings import (
    SANDBOX_CLIENT_SECRET,
    load_settings,
    oneroster_client_secret,
)

EXAMPLE = Path(__file__).resolve().parent.parent / "docs" / "settings.example.yaml"


def test_defaults_point_at_the_sandbox_with_absolute_paths(tmp_path):
    settings = load_settings(environ={"SG_HOME": str(tmp_path / "rel" / ".." / "home")})

    assert settings.oneroster.base_url.startswith("http://127.0.0.1:8765/")
    assert settings.oneroster.base_url.endswith("/ims/oneroster/rostering/v1p2")
    assert settings.warehouse == (tmp_path / "home" / "warehouse.duckdb")
    assert settings.warehouse.is_absolute()
    assert settings.app_database == f"sqlite:///{tmp_path / 'home' / 'app.sqlite'}"
    assert settings.roster.deactivation_threshold == 0.10
    assert settings.oneroster.max_concurrency == 5


def test_documented_example_loads():
    settings = load_settings(EXAMPLE, environ={})

    assert settings.district_name == "Example City Schools"
    assert settings.warehouse == Path("/var/lib/sg-pipelines/warehouse.duckdb")
    assert settings.oneroster.page_size == 10000


def test_environment_overrides_the_file_per_nested_field():
    settings = load_settings(
        EXAMPLE,
        environ={
            "SG_ONEROSTER__PAGE_SIZE": "250",
            "SG_ROSTER__GUARDIAN_ROLES": "parent,guardian,ext:legalGuardian",
            "SG_UNRELATED": "ignored",
        },
    )

    assert settings.oneroster.page_size == 250
    assert settings.oneroster.client_id == "replace-with-the-client-id"
    assert settings.roster.guardian_roles == ["parent", "guardian", "ext:legalGuardian"]


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("SG_ONEROSTER__MAX_CONCURRENCY", "6"),
        ("SG_ONEROSTER__PAGE_SIZE", "50001"),
        ("SG_ROSTER__DEACTIVATION_THRESHOLD", "1.5"),
    ],
)
def test_out_of_range_settings_are_refused(variable, value):
    with pytest.raises(ValidationError):
        load_settings(environ={variable: value})


def test_settings_file_must_be_a_mapping(tmp_path):
    bad = tmp_path / "settings.yaml"
    bad.write_text("- just\n- a list\n", encoding="utf-8")

    with pytest.raises(ValueError, match="mapping"):
        load_settings(bad, environ={})


def test_client_secret_comes_from_the_environment():
    assert oneroster_client_secret({}) == SANDBOX_CLIENT_SECRET
    assert oneroster_client_secret({"SG_ONEROSTER_CLIENT_SECRET": "s3cret"}) == "s3cret"


def test_programs_default_to_their_plan_system_names_and_two_enabled():
    settings = load_settings(environ={})

    assert list(settings.enabled_programs) == ["special_education", "section_504"]
    assert settings.programs["k4_literacy"].flag_name == "K-4 Literacy"
    assert settings.programs["special_education"].flag_name == "Special Education"


def test_a_program_switched_on_later_keeps_the_others_and_its_own_name():
    settings = load_settings(
        environ={
            "SG_PROGRAMS__ENGLISH_LEARNERS__ENABLED": "true",
            "SG_PROGRAMS__ENGLISH_LEARNERS__CUTOVER_DATE": "2026-01-05",
        }
    )

    assert list(settings.enabled_programs) == [
        "special_education",
        "section_504",
        "english_learners",
    ]
    assert settings.programs["english_learners"].flag_name == "English Learners"
    assert str(settings.programs["english_learners"].cutover_date) == "2026-01-05"


def test_unknown_programs_are_refused():
    with pytest.raises(ValidationError, match="unknown programs"):
        load_settings(environ={"SG_PROGRAMS__ART__ENABLED": "true"})


@pytest.mark.parametrize("value", ["", " "])
def test_an_empty_sg_home_is_the_default_home_never_the_current_folder(
    monkeypatch, tmp_path, value
):
    monkeypatch.delenv("SG_HOME", raising=False)
    monkeypatch.chdir(tmp_path)

    settings = load_settings(environ={"SG_HOME": value})

    assert settings.home == tmp_path.resolve() / ".sg-pipelines"
    assert settings.warehouse == tmp_path.resolve() / ".sg-pipelines" / "warehouse.duckdb"
