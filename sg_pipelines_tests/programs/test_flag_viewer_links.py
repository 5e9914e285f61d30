"""Viewer links: signed, expiring, and never signed with the development key for a district."""

from __future__ import annotations

import pytest

from sg_pipelines.programs.viewer_links import (
    SANDBOX_LINK_SIGNING_KEY,
    ExpiredViewerLink,
    InvalidViewerLink,
    ViewerLink,
    ViewerLinks,
    signing_key,
)
from sg_pipelines.settings import LINK_SIGNING_KEY_ENV

TTL = 48 * 3600


class Clock:
    def __init__(self) -> None:
        self.now = 1_750_000_000.0

    def __call__(self) -> float:
        return self.now


def test_a_token_verifies_until_its_time_to_live_has_passed():
    clock = Clock()
    links = ViewerLinks("key", TTL, clock=clock)
    token = links.token("section_504", "stu-1")

    clock.now += TTL - 1
    assert links.verify(token) == ViewerLink("section_504", "stu-1")

    clock.now += 2
    with pytest.raises(ExpiredViewerLink):
        links.verify(token)


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(
            lambda token: token[:-2] + ("AA" if token[-2:] != "AA" else "BB"), id="tampered"
        ),
        pytest.param(lambda token: "not-a-token", id="garbage"),
    ],
)
def test_a_token_not_signed_by_us_is_invalid(mutate):
    links = ViewerLinks("key", TTL)

    with pytest.raises(InvalidViewerLink):
        links.verify(mutate(links.token("section_504", "stu-1")))


def test_a_token_signed_with_another_key_is_invalid():
    token = ViewerLinks("other key", TTL).token("section_504", "stu-1")

    with pytest.raises(InvalidViewerLink):
        ViewerLinks("key", TTL).verify(token)


@pytest.mark.parametrize(
    ("host", "environ", "expected"),
    [
        ("127.0.0.1", {}, SANDBOX_LINK_SIGNING_KEY),
        ("localhost", {}, SANDBOX_LINK_SIGNING_KEY),
        ("sftp.district.example", {LINK_SIGNING_KEY_ENV: "district key"}, "district key"),
    ],
)
def test_the_signing_key_comes_from_the_environment_or_the_sandbox_default(host, environ, expected):
    assert signing_key(host, environ) == expected


def test_a_district_host_without_a_signing_key_is_refused():
    with pytest.raises(ValueError, match=LINK_SIGNING_KEY_ENV):
        signing_key("sftp.district.example", {})
