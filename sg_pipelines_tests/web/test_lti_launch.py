"""The launch through the tool's HTTP endpoints: login initiation, state cookie, nonce, who may
see what, the plan view and its audit (L12-L22 of the matrix; faults B1, B2, B4, B6, B7)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
import sqlite3
import time
import uuid
from datetime import UTC, date, datetime

import httpx
import pytest

from sg_pipelines.appdb import AppDatabase
from sg_pipelines.appdb.lti import Deployment, LtiStore
from sg_pipelines.appdb.records import NewPlanDocument
from sg_pipelines.web.lti.tool import secret_hash
from sg_pipelines_tests.web.lti_support import (
    CLAIM,
    CLIENT_ID,
    DEPLOYMENT_ID,
    INACTIVE_GUID,
    ISSUER,
    JWKS_URL,
    KNOWN_BAD_PAYLOADS,
    LIS,
    NO_PLAN_GUID,
    OTHER_SCHOOL_GUID,
    STUDENT_GUID,
    TOOL_URL,
    UNKNOWN_GUID,
    Launcher,
    TestPlatform,
    lti_settings,
    make_district,
    new_guid,
    register_platform,
    rsa_key,
    valid_claims,
)


@pytest.fixture(scope="module")
def district(tmp_path_factory):
    district = make_district(tmp_path_factory.mktemp("lti-launch"))
    register_platform(district, lti_settings())
    return district


@pytest.fixture
def tool(district) -> Launcher:
    return Launcher(district, TestPlatform(), lti_settings())


def custom(student: str = STUDENT_GUID, program: str = "Special Education") -> dict:
    return {CLAIM + "custom": {"student_sourced_id": student, "program": program}}


def audit_for(district, sub: str):
    with LtiStore(district.url) as store:
        return [entry for entry in store.view_audit() if entry.user_sub == sub]


def view_tokens(district) -> int:
    """How many view tokens the tool has handed out: a refused launch must add none."""
    with sqlite3.connect(district.url.removeprefix("sqlite:///")) as conn:
        return conn.execute("SELECT count(*) FROM lti_view_tokens").fetchone()[0]


def reference(response) -> str:
    """The reason code the page shows the integration contact."""
    found = re.search(r"integration contact: ([a-z_]+)", response.text)
    return found[1] if found else ""


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# the happy path


def test_a_teacher_launch_lands_on_the_students_latest_completed_plan(tool, district):
    launch = tool.launch(sub="staff-happy")
    view = tool.follow(launch)

    assert view.status_code == 200
    assert "Individualized Education Program (annual review)" in view.text
    assert "Rowan Abernathy" in view.text
    assert "Reads at a second-grade level" in view.text
    assert "Read 90 words per minute." in view.text
    assert "extended time" in view.text
    assert "October 1, 2025" in view.text
    assert "DRAFT TEXT" not in view.text


def view_after_adding(tmp_path, **document) -> httpx.Response:
    """The plan view of a fresh district's student once one more completed document is added."""
    district = make_district(tmp_path)
    register_platform(district, lti_settings())
    with AppDatabase(district.url) as database:
        document = {"program": "special_education", **document}
        if document.pop("amends_the_plan", False):
            document["amends_document_id"] = district.document_id
        database.documents.add(
            NewPlanDocument(student_id=district.student_id, status="completed", **document),
            actor="test",
        )
    tool = Launcher(district, TestPlatform(), lti_settings())
    return tool.follow(tool.launch())


@pytest.mark.parametrize("newer_type", ["sped_exit", "etr_reevaluation", "sped_revocation"])
def test_a_newer_document_that_is_not_a_plan_never_hides_the_plan(tmp_path, newer_type):
    view = view_after_adding(
        tmp_path,
        document_type=newer_type,
        completed_at=datetime(2026, 3, 1, 15, tzinfo=UTC),
        meeting_date=date(2026, 3, 1),
        effective_start=date(2026, 3, 1),
        sections={"present_levels": "NOT A PLAN"},
    )

    assert view.status_code == 200
    assert "Individualized Education Program (annual review)" in view.text
    assert "NOT A PLAN" not in view.text


