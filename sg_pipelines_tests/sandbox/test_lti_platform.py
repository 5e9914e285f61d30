"""The sandbox's LTI 1.3 platform over real HTTP: the student page, the OIDC flow with the tool
on another loopback port, its signed id_token and key set, and its checks on the auth request."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from sg_pipelines_tests.web.lti_support import sandbox_and_tool


def form_of(page: str) -> tuple[str, dict[str, str]]:
    """The action and hidden fields of an auto-submitting form."""
    action = html.unescape(re.search(r'<form method="post" action="([^"]+)"', page).group(1))
    fields = {
        html.unescape(name): html.unescape(value)
        for name, value in re.findall(r'name="([^"]+)" value="([^"]*)"', page)
    }
    return action, fields


@pytest.fixture
def launch_setup(sandbox, tmp_path):
    with sandbox_and_tool(sandbox, tmp_path) as setup:
        yield setup


def walk_to_launch(client: httpx.Client, setup) -> tuple[str, dict[str, str], str]:
    """Click the flag and follow the flow to the platform's form post; returns it and the
    state cookie (set by hand: httpx keeps Secure cookies for https only, where a browser
    also trusts http://localhost)."""
    page = client.get(setup.student_page).text
    href = html.unescape(re.search(r'<a class="flag" href="([^"]+)"', page).group(1))
    action, login_fields = form_of(client.get(href).text)
    login = client.post(action, data=login_fields)
    assert login.status_code == 302
    cookie = login.headers["set-cookie"].split(";")[0]
    action, launch_fields = form_of(client.get(login.headers["location"]).text)
    return action, launch_fields, cookie


def test_the_student_page_lists_the_students_program_flags(sandbox, launch_setup):
    page = httpx.get(launch_setup.student_page)

    assert page.status_code == 200
    assert launch_setup.student_name in page.text
    assert ">Special Education</a>" in page.text


def test_clicking_a_flag_runs_the_oidc_flow_and_opens_the_plan(sandbox, launch_setup):
    with httpx.Client(base_url=sandbox.root_url) as client:
        action, fields, cookie = walk_to_launch(client, launch_setup)
        launched = client.post(action, data=fields, headers={"Cookie": cookie})
        view = client.get(launch_setup.tool_url + launched.headers["location"])

    assert launched.status_code == 303
    assert view.status_code == 200
    assert launch_setup.student_name in view.text
    assert "Write a five-sentence paragraph." in view.text


def test_the_platform_signs_with_a_kid_from_its_published_key_set(sandbox, launch_setup):
    with httpx.Client(base_url=sandbox.root_url) as client:
        _, fields, _ = walk_to_launch(client, launch_setup)
        keys = KeySet.import_key_set(client.get("/lti/platform/jwks.json").json())

    token = jwt.decode(fields["id_token"], keys, algorithms=["RS256"])
    custom = token.claims["https://purl.imsglobal.org/spec/lti/claim/custom"]
    assert token.header["kid"] == sandbox.lti.keys[0].kid
    assert token.claims["iss"] == sandbox.lti.issuer
    assert custom["program"] == "Special Education"
    assert re.fullmatch(r"[0-9a-f-]{36}", custom["student_sourced_id"])


def test_an_unknown_substitution_variable_is_sent_unsubstituted_and_refused(sandbox, launch_setup):
    sandbox.lti.custom_parameters["student_sourced_id"] = "$Person.sourcedId"
    with httpx.Client(base_url=sandbox.root_url) as client:
        action, fields, cookie = walk_to_launch(client, launch_setup)
        refused = client.post(action, data=fields, headers={"Cookie": cookie})

    assert refused.status_code == 400
    assert "not set up correctly" in refused.text


@pytest.mark.parametrize(
    "change",
    [{"response_type": "code"}, {"redirect_uri": "https://attacker.example/"}, {"nonce": ""}],
    ids=["response-type", "redirect-uri", "no-nonce"],
)
def test_the_platform_refuses_a_bad_authentication_request(sandbox, launch_setup, change):
    with httpx.Client(base_url=sandbox.root_url) as client:
        page = client.get(launch_setup.student_page).text
        href = html.unescape(re.search(r'<a class="flag" href="([^"]+)"', page).group(1))
        action, login_fields = form_of(client.get(href).text)
        location = client.post(action, data=login_fields).headers["location"]
        query = {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}

        response = client.get("/lti/platform/authorize", params={**query, **change})

    assert response.status_code == 400
    assert "id_token" not in response.text
