"""The token endpoint and bearer tokens over real HTTP on loopback: the O1-O13 cases of the
OAuth/API matrix (../shared/docs/reference/lti_security.md §4.2) and the token side of C2."""

from __future__ import annotations

import base64
import hmac
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from sg_pipelines.settings import Settings
from sg_pipelines.web.api.credentials import DEVELOPMENT_SECRET_KEY, secret_matches
from sg_pipelines.web.exports.admin import disable_export, enable_export, rotate_secret
from sg_pipelines_tests.web.api_support import (
    Account,
    accept,
    api_settings,
    app_factory,
    make_account,
    publish_district,
    serve,
    token_for,
)

GE = "/api/v1/stateReporting/ge"


@dataclass
class Served:
    url: str
    settings: Settings
    client: httpx.Client
    ge_only: Account
    everything: Account
    home: Path
    app_database_url: str


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    home = tmp_path_factory.mktemp("api-oauth")
    built = publish_district(home)
    build = app_factory(home, built.app_database_url, failed_auth_limit_per_address=10_000)
    with serve(build) as url, httpx.Client(base_url=url) as client:
        settings = api_settings(home, url, built.app_database_url)
        ge_only = make_account(settings, client, "ge only", ["ge"])
        everything = make_account(
            settings, client, "everything", ["ge", "fd", "fe", "gq", "ohioPreId"]
        )
        yield Served(url, settings, client, ge_only, everything, home, built.app_database_url)


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def post_token(served: Served, *, auth: str | None = None, **form: str) -> httpx.Response:
    headers = {"Authorization": auth} if auth else {}
    return served.client.post("/oauth/token", data=form, headers=headers)


# O1-O6: the token endpoint


def test_o1_a_wrong_secret_by_basic_is_invalid_client_with_a_basic_challenge(served):
    response = post_token(
        served, auth=basic(served.ge_only.client_id, "sgs_wrong"), grant_type="client_credentials"
    )

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response.headers["www-authenticate"].startswith("Basic realm=")
    assert "correlation_id" in response.json()


def test_o1_a_wrong_secret_in_the_body_is_invalid_client(served):
    response = post_token(
        served,
        grant_type="client_credentials",
        client_id=served.ge_only.client_id,
        client_secret="sgs_wrong",
    )

    assert (response.status_code, response.json()["error"]) == (401, "invalid_client")


@pytest.mark.parametrize(
    "credentials",
    [{"client_id": "own"}, {"client_id": "own", "client_secret": ""}, {"client_secret": "x"}],
    ids=["id alone", "empty secret", "secret alone"],
)
def test_a_half_of_the_body_credentials_is_no_client_authentication(served, credentials):
    if credentials.get("client_id") == "own":
        credentials = {**credentials, "client_id": served.ge_only.client_id}

    response = post_token(served, grant_type="client_credentials", **credentials)

    assert (response.status_code, response.json()["error"]) == (401, "invalid_client")


def test_an_empty_authorization_header_is_no_second_method(served):
    account = served.ge_only
    response = served.client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": account.client_id,
            "client_secret": account.secret,
        },
        headers={"Authorization": ""},
    )

    assert response.status_code == 200


def test_the_form_body_method_works_too(served):
    response = post_token(
        served,
        grant_type="client_credentials",
        client_id=served.ge_only.client_id,
        client_secret=served.ge_only.secret,
    )

    assert response.status_code == 200
    assert response.json()["scope"] == "emis:ge"


def test_o2_credentials_in_both_header_and_body_are_invalid_request(served):
    account = served.ge_only
    response = post_token(
        served,
        auth=account.basic,
        grant_type="client_credentials",
        client_id=account.client_id,
        client_secret=account.secret,
    )

    assert (response.status_code, response.json()["error"]) == (400, "invalid_request")


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"grant_type": "password", "username": "a", "password": "b"}, "unsupported_grant_type"),
        ({"grant_type": "authorization_code", "code": "x"}, "unsupported_grant_type"),
        ({}, "invalid_request"),
        ({"grant_type": ""}, "invalid_request"),
    ],
)
def test_o3_other_or_missing_grant_types_are_refused(served, form, error):
    response = post_token(served, auth=served.ge_only.basic, **form)

    assert (response.status_code, response.json()["error"]) == (400, error)