def test_the_completion_day_is_the_districts_not_utcs(tmp_path):
    view = view_after_adding(
        tmp_path,
        document_type="iep_amendment",
        amends_the_plan=True,
        completed_at=datetime(2026, 3, 3, 1, 30, tzinfo=UTC),  # 20:30 on 2 March in New York
        meeting_date=date(2026, 3, 2),
        effective_start=date(2026, 3, 2),
        sections={"present_levels": "Amended present levels."},
    )

    assert "Amended present levels." in view.text
    completed = re.search(r"Completed</dt>\s*<dd>([^<]+)</dd>", view.text)
    assert completed is not None, view.text
    assert completed.group(1).strip() == "March 2, 2026"


def test_the_view_url_carries_an_opaque_token_never_a_student_id(tool, district):
    location = tool.launch().headers["location"]

    assert re.fullmatch(r"/view/[A-Za-z0-9_-]{43}", location)
    assert STUDENT_GUID not in location


def test_the_view_is_no_store_and_framed_only_by_the_registered_campus_origin(tool):
    view = tool.follow(tool.launch())

    assert view.headers["cache-control"] == "no-store"
    assert view.headers["referrer-policy"] == "no-referrer"
    policy = view.headers["content-security-policy"]
    assert f"frame-ancestors {ISSUER}" in policy
    assert "default-src 'none'" in policy
    assert "script-src" not in policy  # no script may run at all


def test_every_view_is_audited_with_who_which_student_program_and_result(tool, district):
    view = tool.follow(tool.launch(sub="staff-audit"))
    tool.client.get(view.url.path)

    entries = audit_for(district, "staff-audit")
    assert [(e.student_id, e.program, e.result) for e in entries] == [
        (district.student_id, "special_education", "shown"),
        (district.student_id, "special_education", "shown"),
    ]
    assert entries[0].document_id == district.document_id
    assert entries[0].deployment_id == DEPLOYMENT_ID


def test_a_student_without_a_completed_plan_gets_a_page_saying_so(tool, district):
    view = tool.follow(tool.launch(sub="staff-noplan", **custom(NO_PLAN_GUID)))

    assert view.status_code == 200
    assert "has no completed Special Education plan" in view.text
    assert [e.result for e in audit_for(district, "staff-noplan")] == ["no_plan"]


def test_the_program_may_be_named_by_its_key_and_the_student_guid_in_capitals(tool):
    launch = tool.launch(**custom(STUDENT_GUID.upper(), "special_education"))

    assert "Rowan Abernathy" in tool.follow(launch).text


def test_an_expired_view_token_asks_for_a_relaunch(tool, district):
    location = tool.launch().headers["location"]
    tool.app.state.lti.clock = lambda: time.time() + 3600

    view = tool.client.get(location)

    assert view.status_code == 410
    assert "This view has expired" in view.text
    assert tool.client.get("/view/made-up-token").status_code == 410


def test_login_works_by_post_as_well_as_get(tool):
    login = tool.login("POST")
    view = tool.follow(tool.post(tool.platform.sign(valid_claims(login.nonce)), login.state))

    assert "Rowan Abernathy" in view.text


def test_the_auth_redirect_carries_the_oidc_parameters_and_echoes_the_hints(tool):
    login = tool.login()
    location = login.response.headers["location"]

    assert login.response.status_code == 302
    assert location.startswith(f"{ISSUER}/campus/oidc/authorize?")
    for part in (
        "scope=openid",
        "response_type=id_token",
        "response_mode=form_post",
        "prompt=none",
        f"client_id={CLIENT_ID}",
        "login_hint=opaque-hint",
        "lti_message_hint=msg-1",
        "redirect_uri=https%3A%2F%2Ftool.test%2Flti%2Flaunch",
    ):
        assert part in location
    assert login.state and login.nonce and login.state != login.nonce


# fault B2 and L14: the state cookie


def test_b2_the_state_cookie_is_samesite_none_secure_httponly_and_short_lived(tool):
    [cookie] = tool.login().response.headers.get_list("set-cookie")

    attributes = [part.strip() for part in cookie.split(";")]
    assert {"SameSite=None", "Secure", "HttpOnly"} <= set(attributes)
    [max_age] = [int(a.split("=")[1]) for a in attributes if a.startswith("Max-Age=")]
    assert 0 < max_age <= 600


