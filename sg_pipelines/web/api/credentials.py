"""Client ids, client secrets and bearer tokens: how they are made, stored and compared.

Secrets are 256 bits from the OS generator, so a fast keyed hash is enough (no password
stretching, see ../shared/docs/reference/lti_security.md §3.5): the app database holds only
HMAC-SHA256 of the secret under the server key `$SG_API_SECRET_KEY`, and a presented secret is
compared with `hmac.compare_digest`. Without that variable a documented development key is used,
and only while the API's public address is loopback; anywhere else the key is required.
Bearer tokens are opaque and stored as SHA-256, like the LTI view tokens.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Mapping
from urllib.parse import urlsplit

from sg_pipelines.settings import API_SECRET_KEY_ENV, Settings
from sg_pipelines.web.lti.registrations import is_loopback

# Published on purpose: it protects nothing, and is refused anywhere but loopback.
DEVELOPMENT_SECRET_KEY = "sg-pipelines-development-api-secret-key"
CLIENT_ID_PREFIX = "sgx_"
SECRET_PREFIX = "sgs_"
TOKEN_BYTES = 32


class SecretKeyMissing(RuntimeError):
    """`$SG_API_SECRET_KEY` is unset and the API is reachable beyond loopback."""


def server_key(settings: Settings, environ: Mapping[str, str] | None = None) -> bytes:
    """The key client secrets are hashed under: `$SG_API_SECRET_KEY`, or the development key
    while `api.public_url` is a loopback address."""
    environ = os.environ if environ is None else environ
    key = environ.get(API_SECRET_KEY_ENV)
    if key:
        return key.encode()
    if is_loopback(urlsplit(settings.api.public_url).hostname):
        return DEVELOPMENT_SECRET_KEY.encode()
    raise SecretKeyMissing(
        f"set {API_SECRET_KEY_ENV} to a long random value: the reporting API at "
        f"{settings.api.public_url} is not on loopback, so the development key is refused"
    )


def new_client_id() -> str:
    return CLIENT_ID_PREFIX + secrets.token_urlsafe(12)


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def secret_digest(key: bytes, secret: str) -> str:
    """What the app database stores for a client secret."""
    return hmac.new(key, secret.encode(), hashlib.sha256).hexdigest()


def secret_matches(key: bytes, presented: str, stored: str | None) -> bool:
    """Constant-time comparison of a presented secret with a stored digest (False when none).

    The digest is computed even when nothing is stored, so an unknown client and a wrong
    secret take the same time.
    """
    digest = secret_digest(key, presented)
    return hmac.compare_digest(digest, stored or "0" * len(digest)) and stored is not None


def token_digest(token: str) -> str:
    """How bearer tokens and invitation links are stored and looked up."""
    return hashlib.sha256(token.encode()).hexdigest()
