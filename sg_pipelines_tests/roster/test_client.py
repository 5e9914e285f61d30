"""Paging, retries and tokens against an in-process provider with faults."""

import json
import random
from datetime import UTC, datetime
from email.utils import format_datetime

import httpx
import pytest

from sg_pipelines.roster.collections import USERS
from sg_pipelines.roster.errors import (
    AuthError,
    EnvelopeError,
    ForbiddenError,
    ProviderError,
    RetriesExhausted,
)
from sg_pipelines.roster.parsing import PageParser
from sg_pipelines.roster.retry import Backoff, retry_after_seconds
from sg_pipelines.roster.token import DEFAULT_TTL_SECONDS, Token, TokenCache
from sg_pipelines_tests.roster.fake_provider import FakeProvider, user

USERS_5 = [user(f"stu-{n}") for n in range(5)]


def pull_ids(provider, **client_options):
    with provider.client(**client_options) as client:
        pull = client.pull("users", lambda body: PageParser(USERS)(b"".join(body)))
        ids = sorted(row[0] for page in pull for row in page.rows)
    return ids, pull


def fail_once(status, *, offset, headers=None):
    def fault(request, number):
        if int(request.url.params["offset"]) == offset and number == 1:
            return httpx.Response(status, headers=headers or {})
        return None

    return fault


def test_a_server_that_silently_caps_pages_still_yields_every_record():
    provider = FakeProvider({"users": USERS_5}, page_cap=2)

    ids, pull = pull_ids(provider, page_size=100)

    assert ids == [f"stu-{n}" for n in range(5)]
    assert sorted(offset for _, offset in provider.requests) == [0, 2, 4]
    assert pull.consistent is True


def test_a_short_page_inside_the_total_has_its_gap_fetched():
    provider = FakeProvider({"users": USERS_5})

    def short_second_page(request, number):
        if request.url.params["offset"] == "2" and number == 1:
            return httpx.Response(200, json={"users": USERS_5[2:3]}, headers={"X-Total-Count": "5"})
        return None

    provider.faults.append(short_second_page)

    ids, pull = pull_ids(provider, page_size=2)

    assert ids == [f"stu-{n}" for n in range(5)]
    assert (("users", 3) in provider.requests) and pull.consistent is True


def test_a_total_that_changes_mid_pull_marks_the_pull_inconsistent():
    provider = FakeProvider(
        {"users": USERS_5}, total_for=lambda name, offset, total: 5 if offset == 0 else 6
    )

    ids, pull = pull_ids(provider, page_size=2)

    assert len(ids) == 5
    assert pull.consistent is False


def test_without_a_total_paging_runs_until_an_empty_page():
    provider = FakeProvider({"users": USERS_5}, send_total=False, page_cap=2)

    ids, pull = pull_ids(provider, page_size=100)

    assert len(ids) == 5
    assert [offset for _, offset in provider.requests] == [0, 2, 4, 5]
    assert pull.total is None and pull.consistent is None


def test_an_empty_page_before_the_total_is_reached_is_inconsistent():
    provider = FakeProvider({"users": USERS_5[:2]}, total_for=lambda name, offset, total: 5)

    ids, pull = pull_ids(provider, page_size=2)

    assert len(ids) == 2
    assert pull.consistent is False


@pytest.mark.parametrize("body", [{}, {"errors": [{"message": "x"}]}, []])
def test_a_200_without_the_envelope_fails_the_pull(body):
    provider = FakeProvider()
    provider.faults.append(lambda request, number: httpx.Response(200, json=body))

    with pytest.raises(EnvelopeError):
        pull_ids(provider)


@pytest.mark.parametrize(
    ("status", "offset", "offsets"),
    [(429, 4, [0, 2, 4, 4]), (503, 2, [0, 2, 2, 4])],
)
def test_retry_after_seconds_retries_only_that_page_after_waiting(status, offset, offsets):
    provider = FakeProvider({"users": USERS_5})
    provider.faults.append(fail_once(status, offset=offset, headers={"Retry-After": "2"}))
    waits = []

    ids, _ = pull_ids(provider, page_size=2, sleep=waits.append, max_concurrency=1)

    assert len(ids) == 5
    assert [offset for _, offset in provider.requests] == offsets
    assert waits == [2.0]


