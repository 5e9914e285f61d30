"""Registrations per district: the functions behind `sg-pipelines lti register|list|remove`."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from sg_pipelines.appdb.lti import Deployment
from sg_pipelines.web.lti.config import load_lti_settings
from sg_pipelines.web.lti.registrations import (
    add_deployment,
    list_registrations,
    register,
    remove_registration,
)

CAMPUS = "https://district.infinitecampus.org"


def register_campus(url: str, **changes):
    values = {
        "district": "Sandbox City Schools",
        "issuer": CAMPUS,
        "client_id": "client-1",
        "auth_login_url": f"{CAMPUS}/campus/oidc/authorize",
        "key_set_url": f"{CAMPUS}/campus/oidc/jwks",
        "deployments": ["dep-1"],
        "lti": load_lti_settings({}, tool_url="https://plans.example.org"),
    }
    return register(url, **{**values, **changes})


def test_a_registration_is_listed_with_its_deployments_launch_url_and_frame_origin(tmp_path):
    url = f"sqlite:///{tmp_path / 'app.sqlite'}"
    register_campus(url)

    [registration] = list_registrations(url)

    assert (registration.issuer, registration.client_id) == (CAMPUS, "client-1")
    assert registration.deployments == (Deployment("dep-1"),)
    assert registration.launch_url == "https://plans.example.org/lti/launch"
    assert registration.frame_origin == CAMPUS


def test_deployments_can_be_added_and_scoped_to_buildings(tmp_path):
    url = f"sqlite:///{tmp_path / 'app.sqlite'}"
    register_campus(url)

    registration = add_deployment(url, CAMPUS, "client-1", "school-9", ["000909"])

    assert registration.deployment("school-9").covers("000909")
    assert not registration.deployment("school-9").covers("000101")


def test_the_same_issuer_and_client_cannot_be_registered_twice(tmp_path):
    url = f"sqlite:///{tmp_path / 'app.sqlite'}"
    register_campus(url)

    with pytest.raises(ValueError, match="already registered"):
        register_campus(url)


def test_remove_deletes_the_registration(tmp_path):
    url = f"sqlite:///{tmp_path / 'app.sqlite'}"
    register_campus(url)

    assert remove_registration(url, CAMPUS, "client-1") is True
    assert remove_registration(url, CAMPUS, "client-1") is False
    assert list_registrations(url) == []


@pytest.mark.parametrize(
    "field",
    ["issuer", "auth_login_url", "key_set_url"],
)
def test_platform_urls_must_be_https(tmp_path, field):
    url = f"sqlite:///{tmp_path / 'app.sqlite'}"

    with pytest.raises(ValueError, match="https"):
        register_campus(url, **{field: "http://district.example.org/x"})


def test_plain_http_is_accepted_on_loopback_for_the_sandbox(tmp_path):
    url = f"sqlite:///{tmp_path / 'app.sqlite'}"

    registration = register_campus(
        url, issuer="http://127.0.0.1:8765", auth_login_url="http://localhost:8765/auth"
    )

    assert registration.frame_origin == "http://localhost:8765"


def test_lti_settings_read_sg_lti_environment_variables():
    settings = load_lti_settings(
        {"SG_LTI__LEEWAY_SECONDS": "30", "SG_LTI__STAFF_ROLES": "a,b", "SG_OTHER": "x"}
    )

    assert (settings.leeway_seconds, settings.staff_roles) == (30, ["a", "b"])


@pytest.mark.parametrize("algorithms", ["HS256", "RS256,HS512", "none", "RS256,EdDSA", ""])
def test_only_asymmetric_signature_algorithms_can_be_configured(algorithms):
    # an HMAC algorithm would let a public key serve as the shared secret (L2)
    with pytest.raises(ValidationError):
        load_lti_settings({"SG_LTI__ALGORITHMS": algorithms})
