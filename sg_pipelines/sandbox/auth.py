"""OAuth 2.0 client credentials: the token endpoint and the bearer check on API calls."""

from __future__ import annotations

import base64
import binascii
import secrets
import threading
import time
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote

from starlette.requests import Request
from starlette.responses import JSONResponse

from sg_pipelines.sandbox.config import SandboxConfig
from sg_pipelines.sandbox.faults import Faults
from sg_pipelines.sandbox.imsx import OneRosterError


@dataclass
class IssuedToken:
    """A bearer token the sandbox handed out."""

    scopes: frozenset[str]
    issued_at: float
    expires_at: float
    uses: int = 0


class TokenStore:
    """Issued tokens and the rules for accepting them."""

    def __init__(self, config: SandboxConfig, faults: Faults) -> None:
        self.config = config
        self.faults = faults
        self._tokens: dict[str, IssuedToken] = {}
        self._lock = threading.Lock()

    def issue(self, scopes: frozenset[str]) -> tuple[str, IssuedToken]:
        """A new opaque token carrying `scopes`."""
        now = time.monotonic()
        token = IssuedToken(scopes, now, now + self.config.token_ttl_seconds)
        value = secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[value] = token
        return value, token

    def expire_all(self) -> None:
        """Make every issued token invalid at once (as a server restart would)."""
        with self._lock:
            self._tokens.clear()

    def authenticate(self, request: Request) -> IssuedToken:
        """The token behind the request's `Authorization: Bearer` header, or a 401."""
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise OneRosterError(
                401,
                "A bearer access token is required.",
                headers={"WWW-Authenticate": 'Bearer realm="oneroster"'},
            )
        with self._lock:
            token = self._tokens.get(value.strip())
            if token is not None:
                token.uses += 1
        if token is None or not self._still_valid(token):
            raise OneRosterError(
                401,
                "The access token is invalid or has expired.",
                headers={"WWW-Authenticate": 'Bearer realm="oneroster", error="invalid_token"'},
            )
        return token

    def _still_valid(self, token: IssuedToken) -> bool:
        now = time.monotonic()
        if now >= token.expires_at:
            return False
        max_requests = self.faults.token_max_requests
        if max_requests is not None and token.uses > max_requests:
            return False
        max_age = self.faults.token_max_age_seconds
        return max_age is None or now - token.issued_at < max_age


def _client_credentials(request: Request) -> tuple[str, str] | None:
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        return None
    # RFC 6749 §2.3.1: both parts are form-urlencoded before Basic encoding
    return unquote(client_id.replace("+", " ")), unquote(secret.replace("+", " "))


def _oauth_error(status: int, error: str, description: str) -> JSONResponse:
    headers = {"Cache-Control": "no-store", "Pragma": "no-cache"}
    if status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="oneroster"'
    return JSONResponse(
        {"error": error, "error_description": description}, status_code=status, headers=headers
    )


async def token_endpoint(request: Request) -> JSONResponse:
    """`POST /oauth2/token`: client credentials grant, client authenticated by HTTP Basic."""
    store: TokenStore = request.app.state.tokens
    config = store.config

    credentials = _client_credentials(request)
    if credentials is None or not (
        secrets.compare_digest(credentials[0], config.client_id)
        and secrets.compare_digest(credentials[1], config.client_secret)
    ):
        return _oauth_error(401, "invalid_client", "Client authentication failed.")

    form = parse_qs((await request.body()).decode("utf-8", "replace"), keep_blank_values=True)
    grant_type = (form.get("grant_type") or [""])[0]
    if grant_type != "client_credentials":
        return _oauth_error(
            400, "unsupported_grant_type", "Only the client_credentials grant is supported."
        )

    allowed = frozenset(config.allowed_scopes)
    requested = (form.get("scope") or [""])[0].split()
    granted = frozenset(requested) & allowed if requested else allowed
    if not granted:
        return _oauth_error(400, "invalid_scope", "None of the requested scopes can be granted.")

    value, _ = store.issue(granted)
    return JSONResponse(
        {
            "access_token": value,
            "token_type": "Bearer",
            "expires_in": config.token_ttl_seconds,
            "scope": " ".join(sorted(granted)),
        },
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )
