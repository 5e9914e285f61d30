"""The token endpoint and the bearer/scope checks on API calls."""

from __future__ import annotations

import httpx
import pytest

from sg_pipelines.sandbox import SandboxConfig, SandboxServer
from sg_pipelines.settings import ONEROSTER_SCOPES
from sg_pipelines_tests.sandbox.conftest import HTTP, api_client, fetch_token, minor_code

CORE, ROSTER, DEMOGRAPHICS = (
    "https://purl.imsglobal.org/spec/or/v1p2/scope/roster-core.readonly",
    "https://purl.imsglobal.org/spec/or/v1p2/scope/roster.readonly",
    "https://purl.imsglobal.org/spec/or/v1p2/scope/roster-demographics.readonly",
)


def _token_request(sandbox: SandboxServer, auth=None, **data: str) -> httpx.Response:
    form = {"grant_type": "client_credentials", **data}
    return HTTP.post(sandbox.token_url, auth=auth, data=form)


def test_good_credentials_get_a_bearer_token_with_the_requested_scopes(sandbox):
    response = _token_request(
        sandbox, (sandbox.client_id, sandbox.client_secret), scope=" ".join(ONEROSTER_SCOPES)
    )

    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert set(body["scope"].split()) == set(ONEROSTER_SCOPES)
    assert len(body["access_token"]) >= 32
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    "auth",
    [None, ("sg-sandbox-client", "wrong"), ("someone-else", "sg-sandbox-secret")],
    ids=["no-credentials", "wrong-secret", "wrong-client"],
)
def test_bad_client_credentials_are_refused_as_invalid_client(sandbox, auth):
    response = _token_request(sandbox, auth)

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response.headers["www-authenticate"].startswith("Basic")


def test_credentials_in_the_form_body_are_not_enough(sandbox):
    response = _token_request(
        sandbox, client_id=sandbox.client_id, client_secret=sandbox.client_secret
    )

    assert response.status_code == 401


def test_other_grant_types_are_unsupported(sandbox):
    response = HTTP.post(
        sandbox.token_url,
        auth=(sandbox.client_id, sandbox.client_secret),
        data={"grant_type": "password", "username": "x", "password": "y"},
    )

    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


def test_granted_scopes_are_the_requested_ones_the_client_may_have(sandbox_district):
    config = SandboxConfig(allowed_scopes=(CORE, ROSTER))
    with SandboxServer(sandbox_district, config) as sandbox:
        auth = (sandbox.client_id, sandbox.client_secret)
        granted = _token_request(sandbox, auth, scope=f"{CORE} {DEMOGRAPHICS}").json()["scope"]
        everything = _token_request(sandbox, auth).json()["scope"]
        nothing = _token_request(sandbox, auth, scope=DEMOGRAPHICS)

    assert granted == CORE
    assert set(everything.split()) == {CORE, ROSTER}
    assert nothing.status_code == 400
    assert nothing.json()["error"] == "invalid_scope"


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic Zm9vOmJhcg=="}],
    ids=["missing", "unknown-token", "wrong-scheme"],
)
def test_api_calls_without_a_valid_token_are_unauthorised(sandbox, headers):
    response = HTTP.get(f"{sandbox.base_url}/users", headers=headers)

    assert response.status_code == 401
    assert minor_code(response) == "unauthorisedrequest"
    assert response.json()["imsx_codeMajor"] == "failure"
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_a_token_past_its_ttl_is_refused(sandbox_district):
    with (
        SandboxServer(sandbox_district, SandboxConfig(token_ttl_seconds=0)) as sandbox,
        api_client(sandbox, fetch_token(sandbox)) as client,
    ):
        response = client.get("/users")

    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


@pytest.mark.parametrize(
    ("scopes", "path", "status"),
    [
        ((CORE,), "/users", 200),
        ((ROSTER,), "/enrollments", 200),
        ((CORE,), "/demographics", 403),
        ((DEMOGRAPHICS,), "/users", 403),
        ((DEMOGRAPHICS,), "/demographics", 200),
        ((CORE, DEMOGRAPHICS), "/demographics", 200),
    ],
)
def test_each_collection_needs_its_scope(sandbox, scopes, path, status):
    with api_client(sandbox, fetch_token(sandbox, scopes)) as client:
        response = client.get(path)

    assert response.status_code == status
    if status == 403:
        assert minor_code(response) == "forbidden"


def test_demographics_are_forbidden_when_the_district_withheld_the_scope(sandbox_district):
    config = SandboxConfig(allowed_scopes=(CORE, ROSTER))
    with (
        SandboxServer(sandbox_district, config) as sandbox,
        api_client(sandbox, fetch_token(sandbox)) as client,
    ):
        users, demographics = client.get("/users"), client.get("/demographics")

    assert users.status_code == 200
    assert demographics.status_code == 403
    assert minor_code(demographics) == "forbidden"