def test_a_repeated_parameter_is_invalid_request(served):
    response = served.client.post(
        "/oauth/token",
        content="grant_type=client_credentials&grant_type=client_credentials",
        headers={
            "Authorization": served.ge_only.basic,
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )

    assert (response.status_code, response.json()["error"]) == (400, "invalid_request")


@pytest.mark.parametrize("scope", ["emis:fd", "emis:ge emis:fd", "admin", "emis:nothing"])
def test_o4_a_scope_beyond_the_grant_is_invalid_scope(served, scope):
    response = post_token(
        served, auth=served.ge_only.basic, grant_type="client_credentials", scope=scope
    )

    assert (response.status_code, response.json()["error"]) == (400, "invalid_scope")


def test_a_narrower_scope_is_granted_as_asked(served):
    response = post_token(
        served, auth=served.everything.basic, grant_type="client_credentials", scope="emis:fd"
    )

    assert response.json()["scope"] == "emis:fd"


def test_o5_get_on_the_token_endpoint_is_405(served):
    assert served.client.get("/oauth/token").status_code == 405


def test_o5_plain_http_to_a_non_loopback_host_is_refused(served):
    response = post_token(
        served,
        auth=served.ge_only.basic,
        grant_type="client_credentials",
    )
    assert response.status_code == 200
    refused = served.client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": served.ge_only.basic, "Host": "reports.district.example"},
    )
    assert (refused.status_code, refused.json()["error"]) == (400, "invalid_request")


def test_a_token_request_that_is_not_a_form_is_invalid_request(served):
    response = served.client.post(
        "/oauth/token",
        json={"grant_type": "client_credentials"},
        headers={"Authorization": served.ge_only.basic},
    )

    assert (response.status_code, response.json()["error"]) == (400, "invalid_request")


def test_o6_a_token_response_is_not_cached_and_has_no_refresh_token(served):
    response = post_token(served, auth=served.ge_only.basic, grant_type="client_credentials")

    body = response.json()
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"
    assert "refresh_token" not in body
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == served.settings.api.token_ttl_seconds <= 3600


# O7-O10: bearer tokens


def test_o7_a_call_without_a_token_is_401_with_a_bare_bearer_challenge(served):
    response = served.client.get(GE)

    assert response.status_code == 401
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith('Bearer realm="sg-pipelines"')
    assert "error=" not in challenge


