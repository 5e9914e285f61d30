"""Keys: the platform key-set cache (L4-L6, fault B8, no cache poisoning) and the tool's own key
set at /.well-known/jwks.json with rotation."""

from __future__ import annotations

import time

import httpx
import pytest

from sg_pipelines.appdb.lti import LtiStore
from sg_pipelines.web.lti.platform_keys import KeySetUnavailable, PlatformKeySets, parse_key_set
from sg_pipelines.web.lti.registrations import rotate_key
from sg_pipelines_tests.web.lti_support import (
    JWKS_URL,
    Launcher,
    TestPlatform,
    lti_settings,
    make_district,
    register_platform,
    rsa_key,
    valid_claims,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def key_sets(platform: TestPlatform, clock: Clock, **settings) -> PlatformKeySets:
    return PlatformKeySets(lti_settings(**settings), platform.http(), clock)


# L4, L5: unknown kid, rotation


def test_l4_a_burst_of_unknown_kids_costs_at_most_one_refetch(clock):
    platform = TestPlatform()
    cache = key_sets(platform, clock, key_set_refetch_seconds=30)
    cache.candidates(JWKS_URL, "k1")
    clock.now += 31

    found = [cache.candidates(JWKS_URL, f"random-{n}") for n in range(50)]

    assert found == [[]] * 50
    assert platform.fetches == 2  # the first load and one refetch
    clock.now += 31
    cache.candidates(JWKS_URL, "random-again")
    assert platform.fetches == 3


def test_l5_a_key_added_by_rotation_is_found_after_one_refetch(clock):
    platform = TestPlatform()
    cache = key_sets(platform, clock)
    assert [key.kid for key in cache.candidates(JWKS_URL, "k1")] == ["k1"]

    platform.keys.insert(0, rsa_key("k2"))
    clock.now += 31

    assert [key.kid for key in cache.candidates(JWKS_URL, "k2")] == ["k2"]
    assert platform.fetches == 2


def test_a_cached_set_is_refreshed_after_its_lifetime(clock):
    platform = TestPlatform()
    cache = key_sets(platform, clock, key_set_cache_seconds=300)
    cache.candidates(JWKS_URL, "k1")
    cache.candidates(JWKS_URL, "k1")
    clock.now += 301
    cache.candidates(JWKS_URL, "k1")

    assert platform.fetches == 2


# L6: a failing key-set endpoint


@pytest.mark.parametrize("failure", ["500", "not-json", "hang"])
def test_l6_a_failing_key_set_fails_the_launch_closed(clock, failure):
    platform = TestPlatform(failure=failure)

    with pytest.raises(KeySetUnavailable):
        key_sets(platform, clock).candidates(JWKS_URL, "k1")


def test_l6_the_fetch_has_a_timeout_and_follows_no_redirect():
    cache = PlatformKeySets(lti_settings(key_set_timeout_seconds=2.5))

    assert cache._http.timeout.read == 2.5
    assert cache._http.follow_redirects is False


def test_a_failed_refetch_keeps_the_good_set(clock):
    platform = TestPlatform()
    cache = key_sets(platform, clock)
    cache.candidates(JWKS_URL, "k1")
    platform.failure = "not-json"
    clock.now += 60

    with pytest.raises(KeySetUnavailable):
        cache.candidates(JWKS_URL, "unknown")
    assert [key.kid for key in cache.candidates(JWKS_URL, "k1")] == ["k1"]


# no cache poisoning


def test_symmetric_private_and_encryption_keys_never_enter_the_cache():
    rsa = rsa_key("k1")
    document = {
        "keys": [
            {"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"},
            {**rsa.as_dict(private=False), "kid": "enc", "use": "enc"},
            {**rsa.as_dict(private=True), "kid": "private"},
            {"kty": "RSA", "kid": "broken", "n": "??", "e": "AQAB"},
            "not a key",
        ]
    }

    keys = parse_key_set(document)

    assert [key.kid for key in keys] == ["private"]
    assert not keys[0].is_private


@pytest.mark.parametrize("document", [[], {"keys": "x"}, {"nokeys": []}, "text"])
def test_a_key_set_without_a_keys_list_is_refused(document):
    with pytest.raises(KeySetUnavailable):
        parse_key_set(document)


# fault B8: no kid


def test_b8_by_default_a_token_without_a_kid_is_refused_even_with_one_key(clock):
    # the certification guide's known bad payload 1
    cache = key_sets(TestPlatform(), clock)

    assert cache.candidates(JWKS_URL, None) == []


def test_b8_when_switched_on_the_single_key_of_a_one_key_set_is_tried(clock):
    cache = key_sets(TestPlatform(), clock, single_key_without_kid=True)

    assert [key.kid for key in cache.candidates(JWKS_URL, None)] == ["k1"]


def test_b8_without_a_kid_a_two_key_set_is_refused_even_when_switched_on(clock):
    platform = TestPlatform(keys=[rsa_key("k1"), rsa_key("k0")])
    cache = key_sets(platform, clock, single_key_without_kid=True)

    assert cache.candidates(JWKS_URL, None) == []


def test_b8_a_launch_without_kid_through_the_tool(tmp_path):
    district = make_district(tmp_path)
    register_platform(district, lti_settings())
    # the platform dropped kid from the header and from its key set (openedx#527)
    platform = TestPlatform()
    platform.published = [rsa_key("k1")]

    # by default refused, as the certification guide's bad payload 1 expects
    tool = Launcher(district, platform, lti_settings())
    login = tool.login()
    token = tool.platform.sign(valid_claims(login.nonce), drop_kid=True)
    response = tool.post(token, login.state)
    assert response.status_code == 400
    assert "missing_kid" in response.text

    # a district that switched the fallback on launches with the only key
    fallback = lti_settings(single_key_without_kid=True)
    tool = Launcher(district, platform, fallback)
    login = tool.login()
    token = tool.platform.sign(valid_claims(login.nonce), drop_kid=True)
    assert tool.post(token, login.state).status_code == 303

    # but never with a key chosen among two
    tool.platform.keys.append(rsa_key("k0"))
    tool.platform.published = None
    tool.app.state.lti.key_sets = key_sets(tool.platform, Clock(), single_key_without_kid=True)
    login = tool.login()
    token = tool.platform.sign(valid_claims(login.nonce), drop_kid=True)
    response = tool.post(token, login.state)
    assert response.status_code == 400
    assert "missing_kid" in response.text


# the tool's own key set


def test_the_tool_publishes_its_public_key_with_kid_alg_and_use(tmp_path):
    district = make_district(tmp_path)
    tool = Launcher(district, TestPlatform(), lti_settings())

    response = tool.client.get("/.well-known/jwks.json")

    [key] = response.json()["keys"]
    assert set(key) == {"kty", "n", "e", "kid", "alg", "use"}
    assert (key["kty"], key["alg"], key["use"]) == ("RSA", "RS256", "sig")


def test_rotation_publishes_the_new_key_and_keeps_the_old_one_for_the_overlap(tmp_path):
    district = make_district(tmp_path)
    tool = Launcher(district, TestPlatform(), lti_settings())
    [old] = [key["kid"] for key in tool.client.get("/.well-known/jwks.json").json()["keys"]]

    new = rotate_key(district.url, lti_settings(tool_key_overlap_days=7))

    kids = [key["kid"] for key in tool.client.get("/.well-known/jwks.json").json()["keys"]]
    assert kids == [new, old]
    with LtiStore(district.url) as store:
        later = [kid for kid, _, _ in store.tool_keys(time.time() + 8 * 86_400)]
    assert later == [new]


def test_the_key_set_fetcher_uses_the_registered_url_only():
    requested = []

    def handler(request: httpx.Request) -> httpx.Response:
        requested.append(str(request.url))
        return httpx.Response(200, json=TestPlatform().key_set())

    cache = PlatformKeySets(lti_settings(), httpx.Client(transport=httpx.MockTransport(handler)))
    cache.candidates(JWKS_URL, "k1")

    assert requested == [JWKS_URL]