@pytest.mark.parametrize("ttl", [30, 300, 600])
def test_b2_the_state_cookie_lives_as_long_as_the_state_and_only_under_lti(district, ttl):
    tool = Launcher(district, TestPlatform(), lti_settings(state_ttl_seconds=ttl))
    [cookie] = tool.login().response.headers.get_list("set-cookie")

    attributes = [part.strip() for part in cookie.split(";")]
    assert f"Max-Age={ttl}" in attributes
    assert "Path=/lti/" in attributes
    assert not [a for a in attributes if a.lower().startswith(("domain=", "expires="))]


@pytest.mark.parametrize("outcome", ["accepted", "refused"])
def test_b2_each_launch_has_its_own_cookie_and_the_launch_expires_it(tool, outcome):
    first, second = tool.login(), tool.login()
    claims = valid_claims(second.nonce, **({} if outcome == "accepted" else {"exp": 1}))

    response = tool.post(tool.platform.sign(claims), second.state)

    assert first.cookie_name != second.cookie_name
    [expired] = response.headers.get_list("set-cookie")
    assert expired.startswith(f"{second.cookie_name}=;") and "Max-Age=0" in expired
    assert "Path=/lti/" in expired
    assert first.cookie_name in tool.client.cookies  # the other tab keeps its own


def test_two_tabs_launching_at_once_each_keep_their_own_state(tool):
    first, second = tool.login(), tool.login()

    assert first.cookie_name != second.cookie_name
    second_view = tool.follow(
        tool.post(tool.platform.sign(valid_claims(second.nonce)), second.state)
    )
    first_view = tool.follow(tool.post(tool.platform.sign(valid_claims(first.nonce)), first.state))
    assert "Rowan Abernathy" in first_view.text and "Rowan Abernathy" in second_view.text


def test_b1_a_launch_without_the_state_cookie_offers_a_new_window_not_a_500(tool):
    login = tool.login()
    response = tool.post(
        tool.platform.sign(valid_claims(login.nonce)), login.state, with_cookie=False
    )

    assert response.status_code == 400
    assert "Open the plan in a new window" in response.text
    assert 'target="_blank"' in response.text
    assert f"{TOOL_URL}/lti/login?iss=https%3A%2F%2Fcampus.test" in response.text
    assert "location" not in response.headers


def test_b1_the_state_is_still_checked_after_a_cookie_blocked_page(tool):
    login = tool.login()
    token = tool.platform.sign(valid_claims(login.nonce))
    tool.post(token, login.state, with_cookie=False)

    assert tool.follow(tool.post(token, login.state)).status_code == 200


def test_l14_a_state_cookie_for_another_state_is_rejected(tool):
    login = tool.login()
    tool.client.cookies.set(login.cookie_name, "not-the-state", domain="tool.test", path="/lti/")

    response = tool.post(tool.platform.sign(valid_claims(login.nonce)), login.state)

    assert response.status_code == 400
    assert "state_mismatch" in response.text


@pytest.mark.parametrize("state", ["", "never-issued"], ids=["missing", "unknown"])
def test_l14_a_missing_or_unknown_state_is_rejected_with_a_relaunch_page(tool, state):
    login = tool.login()
    response = tool.post(tool.platform.sign(valid_claims(login.nonce)), state)

    assert response.status_code in (400, 401)
    assert "click the student's program flag" in response.text


# fault B6, L12, L13: the nonce


def test_b6_a_second_post_of_the_same_id_token_is_refused_with_a_relaunch_page(tool):
    login = tool.login()
    token = tool.platform.sign(valid_claims(login.nonce))
    assert tool.post(token, login.state).status_code == 303

    replay = tool.post(token, login.state)

    assert replay.status_code == 400
    assert "This launch was already used" in replay.text


def test_l13_a_nonce_not_issued_by_the_tool_is_rejected(tool):
    login = tool.login()
    response = tool.post(tool.platform.sign(valid_claims("forged-nonce")), login.state)

    assert response.status_code == 400
    assert response.headers.get("location") is None


def test_l13_a_nonce_issued_to_another_launch_is_rejected(tool):
    first, second = tool.login(), tool.login()
    response = tool.post(tool.platform.sign(valid_claims(first.nonce)), second.state)

    assert response.status_code == 400
    # the first launch is still usable: a failed attempt does not burn it
    assert tool.post(tool.platform.sign(valid_claims(first.nonce)), first.state).status_code == 303