@pytest.mark.parametrize(
    "token",
    ["not-a-token", "a" * 43, "tampered!token", "x" * 600],
    ids=["short", "guess", "chars", "long"],
)
def test_o8_an_unknown_or_malformed_token_is_invalid_token(served, token):
    response = served.client.get(GE, headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


def test_o8_a_tampered_token_is_invalid_token(served):
    token = token_for(served.client, served.ge_only)
    tampered = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")

    response = served.client.get(GE, headers={"Authorization": f"Bearer {tampered}"})

    assert response.status_code == 401


def test_o8_an_expired_token_is_invalid_token(tmp_path):
    home = tmp_path
    built = publish_district(home, students=40)
    now = [time.time()]

    def build(url: str):
        from sg_pipelines.web import create_app

        return create_app(api_settings(home, url, built.app_database_url), clock=lambda: now[0])

    with serve(build) as url, httpx.Client(base_url=url) as client:
        account = make_account(api_settings(home, url, built.app_database_url), client, "a", ["ge"])
        token = token_for(client, account)
        headers = {"Authorization": f"Bearer {token}"}
        assert client.get(GE, headers=headers).status_code == 200

        now[0] += 901
        response = client.get(GE, headers=headers)

    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


def test_o8_c2_a_disabled_account_loses_its_tokens_and_gets_no_new_one(served):
    account = make_account(served.settings, served.client, "soon disabled", ["ge"])
    token = token_for(served.client, account)
    headers = {"Authorization": f"Bearer {token}"}
    assert served.client.get(GE, headers=headers).status_code == 200

    disable_export(served.settings, account.name)
    refused_call = served.client.get(GE, headers=headers)
    refused_token = post_token(served, auth=account.basic, grant_type="client_credentials")
    enable_export(served.settings, account.name)

    assert refused_call.status_code == 401
    assert 'error="invalid_token"' in refused_call.headers["www-authenticate"]
    assert (refused_token.status_code, refused_token.json()["error"]) == (401, "invalid_client")
    assert (
        post_token(served, auth=account.basic, grant_type="client_credentials").status_code == 200
    )


def test_c2_an_account_whose_terms_are_not_accepted_gets_401_on_the_token_call(served):
    from sg_pipelines.web.exports.admin import add_export

    link = add_export(
        served.settings,
        name="not accepted",
        contact_first_name="Ann",
        contact_last_name="Oak",
        contact_email="ann@district.test",
        endpoints=["ge"],
        send=False,
    )
    response = post_token(
        served,
        grant_type="client_credentials",
        client_id=link.export.client_id,
        client_secret="sgs_anything",
    )

    assert (response.status_code, response.json()["error"]) == (401, "invalid_client")


def test_o9_a_token_without_the_endpoints_scope_is_403_insufficient_scope(served):
    token = token_for(served.client, served.ge_only)

    response = served.client.get(
        "/api/v1/stateReporting/fd", headers={"Authorization": f"Bearer {token}"}
    )

    assert response.status_code == 403
    challenge = response.headers["www-authenticate"]
    assert 'error="insufficient_scope"' in challenge
    assert 'scope="emis:fd"' in challenge


def test_o9_a_token_narrowed_by_scope_reaches_only_that_scope(served):
    token = token_for(served.client, served.everything, scope="emis:fd")
    headers = {"Authorization": f"Bearer {token}"}

    assert served.client.get("/api/v1/stateReporting/fd", headers=headers).status_code == 200
    assert served.client.get(GE, headers=headers).status_code == 403


def test_o10_a_token_in_the_query_string_is_refused(served):
    token = token_for(served.client, served.ge_only)

    response = served.client.get(GE, params={"access_token": token})

    assert response.status_code == 400
    assert 'error="invalid_request"' in response.headers["www-authenticate"]


# O11: brute force


def test_o11_brute_force_is_throttled_and_alerted_but_the_real_client_still_gets_tokens(
    tmp_path,
):
    from sg_pipelines_tests.smtp_server import LoopbackSmtpServer

    built = publish_district(tmp_path, students=40)
    with LoopbackSmtpServer() as smtp:

        def build(url: str):
            from sg_pipelines.web import create_app

            settings = api_settings(
                tmp_path,
                url,
                built.app_database_url,
                failed_auth_limit_per_client=5,
                failed_auth_limit_per_address=8,
            )
            settings.smtp = smtp.settings()
            settings.alerts.auth_failure_burst = 5
            return create_app(settings)

        with serve(build) as url, httpx.Client(base_url=url) as client:
            account = make_account(
                api_settings(tmp_path, url, built.app_database_url), client, "campus", ["ge"]
            )
            wrong = basic(account.client_id, "sgs_guess")
            statuses = [
                client.post(
                    "/oauth/token",
                    data={"grant_type": "client_credentials"},
                    headers={"Authorization": wrong},
                ).status_code
                for _ in range(30)
            ]
            throttled = client.post(
                "/oauth/token",
                data={"grant_type": "client_credentials"},
                headers={"Authorization": wrong},
            )
            legitimate = client.post(
                "/oauth/token",
                data={"grant_type": "client_credentials"},
                headers={"Authorization": account.basic},
            )
            [alert] = smtp.wait_for(1)

    assert statuses[:4] == [401] * 4
    assert set(statuses[5:]) == {429}
    assert int(throttled.headers["retry-after"]) >= 1
    assert throttled.json()["error"] == "invalid_client"
    assert legitimate.status_code == 200
    body = alert.get_content()
    assert "campus" in alert["Subject"]
    assert account.secret not in body and "sgs_guess" not in body
    assert account.client_id not in body


# O12, O13: secrets at rest and their comparison


@pytest.mark.parametrize("stored_known", [True, False])
def test_o12_every_candidate_is_compared_in_constant_time_on_full_digests(
    monkeypatch, stored_known
):
    """A near miss, a far miss and an unknown client all take the one constant-time compare.

    Timing the comparison itself would measure the machine's other work; what must hold is that
    no path compares secrets with `==` or stops early, so that is what this pins.
    """
    from sg_pipelines.web.api import credentials

    key = DEVELOPMENT_SECRET_KEY.encode()
    secret = "sgs_" + "k" * 43
    stored = hmac.new(key, secret.encode(), "sha256").hexdigest() if stored_known else None
    compared: list[tuple[int, int]] = []
    real_compare = hmac.compare_digest

    def spy(a, b):
        compared.append((len(a), len(b)))
        return real_compare(a, b)

    monkeypatch.setattr(credentials.hmac, "compare_digest", spy)
    for candidate in (secret[:-1] + "j", "sgs_" + "z" * 43, "x"):
        assert not secret_matches(key, candidate, stored)

    assert compared == [(64, 64)] * 3
    assert secret_matches(key, secret, stored) is stored_known


def test_o13_the_database_holds_no_usable_secret_or_token(served):
    token = token_for(served.client, served.ge_only)
    path = served.app_database_url.removeprefix("sqlite:///")

    with sqlite3.connect(path) as conn:
        dump = "\n".join(conn.iterdump())

    assert served.ge_only.secret not in dump
    assert served.ge_only.secret.removeprefix("sgs_") not in dump
    assert token not in dump
    assert served.ge_only.client_id in dump


def test_a_rotated_secret_replaces_the_old_one_once_the_contact_opens_the_link(served):
    account = make_account(served.settings, served.client, "rotating", ["ge"])
    link = rotate_secret(served.settings, account.name, send=False)
    assert (
        post_token(served, auth=account.basic, grant_type="client_credentials").status_code == 200
    )

    client_id, secret = accept(served.client, link.url)
    old = post_token(served, auth=account.basic, grant_type="client_credentials")
    new = post_token(served, auth=basic(client_id, secret), grant_type="client_credentials")

    assert client_id == account.client_id and secret != account.secret
    assert (old.status_code, new.status_code) == (401, 200)


def test_rotating_with_revoke_now_stops_the_old_secret_and_its_tokens_at_once(served):
    account = make_account(served.settings, served.client, "leaked", ["ge"])
    token = token_for(served.client, account)

    rotate_secret(served.settings, account.name, revoke_now=True, send=False)

    assert (
        post_token(served, auth=account.basic, grant_type="client_credentials").status_code == 401
    )
    assert served.client.get(GE, headers={"Authorization": f"Bearer {token}"}).status_code == 401


# malformed requests of every kind: the RFC's error, never a 500 or a traceback


def assert_json_error(response: httpx.Response, status: int, error: str) -> None:
    assert response.status_code == status
    body = response.json()
    assert (body["error"], body["correlation_id"]) == (error, response.headers["x-correlation-id"])
    assert "Traceback" not in response.text


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "bEaReR"])
def test_o7_the_bearer_scheme_is_matched_without_regard_to_case(served, scheme):
    token = token_for(served.client, served.ge_only)

    response = served.client.get(GE, headers={"Authorization": f"{scheme} {token}"})

    assert response.status_code == 200