def test_429_with_an_http_date_retry_after_waits_until_that_date():
    now = datetime(2025, 3, 4, 10, 0, 0, tzinfo=UTC)
    later = format_datetime(datetime(2025, 3, 4, 10, 0, 3, tzinfo=UTC), usegmt=True)
    provider = FakeProvider({"users": USERS_5})
    provider.faults.append(fail_once(429, offset=2, headers={"Retry-After": later}))
    waits = []

    ids, _ = pull_ids(provider, page_size=2, sleep=waits.append, wall_clock=lambda: now.timestamp())

    assert len(ids) == 5
    assert waits == [3.0]
    assert [offset for _, offset in provider.requests].count(2) == 2


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("2", 2.0),
        ("0", 0.0),
        (" 3 ", 3.0),
        ("1.5", 1.5),
        ("Tue, 04 Mar 2025 10:00:05 GMT", 5.0),
        ("Tue, 04 Mar 2025 09:59:00 GMT", 0.0),  # a date already past: retry now
        ("soon", None),
        ("", None),
        (None, None),
        ("-5", None),
        ("-0", None),
        ("+2", None),
        ("nan", None),
        ("inf", None),
        ("Infinity", None),
        ("1e3", None),
        ("0x10", None),
        ("\u0662", None),  # a digit, but not an ASCII one
    ],
)
def test_retry_after_is_read_as_seconds_or_http_date_never_as_a_multiplier(header, expected):
    now = datetime(2025, 3, 4, 10, 0, 0, tzinfo=UTC).timestamp()
    assert retry_after_seconds(header, now) == expected


@pytest.mark.parametrize(
    ("retry_after", "at_least", "at_most"),
    [(None, 0.25, 0.5), (0.0, 0.25, 0.5), (0.1, 0.25, 0.5), (2.0, 2.0, 2.0), (7.5, 7.5, 7.5)],
)
def test_retry_after_is_a_floor_under_our_own_backoff_never_a_factor(
    retry_after, at_least, at_most
):
    backoff = Backoff(max_retries=3, max_backoff_seconds=8, rng=random.Random(1))

    assert at_least <= backoff.delay(1, retry_after) <= at_most


@pytest.mark.parametrize("header", ["0", "-5", "nan", "garbage"])
def test_a_429_with_an_unusable_retry_after_still_backs_off(header):
    provider = FakeProvider({"users": USERS_5})
    provider.faults.append(fail_once(429, offset=2, headers={"Retry-After": header}))
    waits = []

    ids, _ = pull_ids(provider, page_size=2, sleep=waits.append, max_concurrency=1)

    assert len(ids) == 5
    assert [offset for _, offset in provider.requests] == [0, 2, 2, 4]
    assert len(waits) == 1 and waits[0] >= 0.25


def test_a_retry_after_longer_than_the_cap_fails_the_collection_without_waiting():
    provider = FakeProvider({"users": USERS_5})
    provider.faults.append(fail_once(429, offset=2, headers={"Retry-After": "86400"}))
    waits = []

    with pytest.raises(RetriesExhausted, match="asks to wait"):
        pull_ids(provider, page_size=2, sleep=waits.append, max_concurrency=1)
    assert waits == []


def test_backoff_grows_exponentially_with_jitter_up_to_the_cap():
    backoff = Backoff(max_retries=10, max_backoff_seconds=8, rng=random.Random(1))

    delays = [backoff.delay(retry) for retry in range(1, 10)]

    assert all(0.25 <= delay <= 8 for delay in delays)
    assert delays[-1] >= 4  # capped at 8, jittered within its upper half


def test_5xx_beyond_the_retry_budget_fails_the_collection():
    provider = FakeProvider({"users": USERS_5})
    provider.faults.append(lambda request, number: httpx.Response(503))

    with pytest.raises(RetriesExhausted, match="3 attempts"):
        pull_ids(provider, max_retries=2)
    assert len(provider.requests) == 3


def test_transport_errors_are_retried():
    provider = FakeProvider({"users": USERS_5})

    def timeout_once(request, number):
        if number == 1 and request.url.params["offset"] == "0":
            raise httpx.ReadTimeout("slow", request=request)
        return None

    provider.faults.append(timeout_once)

    ids, _ = pull_ids(provider)

    assert len(ids) == 5


class BreaksMidway(httpx.SyncByteStream):
    """A 200 body that sends its first chunk, then loses the connection."""

    def __iter__(self):
        yield b'{"users": [{"sourcedId": "half'
        raise httpx.RemoteProtocolError("peer closed connection without sending complete body")


def test_a_body_cut_off_midway_retries_the_page_and_keeps_only_the_whole_body():
    provider = FakeProvider({"users": USERS_5})

    def cut_off_once(request, number):
        if number == 1:
            return httpx.Response(200, stream=BreaksMidway(), headers={"X-Total-Count": "5"})
        return None

    provider.faults.append(cut_off_once)
    bodies = []

    def keep(body):
        bodies.append(b"".join(body))  # raises on the cut-off body, like a file being written
        return PageParser(USERS)(bodies[-1])

    with provider.client() as client:
        ids = sorted(row[0] for page in client.pull("users", keep) for row in page.rows)

    assert ids == sorted(record["sourcedId"] for record in USERS_5)
    assert bodies == [json.dumps({"users": USERS_5}).encode()]
    assert provider.requests == [("users", 0), ("users", 0)]