@pytest.mark.parametrize(
    ("replay", "status", "code"),
    [
        ("same-tab", 400, "state_used"),
        ("after-a-restart", 400, "state_used"),
        ("with-another-tabs-state", 400, "nonce_not_issued_or_used"),
        ("after-the-state-was-swept", 401, "unknown_state"),
    ],
)
def test_b6_a_used_id_token_is_refused_however_it_is_replayed(tmp_path, replay, status, code):
    district = make_district(tmp_path)
    register_platform(district, lti_settings())
    tool = Launcher(district, TestPlatform(), lti_settings())
    login = tool.login()
    token = tool.platform.sign(valid_claims(login.nonce))
    assert tool.post(token, login.state).status_code == 303
    if replay == "after-the-state-was-swept":
        with LtiStore(district.url) as store:
            store.sweep(time.time() + 3600, keep_used_states_seconds=600)

    other_tab = tool.login()
    poster = tool
    if replay == "after-a-restart":
        # a new app process on the same app database: the nonce store is not in memory
        poster = Launcher(district, tool.platform, lti_settings())
    state = other_tab.state if replay == "with-another-tabs-state" else login.state
    before = view_tokens(district)
    response = poster.post(token, state)

    assert (response.status_code, reference(response)) == (status, code)
    assert "location" not in response.headers
    assert view_tokens(district) == before
    with LtiStore(district.url) as store:
        # the attempt burns nothing: the other tab's state is still unused
        assert not store.launch_state(secret_hash(other_tab.state)).used


def test_nonces_live_server_side_with_an_expiry(tool, district):
    login = tool.login()

    with LtiStore(district.url) as store:
        state = store.launch_state(secret_hash(login.state))
    assert state is not None and state.expires_at > time.time()
    assert login.nonce not in tool.client.cookies.values()


# fault B4: clock skew


def test_b4_a_token_issued_two_seconds_ahead_is_accepted(tool):
    now = int(time.time())

    assert tool.launch(iat=now + 2, exp=now + 300).status_code == 303


def test_b4_an_expired_token_gets_the_relaunch_page_and_a_log_of_the_skew(tool, caplog):
    now = int(time.time())
    with caplog.at_level(logging.WARNING, logger="sg_pipelines.web.lti.routes"):
        response = tool.launch(iat=now - 400, exp=now - 120)

    assert response.status_code == 401
    assert "This launch has expired" in response.text
    assert re.search(r"exp was 12\d s ago", caplog.text)


@pytest.mark.parametrize(
    ("claim", "value", "code"),
    [
        ("exp", "NaN", "not_a_jwt"),
        ("exp", "Infinity", "not_a_jwt"),
        ("exp", "1e999", "missing_times"),
        ("iat", "NaN", "not_a_jwt"),
        ("nbf", '"tomorrow"', "missing_times"),
        ("nbf", "1e999", "missing_times"),
    ],
)
def test_b4_a_token_whose_times_are_not_finite_numbers_never_opens_a_plan(
    tool, district, claim, value, code
):
    login = tool.login()
    claims = valid_claims(login.nonce, **{claim: 0})
    payload = json.dumps(claims).replace(f'"{claim}": 0', f'"{claim}": {value}')
    before = view_tokens(district)

    response = tool.post(tool.platform.sign_text(payload), login.state)

    assert (response.status_code, reference(response)) == (400, code)
    assert view_tokens(district) == before


# fault B7, L15: deployments


def test_b7_an_unregistered_deployment_is_refused_with_403_and_logged(tool, caplog):
    with caplog.at_level(logging.WARNING, logger="sg_pipelines.web.lti.routes"):
        response = tool.launch(**{CLAIM + "deployment_id": "dep-2"})

    assert response.status_code == 403
    assert "deployment dep-2" in caplog.text and ISSUER in caplog.text


def test_l15_an_unregistered_deployment_at_login_is_refused(tool):
    assert tool.login(lti_deployment_id="dep-2").response.status_code == 403


def test_l15_a_deployment_that_differs_from_the_login_hint_is_refused(tool, district):
    with LtiStore(district.url) as store:
        [registration] = store.registrations_for(ISSUER, CLIENT_ID)
        store.add_deployment(registration.id, Deployment("district-extra"))
    response = tool.launch(**{CLAIM + "deployment_id": "district-extra"})

    assert response.status_code == 400
    assert "deployment_differs_from_login" in response.text


