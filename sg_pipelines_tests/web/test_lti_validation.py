"""id_token validation: the 12 known bad payloads of the certification guide (§6.1.1), the valid
teacher and student launches (§6.1.2-6.1.3), and the token-level rows of the L1-L22 matrix."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest
from joserfc.jwk import ECKey

from sg_pipelines.appdb.lti import Deployment, Registration
from sg_pipelines.web.lti.platform_keys import PlatformKeySets
from sg_pipelines.web.lti.validation import LaunchRejected, validate_id_token
from sg_pipelines_tests.web.lti_support import (
    CLAIM,
    CLIENT_ID,
    DEPLOYMENT_ID,
    ISSUER,
    JWKS_URL,
    KNOWN_BAD_PAYLOADS,
    LIS,
    TOOL_URL,
    TestPlatform,
    lti_settings,
    rsa_key,
    valid_claims,
)

REGISTRATION = Registration(
    id=1,
    district="Sandbox City Schools",
    issuer=ISSUER,
    client_id=CLIENT_ID,
    auth_login_url=f"{ISSUER}/auth",
    key_set_url=JWKS_URL,
    launch_url=f"{TOOL_URL}/lti/launch",
    frame_origin=ISSUER,
    deployments=(Deployment(DEPLOYMENT_ID),),
)
NONCE = "n-0123456789"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(header: dict, claims: dict, signature: bytes = b"") -> str:
    return ".".join(
        (b64(json.dumps(header).encode()), b64(json.dumps(claims).encode()), b64(signature))
    )


@pytest.fixture
def platform() -> TestPlatform:
    # two keys, as a platform in the middle of a rotation publishes them
    return TestPlatform(keys=[rsa_key("k1"), rsa_key("k0")])


@pytest.fixture
def check(platform):
    """Validate a token against the registration; returns the claims or raises LaunchRejected."""
    settings = lti_settings()
    key_sets = PlatformKeySets(settings, platform.http())

    def run(token: str, now: float | None = None):
        return validate_id_token(token, REGISTRATION, key_sets, settings, now or time.time())

    return run


def reason(check, token: str) -> str:
    with pytest.raises(LaunchRejected) as caught:
        check(token)
    return caught.value.reason


# cert §6.1.1 Known Bad Payloads (the table is in lti_support; the launch tests use it too)


@pytest.mark.parametrize("case", KNOWN_BAD_PAYLOADS, ids=list(KNOWN_BAD_PAYLOADS))
def test_a_known_bad_payload_of_the_certification_guide_is_rejected(check, platform, case):
    options, changes, expected = KNOWN_BAD_PAYLOADS[case]
    token = platform.sign(valid_claims(NONCE, **changes), **options)

    assert reason(check, token) == expected


@pytest.mark.parametrize(
    "token",
    ["not-a-jwt", "a.b.c", "", "x" * 100],
    ids=["garbage", "three-garbage-parts", "empty", "long-garbage"],
)
def test_bad_payload_5_an_invalid_lti_message_that_is_no_jwt_is_rejected(check, token):
    assert reason(check, token) == "not_a_jwt"


def test_bad_payload_5_a_jwt_without_lti_claims_is_rejected(check, platform):
    assert reason(check, platform.sign({"name": "badltilaunch"})) == "wrong_issuer"


# cert §6.1.2 / §6.1.3 valid launches: accepted by the validator (who may see is decided later)


VALID_LAUNCHES = {
    "teacher full roles": {},
    "teacher short role": {CLAIM + "roles": ["Instructor"]},
    "teacher unknown role": {CLAIM + "roles": ["http://example.org/role#Wizard"]},
    "teacher no role": {CLAIM + "roles": []},
    "teacher email only": {"email": "t@example.org"},
    "teacher names only": {"given_name": "Pat", "family_name": "Lee", "name": "Pat Lee"},
    "teacher no pii": {},
    "teacher email without context": {"email": "t@example.org", CLAIM + "context": None},
    "student launch": {CLAIM + "roles": [f"{LIS}/membership#Learner"]},
    "aud as a one-element list": {"aud": [CLIENT_ID]},
    "no azp with a single audience": {"azp": None},
    "an unknown claim is ignored": {"https://example.org/claim/extra": {"x": 1}},
}


@pytest.mark.parametrize("changes", VALID_LAUNCHES.values(), ids=list(VALID_LAUNCHES))
def test_a_valid_launch_of_the_certification_guide_is_accepted(check, platform, changes):
    claims = check(platform.sign(valid_claims(NONCE, **changes)))

    assert claims.deployment.deployment_id == DEPLOYMENT_ID
    assert claims.nonce == NONCE


# L1-L3: algorithms and headers


def test_l1_alg_none_with_an_empty_signature_is_rejected(check):
    token = unsigned({"alg": "none", "kid": "k1"}, valid_claims(NONCE))

    assert reason(check, token) == "algorithm_not_allowed"


@pytest.mark.parametrize("form", ["pem", "der", "jwk"])
def test_l2_hs256_signed_with_the_platforms_public_key_is_rejected(check, platform, form):
    public = platform.keys[0]
    secret = {
        "pem": public.as_pem(private=False),
        "der": public.as_der(private=False),
        "jwk": json.dumps(public.as_dict(private=False)).encode(),
    }[form]
    # signed by hand: joserfc itself refuses to make an HMAC key of a public key
    signing_input = ".".join(
        (b64(b'{"alg":"HS256","kid":"k1"}'), b64(json.dumps(valid_claims(NONCE)).encode()))
    )
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    token = f"{signing_input}.{b64(signature)}"

    assert reason(check, token) == "algorithm_not_allowed"


def test_l2_an_rs256_header_over_an_ec_key_of_the_same_kid_does_not_verify(check, platform):
    attacker = ECKey.generate_key("P-256", parameters={"kid": "k1"})
    token = platform.sign(valid_claims(NONCE), key=attacker, header={"alg": "ES256"})

    assert reason(check, token) == "algorithm_does_not_fit_key"


@pytest.mark.parametrize("header", ["jwk", "jku", "x5u"])
def test_l3_a_header_pointing_at_an_attacker_key_is_ignored_and_the_token_rejected(
    check, platform, header
):
    attacker = rsa_key("attacker")
    value = {
        "jwk": {**attacker.as_dict(private=False), "kid": "k1"},
        "jku": "https://attacker.example/jwks.json",
        "x5u": "https://attacker.example/cert.pem",
    }[header]
    token = TestPlatform(keys=[attacker]).sign(
        valid_claims(NONCE), header={header: value, "kid": "k1"}
    )

    # joserfc already refuses an embedded jwk header when reading the token
    assert reason(check, token) in {"bad_signature", "not_a_jwt"}
    assert all(url == JWKS_URL for url in platform.requested)


def test_l21_a_crit_header_with_an_unknown_extension_is_rejected(check, platform):
    header = {"alg": "RS256", "kid": "k1", "crit": ["exp-ext"], "exp-ext": 1}
    token = unsigned(header, valid_claims(NONCE), b"signature")

    assert reason(check, token) == "critical_header"


def test_l21_an_oversized_token_is_rejected_before_it_is_parsed(check, platform):
    token = platform.sign(valid_claims(NONCE, padding="x" * 1_000_000))

    assert reason(check, token) == "token_too_large"


def test_l21_deeply_nested_json_is_rejected_without_an_error(check):
    nested = "[" * 5000 + "]" * 5000
    token = ".".join((b64(b'{"alg":"RS256","kid":"k1"}'), b64(nested.encode()), b64(b"sig")))

    assert reason(check, token) == "not_a_jwt"


def test_a_tampered_payload_fails_the_signature(check, platform):
    header, _, signature = platform.sign(valid_claims(NONCE)).split(".")
    forged = b64(json.dumps(valid_claims(NONCE, sub="someone-else")).encode())

    assert reason(check, f"{header}.{forged}.{signature}") == "bad_signature"


# L7-L9: issuer, audience, authorized party


@pytest.mark.parametrize("issuer", [ISSUER.upper(), ISSUER + "/", "https://campus.test.evil"])
def test_l7_an_issuer_that_does_not_match_exactly_is_rejected(check, platform, issuer):
    assert reason(check, platform.sign(valid_claims(NONCE, iss=issuer))) == "wrong_issuer"


@pytest.mark.parametrize(
    "audience",
    [None, "other-client", [CLIENT_ID, "untrusted-client"], [], ["other-client"]],
    ids=["missing", "other", "ours-and-untrusted", "empty-list", "other-in-list"],
)
def test_l8_an_audience_that_is_not_exactly_us_is_rejected(check, platform, audience):
    claims = valid_claims(NONCE, aud=audience)
    if audience is None:
        claims.pop("aud", None)

    assert reason(check, platform.sign(claims)) == "wrong_audience"


def test_l9_an_azp_other_than_our_client_id_is_rejected(check, platform):
    token = platform.sign(valid_claims(NONCE, azp="other-client"))

    assert reason(check, token) == "wrong_authorized_party"


# L10, L11 and fault B4: times


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"exp": -120}, "expired"),
        ({"iat": 90, "exp": 400}, "issued_in_future"),
        ({"iat": -900, "exp": 60}, "too_old"),
        ({"nbf": 120}, "not_yet_valid"),
    ],
    ids=["exp-past-beyond-leeway", "iat-future-beyond-leeway", "older-than-max-age", "nbf-future"],
)
def test_l10_times_outside_the_leeway_or_the_maximum_age_are_rejected(
    check, platform, changes, expected
):
    now = int(time.time())
    claims = valid_claims(NONCE, **{name: now + delta for name, delta in changes.items()})

    with pytest.raises(LaunchRejected) as caught:
        check(platform.sign(claims), now)

    assert (caught.value.reason, caught.value.kind) == (expected, "expired")
    assert caught.value.detail.endswith("s ago") or caught.value.detail.endswith("s ahead")


def test_b4_a_platform_clock_two_seconds_ahead_is_accepted(check, platform):
    now = int(time.time())
    token = platform.sign(valid_claims(NONCE, iat=now + 2, exp=now + 302))

    assert check(token, now).sub == "staff-7f3a"


def test_l11_an_exp_just_past_but_within_the_leeway_is_accepted(check, platform):
    now = int(time.time())
    token = platform.sign(valid_claims(NONCE, iat=now - 100, exp=now - 30))

    assert check(token, now).nonce == NONCE


@pytest.mark.parametrize("value", ["soon", None, True], ids=["text", "missing", "boolean"])
def test_exp_that_is_not_a_number_is_rejected(check, platform, value):
    assert reason(check, platform.sign(valid_claims(NONCE, exp=value))) == "missing_times"


@pytest.mark.parametrize(
    ("claim", "value", "expected"),
    [
        ("exp", "NaN", "not_a_jwt"),
        ("exp", "Infinity", "not_a_jwt"),
        ("exp", "1e999", "missing_times"),
        ("iat", "NaN", "not_a_jwt"),
        ("iat", "-Infinity", "not_a_jwt"),
        ("nbf", "NaN", "not_a_jwt"),
        ("nbf", "1e999", "missing_times"),
        ("nbf", '"tomorrow"', "missing_times"),
        ("nbf", "true", "missing_times"),
    ],
)
def test_a_time_that_is_not_a_finite_number_is_rejected(check, platform, claim, value, expected):
    # Python's JSON parser reads NaN, Infinity and 1e999 (as infinity); every comparison with
    # NaN is false and no time is past infinity, so such a token would never expire
    claims = valid_claims(NONCE, **{claim: 0})
    payload = json.dumps(claims).replace(f'"{claim}": 0', f'"{claim}": {value}')

    assert reason(check, platform.sign_text(payload)) == expected


# the LTI layer: L15-L17, nonce


def test_l15_an_unknown_deployment_is_rejected_as_a_deployment_problem(check, platform):
    with pytest.raises(LaunchRejected) as caught:
        check(platform.sign(valid_claims(NONCE, **{CLAIM + "deployment_id": "dep-2"})))

    assert (caught.value.reason, caught.value.kind) == ("unknown_deployment", "deployment")


@pytest.mark.parametrize(
    "target",
    ["https://attacker.example/lti/launch", f"{TOOL_URL}/lti/launch?next=https://x", TOOL_URL],
)
def test_l16_a_target_link_uri_other_than_the_registered_launch_url_is_rejected(
    check, platform, target
):
    token = platform.sign(valid_claims(NONCE, **{CLAIM + "target_link_uri": target}))

    assert reason(check, token) == "wrong_target_link_uri"


@pytest.mark.parametrize("message_type", ["LtiDeepLinkingRequest", "LtiSubmissionReviewRequest"])
def test_l17_a_message_other_than_a_resource_link_launch_is_rejected(check, platform, message_type):
    token = platform.sign(valid_claims(NONCE, **{CLAIM + "message_type": message_type}))

    assert reason(check, token) == "wrong_message_type"


def test_a_token_without_a_nonce_is_rejected(check, platform):
    claims = valid_claims(NONCE)
    del claims["nonce"]

    assert reason(check, platform.sign(claims)) == "missing_nonce"