@pytest.mark.parametrize(
    ("header", "status", "error"),
    [
        (b"Bearer", 401, "invalid_token"),
        (b"Bearer a b", 401, "invalid_token"),
        (b"Bearer " + b"a" * 20_000, 401, "invalid_token"),
        (b"Bearer \xff\xfe\xfd", 401, "invalid_token"),
        (b'Bearer tok"en', 401, "invalid_token"),
        (b"Token abc", 401, "unauthorized"),
        (b"Basic " + base64.b64encode(b"id:secret"), 401, "unauthorized"),
        (b"", 401, "unauthorized"),
    ],
    ids=[
        "no-token",
        "two-tokens",
        "very-long",
        "not-utf8",
        "quote",
        "other-scheme",
        "basic",
        "empty",
    ],
)
def test_o8_a_malformed_authorization_header_on_the_api_is_401(served, header, status, error):
    response = served.client.get(GE, headers=[(b"Authorization", header)])

    assert_json_error(response, status, error)
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith('Bearer realm="sg-pipelines"')
    assert ("error=" in challenge) == (error == "invalid_token")


@pytest.mark.parametrize(
    ("header", "status", "error"),
    [
        (b"Basic", 400, "invalid_request"),
        (b"Basic !!!not-base64", 400, "invalid_request"),
        (b"Basic " + base64.b64encode(b"\xff\xfe:\xff"), 400, "invalid_request"),
        (b"Basic " + base64.b64encode(b"no-colon"), 400, "invalid_request"),
        (b"Basic " + base64.b64encode(b":sgs_secret"), 401, "invalid_client"),
        (b"Basic " + base64.b64encode(b"sgx_" + b"x" * 5000 + b":s"), 401, "invalid_client"),
        (b"Basic " + base64.b64encode(b"sgx_nobody:" + b"s" * 5000), 401, "invalid_client"),
        (b"Bearer sometoken", 401, "invalid_client"),
        (b"Digest username=x", 401, "invalid_client"),
    ],
    ids=[
        "no-credentials",
        "not-base64",
        "not-utf8",
        "no-colon",
        "empty-client-id",
        "long-client-id",
        "long-secret",
        "bearer-scheme",
        "digest-scheme",
    ],
)
def test_o1_malformed_client_authentication_is_refused_with_the_rfc_error(
    served, header, status, error
):
    response = served.client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers=[(b"Authorization", header)],
    )

    assert_json_error(response, status, error)
    if status == 401:
        assert response.headers["www-authenticate"].startswith("Basic realm=")


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b'{"grant_type": "client_credentials"}', "application/json"),
        (b"grant_type=client_credentials", None),
        (b"grant_type=client_credentials", "text/plain"),
        (b"grant_type=client_credentials&scope=\xff\xfe", "application/x-www-form-urlencoded"),
        (
            b"grant_type=client_credentials&pad=" + b"x" * 10_000,
            "application/x-www-form-urlencoded",
        ),
        (b"&".join(b"f%d=1" % n for n in range(40)), "application/x-www-form-urlencoded"),
    ],
    ids=["json", "no-content-type", "text", "not-utf8", "too-large", "too-many-fields"],
)
def test_o3_a_token_request_that_is_not_a_small_form_is_invalid_request(
    served, content, content_type
):
    headers = {"Authorization": served.ge_only.basic}
    if content_type:
        headers["Content-Type"] = content_type

    response = served.client.post("/oauth/token", content=content, headers=headers)

    assert_json_error(response, 400, "invalid_request")
    assert "access_token" not in response.text


@pytest.mark.parametrize(
    "form",
    [
        {"grant_type": "client_credentials", "client_id": "x", "client_secret": "y"},
        {"grant_type": "client_credentials", "client_id": "x"},
        {"grant_type": "client_credentials", "client_secret": "y"},
    ],
    ids=["both-in-body", "client-id-in-body", "secret-in-body"],
)
def test_o2_basic_together_with_any_body_credential_is_invalid_request(served, form):
    response = post_token(served, auth=served.ge_only.basic, **form)

    assert_json_error(response, 400, "invalid_request")