@pytest.mark.parametrize(
    ("client_id", "changes", "status", "code"),
    [
        (
            "school-2-viewer",
            {"aud": "school-2-viewer", "azp": "school-2-viewer"},
            403,
            "unknown_deployment",
        ),
        (CLIENT_ID, {CLAIM + "deployment_id": "school-2"}, 403, "unknown_deployment"),
        ("school-2-viewer", {}, 400, "wrong_audience"),
        (CLIENT_ID, {"iss": "https://other-campus.test"}, 400, "wrong_issuer"),
    ],
    ids=[
        "district-deployment-under-the-school-client",
        "school-deployment-under-the-district-client",
        "district-token-for-a-school-login",
        "right-deployment-from-another-issuer",
    ],
)
def test_b7_a_known_deployment_under_another_registration_is_refused(
    district, client_id, changes, status, code
):
    tool = Launcher(district, TestPlatform(), lti_settings())
    login = tool.login(client_id=client_id, lti_deployment_id=None)
    before = view_tokens(district)

    response = tool.post(tool.platform.sign(valid_claims(login.nonce, **changes)), login.state)

    assert (response.status_code, reference(response)) == (status, code)
    assert view_tokens(district) == before


@pytest.mark.parametrize(
    "issuer",
    ["https://campus.test\nlaunch accepted for every student", "x" * 2000, "https://é.test"],
    ids=["line-break", "long", "non-ascii"],
)
def test_b7_an_unknown_issuer_is_logged_without_its_raw_value(tool, caplog, issuer):
    with caplog.at_level(logging.WARNING, logger="sg_pipelines.web.lti.routes"):
        response = tool.login(iss=issuer).response

    assert response.status_code == 403
    assert issuer not in caplog.text
    assert all("\n" not in record.getMessage() for record in caplog.records)


# L16: no open redirect


@pytest.mark.parametrize(
    "target", ["https://attacker.example/", f"{TOOL_URL}/view/x", f"{TOOL_URL}/lti/launch?x=1"]
)
def test_l16_a_login_for_an_unregistered_target_link_uri_redirects_nowhere(tool, target):
    response = tool.login(target_link_uri=target).response

    assert response.status_code == 400
    assert "location" not in response.headers


def test_a_login_from_an_unknown_issuer_is_refused(tool):
    response = tool.login(iss="https://other-campus.test").response

    assert response.status_code == 403
    assert "location" not in response.headers


def test_a_login_without_a_login_hint_is_refused(tool):
    assert tool.login(login_hint=None).response.status_code == 400


# L18-L20: who may see what


@pytest.mark.parametrize(
    "student",
    ["$Person.sourcedId", "$User.id", "12345", "", f"{{{STUDENT_GUID}}}", None],
    ids=["person-variable", "user-variable", "number", "empty", "braced-guid", "missing"],
)
def test_l18_a_student_claim_that_is_not_a_guid_is_refused(tool, district, student):
    claims = custom(student)
    if student is None:
        del claims[CLAIM + "custom"]["student_sourced_id"]
    response = tool.launch(sub="staff-l18", **claims)

    assert response.status_code == 400
    assert "not set up correctly" in response.text
    assert STUDENT_GUID not in response.text


@pytest.mark.parametrize("program", ["$Flag.name", "Basket Weaving", ""])
def test_l18_an_unknown_or_unsubstituted_program_is_refused(tool, program):
    assert tool.launch(**custom(program=program)).status_code == 400


@pytest.mark.parametrize(
    "student", [UNKNOWN_GUID, INACTIVE_GUID], ids=["not-in-district", "left-the-district"]
)
def test_l19_a_student_the_district_does_not_own_gets_the_same_403(district, student):
    tool = Launcher(district, TestPlatform(), lti_settings())
    unknown = tool.launch(**custom(new_guid()))
    response = tool.launch(**custom(student))

    assert response.status_code == 403
    assert response.text == unknown.text  # the same page whether or not the student exists


