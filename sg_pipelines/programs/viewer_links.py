"""Signed, expiring viewer links: the URL column of the CSV fallback's `documents.csv`.

A link names a student and a program, never a document: the viewer shows the most recent
completed plan at the time of the click. The token is signed and timestamped with itsdangerous
(HMAC-SHA1 over a salted key) and refused after `ttl_seconds`.

Known limitation: the token is signed, not encrypted; its payload (the student's sourcedId and
the program key) is readable base64. Links travel only inside the SFTP drop and over HTTPS, and
the web app never logs request paths, so the pair stays out of logs.
"""

from __future__ import annotations

import ipaddress
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import quote

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from sg_pipelines.settings import LINK_SIGNING_KEY_ENV

SALT = "sg-pipelines.viewer-link"
# Development default, accepted only for loopback targets (the sandbox); see `signing_key`.
SANDBOX_LINK_SIGNING_KEY = "sg-sandbox-link-signing-key-not-for-districts"
VIEW_PATH = "/view/link"


class InvalidViewerLink(Exception):
    """The token was not signed with our key, or is malformed."""


class ExpiredViewerLink(InvalidViewerLink):
    """The token was ours but is older than its time to live."""


@dataclass(frozen=True)
class ViewerLink:
    """What a verified token names."""

    program: str
    sourced_id: str


class ViewerLinks:
    """Issues and verifies viewer tokens.

    Args:
        key: the signing key (`$SG_LINK_SIGNING_KEY`).
        ttl_seconds: how long a token stays valid.
        clock: wall-clock seconds, injectable so tests can age a token.
    """

    def __init__(
        self, key: str, ttl_seconds: float, clock: Callable[[], float] = time.time
    ) -> None:
        if not key:
            raise ValueError("the viewer link signing key is empty")
        self.ttl_seconds = ttl_seconds

        class _Signer(TimestampSigner):
            def get_timestamp(self) -> int:
                return int(clock())

        self._serializer = URLSafeTimedSerializer(key, salt=SALT, signer=_Signer)

    def token(self, program: str, sourced_id: str) -> str:
        return str(self._serializer.dumps([program, sourced_id]))

    def url(self, base_url: str, program: str, sourced_id: str) -> str:
        """The viewer URL carrying a fresh token."""
        return f"{base_url.rstrip('/')}{VIEW_PATH}/{quote(self.token(program, sourced_id))}"

    def verify(self, token: str) -> ViewerLink:
        """What the token names; raises `ExpiredViewerLink` or `InvalidViewerLink`."""
        try:
            program, sourced_id = self._serializer.loads(token, max_age=self.ttl_seconds)
        except SignatureExpired as error:
            raise ExpiredViewerLink("the viewer link has expired") from error
        except (BadSignature, ValueError, TypeError) as error:
            raise InvalidViewerLink("the viewer link is not valid") from error
        return ViewerLink(str(program), str(sourced_id))


def signing_key(target_host: str, environ: Mapping[str, str] | None = None) -> str:
    """`$SG_LINK_SIGNING_KEY`, or the development default when `target_host` is loopback.

    A district's links must never be signed with a key published in this repository, so the
    default is refused for any host that is not this machine.
    """
    environ = os.environ if environ is None else environ
    key = environ.get(LINK_SIGNING_KEY_ENV)
    if key:
        return key
    if _is_loopback(target_host):
        return SANDBOX_LINK_SIGNING_KEY
    raise ValueError(
        f"set {LINK_SIGNING_KEY_ENV}: viewer links for {target_host!r} cannot be signed with "
        "the sandbox's development key"
    )


def check_key_for_host(key: str, target_host: str) -> None:
    """Refuse the development key for anything but a loopback target."""
    if key == SANDBOX_LINK_SIGNING_KEY and not _is_loopback(target_host):
        raise ValueError(
            f"set {LINK_SIGNING_KEY_ENV}: the sandbox's development key signs links only for a "
            "loopback SFTP target"
        )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
