"""The admin functions behind `sg-pipelines exports ...`: permissions and options from the CLI's
strings, validation, updates, disabling, and what `show` prints."""

from __future__ import annotations

import pytest

from sg_pipelines.settings import ApiSettings, Settings
from sg_pipelines.web.api.credentials import SecretKeyMissing, server_key
from sg_pipelines.web.exports.admin import (
    ExportError,
    add_export,
    build_permissions,
    describe_export,
    disable_export,
    list_exports,
    show_export,
    update_export,
)


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(home=tmp_path, app_database_url=f"sqlite:///{tmp_path / 'app.sqlite'}")


def add(settings: Settings, name: str = "campus", **rules):
    return add_export(
        settings,
        name=name,
        contact_first_name="Pat",
        contact_last_name="Lee",
        contact_email="pat@district.test",
        send=False,
        **{"endpoints": ["ge", "fd"], **rules},
    )


def test_defaults_leave_every_override_allowed_and_the_settings_page_size(settings):
    [ge] = build_permissions(settings, ["ge"])

    assert ge.max_page_size == settings.api.default_max_page_size
    assert all(rule["allow_override"] for rule in ge.options.values())
    assert ge.options["limit"]["default"] == str(ge.max_page_size)
    assert not ge.replace_unknown


def test_options_locks_and_page_sizes_apply_per_endpoint_or_to_all(settings):
    ge, fd = build_permissions(
        settings,
        ["ge", "fd"],
        options=["ge.fiscalYear=2026", "reportingPeriod=K", "limit=100"],
        locked=["fiscalYear", "fd.limit"],
        max_page_sizes=["500", "fd=200"],
        replace_unknown=True,
    )

    assert ge.options["fiscalYear"] == {"default": "2026", "allow_override": False}
    assert fd.options["fiscalYear"] == {"default": None, "allow_override": False}
    assert ge.options["reportingPeriod"]["default"] == fd.options["reportingPeriod"]["default"]
    assert (ge.options["limit"]["allow_override"], fd.options["limit"]["allow_override"]) == (
        True,
        False,
    )
    assert (ge.max_page_size, fd.max_page_size) == (500, 200)
    assert (ge.replace_unknown, fd.replace_unknown) == (False, True)


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ({"endpoints": ["ge", "xx"]}, "endpoints must be among"),
        ({"endpoints": []}, "endpoints must be among"),
        ({"options": ["ge.fiscalYear=26"]}, "fiscalYear"),
        ({"options": ["fiscalYear"]}, "option=value"),
        ({"options": ["ge.effectiveDate=2026-01-01"]}, "effectiveDate"),
        ({"options": ["limit=5000"]}, "maximum page size"),
        ({"locked": ["zz.limit"]}, "not an endpoint"),
        ({"max_page_sizes": ["0"]}, "1 to 50,000"),
        ({"max_page_sizes": ["gq=10"]}, "not one of"),
    ],
)
def test_a_malformed_rule_is_refused_with_a_reason(settings, rules, message):
    with pytest.raises(ExportError, match=message):
        add(settings, **rules)
    assert list_exports(settings) == []


@pytest.mark.parametrize("email", ["pat", "pat@district", "pat @district.test", "@district.test"])
def test_a_malformed_contact_email_is_refused(settings, email):
    with pytest.raises(ExportError, match="email"):
        add_export(
            settings,
            name="x",
            contact_first_name="Pat",
            contact_last_name="Lee",
            contact_email=email,
            endpoints=["ge"],
            send=False,
        )


def test_a_name_is_unique(settings):
    add(settings)

    with pytest.raises(ExportError, match="already exists"):
        add(settings)


def test_an_update_keeps_what_it_does_not_name(settings):
    add(settings, options=["ge.fiscalYear=2026"], locked=["ge.fiscalYear"])

    updated = update_export(
        settings,
        "campus",
        contact_email="new@district.test",
        unlocked=["fiscalYear"],
        max_page_sizes=["ge=50"],
        sftp={"host": "sftp.district.test", "username": "campus"},
    )

    ge = updated.permission("ge")
    assert updated.contact_email == "new@district.test"
    assert ge.options["fiscalYear"] == {"default": "2026", "allow_override": True}
    assert ge.max_page_size == 50
    assert updated.permission("fd").max_page_size == settings.api.default_max_page_size
    assert updated.sftp == {"host": "sftp.district.test", "username": "campus"}


def test_an_update_can_remove_an_endpoint(settings):
    add(settings)

    updated = update_export(settings, "campus", endpoints=["fd"])

    assert [p.endpoint for p in updated.permissions] == ["fd"]


def test_show_describes_state_and_rules_without_secrets(settings):
    invitation = add(settings, options=["ge.fiscalYear=2026"], locked=["ge.fiscalYear"])
    disable_export(settings, "campus")

    text = describe_export(show_export(settings, "campus"))

    assert "state: disabled" in text
    assert invitation.export.client_id in text
    assert "fiscalYear       default 2026" in text and "fixed" in text
    assert "sgs_" not in text and "accept/" not in text


def test_an_unknown_name_lists_the_known_ones(settings):
    add(settings)

    with pytest.raises(ExportError, match="known: campus"):
        show_export(settings, "other")


def test_the_development_key_is_refused_beyond_loopback():
    public = Settings(api=ApiSettings(public_url="https://reports.district.example"))
    local = Settings(api=ApiSettings(public_url="http://127.0.0.1:8780"))

    with pytest.raises(SecretKeyMissing, match="SG_API_SECRET_KEY"):
        server_key(public, environ={})
    assert server_key(public, environ={"SG_API_SECRET_KEY": "k" * 40}) == b"k" * 40
    assert server_key(local, environ={})