def test_l19_a_school_deployment_may_open_a_student_of_its_building_only(district):
    # the school-2 registration covers building 000202 only
    tool = Launcher(district, TestPlatform(), lti_settings())
    login = tool.login(client_id="school-2-viewer", lti_deployment_id="school-2")
    claims = valid_claims(
        login.nonce,
        aud="school-2-viewer",
        azp="school-2-viewer",
        **{CLAIM + "deployment_id": "school-2"},
        **custom(OTHER_SCHOOL_GUID),
    )
    allowed = tool.post(tool.platform.sign(claims), login.state)

    login = tool.login(client_id="school-2-viewer", lti_deployment_id="school-2")
    claims.update(nonce=login.nonce, **custom(STUDENT_GUID))
    refused = tool.post(tool.platform.sign(claims), login.state)

    assert (allowed.status_code, refused.status_code) == (303, 403)


@pytest.mark.parametrize(
    "roles",
    [[], [f"{LIS}/membership#Learner"], [f"{LIS}/membership#Mentor"], ["http://x/role#Other"]],
    ids=["no-role", "learner", "mentor", "unknown-role"],
)
def test_l20_a_user_without_a_staff_role_gets_403_and_is_audited(tool, district, roles):
    sub = f"user-{uuid.uuid4().hex[:8]}"
    response = tool.launch(sub=sub, **{CLAIM + "roles": roles})

    assert response.status_code == 403
    assert "You cannot view this plan" in response.text
    assert [e.result for e in audit_for(district, sub)] == ["denied:not_staff"]


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ("student-left-the-district", "denied:student_not_in_district"),
        ("deployment-narrowed-to-another-building", "denied:student_outside_deployment"),
    ],
)
def test_l19_an_open_view_ends_when_the_deployment_no_longer_covers_the_student(
    tmp_path, change, code
):
    district = make_district(tmp_path)
    register_platform(district, lti_settings())
    tool = Launcher(district, TestPlatform(), lti_settings())
    view = tool.follow(tool.launch(sub="staff-reopen"))
    assert view.status_code == 200

    if change == "student-left-the-district":
        with AppDatabase(district.url) as database:
            database.set_active(district.student_id, False, actor="test")
    else:
        with LtiStore(district.url) as store:
            [registration] = store.registrations_for(ISSUER, CLIENT_ID)
            store.add_deployment(registration.id, Deployment(DEPLOYMENT_ID, ("000999",)))
    again = tool.client.get(view.url.path)

    assert again.status_code == 403
    assert "You cannot view this plan" in again.text
    assert "Rowan" not in again.text and "Reads at a second-grade level" not in again.text
    assert [e.result for e in audit_for(district, "staff-reopen")] == ["shown", code]


def test_a_short_instructor_role_counts_as_staff(tool):
    assert tool.launch(**{CLAIM + "roles": ["Instructor"]}).status_code == 303


def test_refusals_name_no_student_and_log_no_personal_data(tool, caplog):
    with caplog.at_level(logging.DEBUG):
        responses = [
            tool.launch(**custom(OTHER_SCHOOL_GUID), sub="staff-private"),
            tool.launch(**custom("$Person.sourcedId"), sub="staff-private"),
            tool.launch(exp=1, sub="staff-private"),
        ]

    for response in responses:
        assert "Uma" not in response.text and OTHER_SCHOOL_GUID not in response.text
    for secret in (OTHER_SCHOOL_GUID, "staff-private", "Special Education"):
        assert secret not in caplog.text


# cert §6.1.1 and L1-L6 through the launch endpoint: a page with the reason, never a view


@pytest.mark.parametrize("case", KNOWN_BAD_PAYLOADS, ids=list(KNOWN_BAD_PAYLOADS))
def test_a_known_bad_payload_posted_to_the_launch_gets_a_page_and_no_view(district, case):
    options, changes, code = KNOWN_BAD_PAYLOADS[case]
    # two published keys, so a token without kid has no single key to fall back on (fault B8)
    tool = Launcher(district, TestPlatform(keys=[rsa_key("k1"), rsa_key("k0")]), lti_settings())
    login = tool.login()
    before = view_tokens(district)

    token = tool.platform.sign(valid_claims(login.nonce, **changes), **options)
    response = tool.post(token, login.state)

    assert (response.status_code, reference(response)) == (401 if code == "expired" else 400, code)
    assert "location" not in response.headers
    assert response.headers["cache-control"] == "no-store"
    assert view_tokens(district) == before