def test_a_401_refreshes_the_token_once_and_retries_the_page():
    provider = FakeProvider({"users": USERS_5})

    def expire_token_at_page_3(request, number):
        if request.url.params["offset"] == "4" and number == 1:
            provider.valid_tokens.clear()  # the token expired server-side
        return None

    provider.faults.append(expire_token_at_page_3)

    ids, _ = pull_ids(provider, page_size=2)

    assert len(ids) == 5
    assert provider.tokens_issued == 2


def test_a_second_401_is_an_auth_error_and_stops():
    provider = FakeProvider({"users": USERS_5})
    provider.faults.append(lambda request, number: httpx.Response(401))

    with pytest.raises(AuthError):
        pull_ids(provider)
    assert len(provider.requests) == 2


def test_the_token_request_uses_basic_auth_and_every_scope():
    provider = FakeProvider({"users": USERS_5})

    pull_ids(provider)

    request = provider.token_requests[0]
    assert request.headers["Authorization"].startswith("Basic ")
    body = request.content.decode()
    assert "grant_type=client_credentials" in body
    assert "roster-demographics.readonly" in body and "roster-core.readonly" in body


def test_the_token_is_refreshed_at_80_percent_of_its_life():
    now = [0.0]
    provider = FakeProvider({"users": USERS_5}, expires_in=60)
    with provider.client(clock=lambda: now[0]) as client:
        client.fetch_page("users", 0, 1)
        now[0] = 47.0
        client.fetch_page("users", 0, 1)
        assert provider.tokens_issued == 1
        now[0] = 48.5
        client.fetch_page("users", 0, 1)
        assert provider.tokens_issued == 2


@pytest.mark.parametrize("expires_in", [0, -60, float("nan"), float("inf")])
def test_a_token_without_a_usable_life_is_kept_for_the_default_hour(expires_in):
    now = [0.0]
    issued = []
    cache = TokenCache(lambda: issued.append(1) or Token("t", expires_in), clock=lambda: now[0])

    cache.get()
    now[0] = 0.8 * DEFAULT_TTL_SECONDS - 1
    cache.get()
    assert len(issued) == 1
    now[0] = 0.8 * DEFAULT_TTL_SECONDS
    cache.get()
    assert len(issued) == 2


@pytest.mark.parametrize("expires_in", ["abc", "", None, True, [60], {"s": 60}, "1e999"])
def test_a_token_whose_expires_in_is_not_a_number_still_pulls(expires_in):
    provider = FakeProvider({"users": USERS_5}, expires_in=expires_in)

    ids, _ = pull_ids(provider)
    assert len(ids) == 5
    assert provider.tokens_issued == 1


@pytest.mark.parametrize("access_token", [None, "", "  ", 42, ["t"]])
def test_a_token_response_without_a_usable_access_token_fails_the_pull(access_token):
    provider = FakeProvider({"users": USERS_5})
    provider.token_override = {"access_token": access_token, "expires_in": 60}

    with pytest.raises(ProviderError, match="access_token"):
        pull_ids(provider)


def test_a_401_on_the_retry_after_a_refresh_stops_without_a_third_try():
    # two pages only: with a third, whether it was fetched (and took a token) before the pull
    # stopped was a race, and the token count with it
    provider = FakeProvider({"users": USERS_5[:4]})

    def refuse_from_page_2(request, number):
        return httpx.Response(401) if request.url.params["offset"] == "2" else None

    provider.faults.append(refuse_from_page_2)

    with pytest.raises(AuthError, match="401 even with a fresh token"):
        pull_ids(provider, page_size=2, max_concurrency=1)
    assert [offset for _, offset in provider.requests].count(2) == 2
    assert provider.tokens_issued == 2


def test_refused_credentials_are_an_auth_error():
    provider = FakeProvider({"users": USERS_5}, token_status=401)

    with pytest.raises(AuthError):
        pull_ids(provider)


def test_403_names_the_missing_permission():
    provider = FakeProvider()
    provider.faults.append(lambda request, number: httpx.Response(403))

    with provider.client() as client, pytest.raises(ForbiddenError) as raised:
        client.fetch_page("demographics", 0, 10)
    assert raised.value.scope == "roster-demographics.readonly"
    assert "roster-demographics.readonly" in str(raised.value)


@pytest.mark.parametrize(("options", "peak"), [({}, 5), ({"serial": True}, 1)])
def test_concurrency_never_exceeds_five_and_serial_means_one(options, peak):
    provider = FakeProvider({"users": [user(f"u-{n}") for n in range(60)]}, delay=0.01)

    ids, _ = pull_ids(provider, page_size=2, max_concurrency=5, **options)

    assert len(ids) == 60
    assert provider.peak_in_flight == peak