@pytest.mark.parametrize(
    "token", ["not-a-jwt", "a.b.c", "jwt-without-lti-claims"], ids=["garbage", "parts", "no-lti"]
)
def test_bad_payload_5_an_invalid_lti_message_posted_to_the_launch_is_refused(tool, token):
    login = tool.login()
    if token == "jwt-without-lti-claims":
        token = tool.platform.sign({"name": "badltilaunch"})

    response = tool.post(token, login.state)

    assert response.status_code == 400
    assert reference(response) in {"not_a_jwt", "wrong_issuer"}


def forged(attack: str, platform: TestPlatform, nonce: str) -> str:
    """A launch token an attacker could make without the platform's private key."""
    claims = valid_claims(nonce)
    if attack == "alg-none":
        header = b64(json.dumps({"alg": "none", "kid": "k1"}).encode())
        return f"{header}.{b64(json.dumps(claims).encode())}."
    if attack.startswith("hs256-with-public-"):
        public = platform.keys[0]
        secret = {
            "pem": public.as_pem(private=False),
            "der": public.as_der(private=False),
            "jwk": json.dumps(public.as_dict(private=False)).encode(),
        }[attack.rsplit("-", 1)[1]]
        signing_input = ".".join(
            (b64(b'{"alg":"HS256","kid":"k1"}'), b64(json.dumps(claims).encode()))
        )
        signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        return f"{signing_input}.{b64(signature)}"
    attacker = rsa_key("attacker")
    header = {
        "jku": {"jku": "https://attacker.example/jwks.json"},
        "x5u": {"x5u": "https://attacker.example/cert.pem"},
        "embedded-jwk": {"jwk": {**attacker.as_dict(private=False), "kid": "k1"}},
    }[attack]
    return TestPlatform(keys=[attacker]).sign(claims, header={**header, "kid": "k1"})


@pytest.mark.parametrize(
    "attack",
    [
        "alg-none",
        "hs256-with-public-pem",
        "hs256-with-public-der",
        "hs256-with-public-jwk",
        "jku",
        "x5u",
        "embedded-jwk",
    ],
)
def test_l1_l3_a_forged_header_is_refused_and_only_the_registered_key_set_is_fetched(
    tool, district, attack
):
    login = tool.login()
    before = view_tokens(district)

    response = tool.post(forged(attack, tool.platform, login.nonce), login.state)

    assert response.status_code == 400
    assert reference(response) in {"algorithm_not_allowed", "bad_signature", "not_a_jwt"}
    assert view_tokens(district) == before
    assert set(tool.platform.requested) <= {JWKS_URL}


def test_l4_a_burst_of_launches_with_random_kids_costs_at_most_one_refetch(tool):
    responses = [tool.launch(header={"kid": f"random-{n}"}) for n in range(20)]

    assert {(r.status_code, reference(r)) for r in responses} == {(400, "unknown_kid")}
    assert tool.platform.fetches <= 2  # the first load and at most one refetch
    assert tool.launch().status_code == 303  # the real key still works


@pytest.mark.parametrize("failure", ["500", "not-json", "hang"])
def test_l6_a_failing_key_set_fails_the_launch_closed_with_a_page(district, failure):
    tool = Launcher(district, TestPlatform(failure=failure), lti_settings())

    response = tool.launch()

    assert (response.status_code, reference(response)) == (400, "key_set_unavailable")
    assert "location" not in response.headers


# L22: transport and content type


def test_l22_a_launch_posted_as_json_is_refused(tool):
    login = tool.login()
    response = tool.client.post(
        "/lti/launch",
        json={"id_token": tool.platform.sign(valid_claims(login.nonce)), "state": login.state},
    )

    assert response.status_code == 400
    assert "not_a_form_post" in response.text


def test_l22_a_launch_over_plain_http_is_refused(district):
    tool = Launcher(district, TestPlatform(), lti_settings())
    tool.client.base_url = "http://tool.test"

    assert tool.client.get("/lti/login", params={"iss": ISSUER}).status_code == 400
    response = tool.client.post("/lti/launch", data={"id_token": "x", "state": "y"})
    assert "insecure_transport" in response.text


def test_l21_an_oversized_launch_body_is_refused_without_an_error(tool):
    login = tool.login()
    response = tool.post("x" * 2_000_000, login.state)

    assert response.status_code == 400
    assert "launch_too_large" in response.text
