"""`POST /oauth/token`: OAuth 2.0 client credentials (RFC 6749 §4.4) for data-export accounts.

The client authenticates with HTTP Basic or with `client_id`/`client_secret` in the form body,
never both. Errors follow RFC 6749 §5.2: `invalid_request` (400) for a malformed, repeated or
doubly-authenticated request, `unsupported_grant_type` (400), `invalid_scope` (400), and
`invalid_client` (401, with `WWW-Authenticate: Basic` when Basic was used) for an unknown client,
a wrong secret, or an account that is disabled or whose contact has not yet accepted the terms.
Failed attempts beyond the budget are answered 429 (`throttle.py`). A token is opaque, lives
`api.token_ttl_seconds`, carries one scope per permitted endpoint, and comes with no refresh
token; every answer is `Cache-Control: no-store`.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from urllib.parse import parse_qsl, unquote_plus

from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from sg_pipelines.appdb.exports import DataExport
from sg_pipelines.notify.alerts import auth_failure_burst, send_quietly
from sg_pipelines.web.api.credentials import (
    SecretKeyMissing,
    new_token,
    secret_matches,
    token_digest,
)
from sg_pipelines.web.api.errors import NO_STORE, correlation_id, json_error
from sg_pipelines.web.api.options import ENDPOINTS
from sg_pipelines.web.api.service import ReportingApi
from sg_pipelines.web.lti.registrations import is_loopback

logger = logging.getLogger(__name__)

REALM = "sg-pipelines"
GRANT_TYPE = "client_credentials"
MAX_BODY_BYTES = 4096
MAX_CREDENTIAL_LENGTH = 256
_PRINTABLE = re.compile(r"[\x21-\x7e]{1,64}")


# parsing the host as an address took a tenth of the app's time under load; few hosts recur
_loopback_host = lru_cache(maxsize=256)(is_loopback)


def secure_transport(request: Request) -> bool:
    """https, or plain http to a loopback host (the sandbox and the tests)."""
    return request.url.scheme == "https" or _loopback_host(request.url.hostname)


def audit_client_id(value: str | None) -> str | None:
    """A claimed client id as it may be written to the audit: printable and short."""
    if value is None:
        return None
    return value if _PRINTABLE.fullmatch(value) else "(unprintable)"


@dataclass(frozen=True)
class TokenCall:
    """What the token endpoint needs from the HTTP request."""

    authorization: str | None
    form: list[tuple[str, str]]
    address: str
    correlation_id: str


class Refused(Exception):
    """A token request refused with an RFC 6749 error."""

    def __init__(
        self,
        status: int,
        error: str,
        description: str,
        *,
        basic: bool = False,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(error)
        self.status = status
        self.error = error
        self.description = description
        self.basic = basic
        self.retry_after = retry_after


async def token(request: Request) -> Response:
    """`POST /oauth/token`."""
    api: ReportingApi = request.app.state.api
    if not secure_transport(request):
        return _error(request, Refused(400, "invalid_request", "the token endpoint needs https"))
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        return _error(
            request,
            Refused(400, "invalid_request", "send application/x-www-form-urlencoded"),
        )

    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            return _error(request, Refused(400, "invalid_request", "the request is too large"))
    try:
        form = parse_qsl(body.decode("ascii"), keep_blank_values=True, max_num_fields=20)
    except (UnicodeDecodeError, ValueError):
        return _error(request, Refused(400, "invalid_request", "the form could not be read"))

    call = TokenCall(
        authorization=request.headers.get("authorization"),
        form=form,
        address=request.client.host if request.client else "unknown",
        correlation_id=correlation_id(request),
    )
    return await run_in_threadpool(_token, api, call, request)


def _token(api: ReportingApi, call: TokenCall, request: Request) -> Response:
    api.sweep_now_and_then()
    claimed: str | None = None
    try:
        params = _single_valued(call.form)
        client_id, secret, basic = _client_credentials(call.authorization, params)
        claimed = client_id
        grant_type = params.get("grant_type")
        if not grant_type:
            raise Refused(400, "invalid_request", "grant_type is missing")
        if grant_type != GRANT_TYPE:
            raise Refused(400, "unsupported_grant_type", "only client_credentials is supported")
        export = _authenticate(api, call, client_id, secret, basic)
        scopes = _granted_scopes(export, params.get("scope"))
    except Refused as refused:
        status = refused.status
        api.record_call(
            "token",
            refused.error,
            status,
            client_id=audit_client_id(claimed),
            correlation_id=call.correlation_id,
        )
        response = _error(request, refused)
        if refused.error == "invalid_client" and claimed is not None:
            response.background = _burst_alert(api, claimed, call)
        return response

    now = api.clock()
    access_token = new_token()
    ttl = api.settings.api.token_ttl_seconds
    with api.write_lock:
        api.store.add_token(
            token_digest(access_token), export.id, scopes, issued_at=now, expires_at=now + ttl
        )
    api.record_call(
        "token", "issued", 200, export_id=export.id, client_id=export.client_id,
        correlation_id=call.correlation_id,
    )  # fmt: skip
    logger.info("issued a token to %s for %d scopes", export.client_id, len(scopes))
    return JSONResponse(
        {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": ttl,
            "scope": " ".join(scopes),
        },
        headers=NO_STORE,
    )


def _single_valued(form: list[tuple[str, str]]) -> dict[str, str]:
    params: dict[str, str] = {}
    for name, value in form:
        if name in params:
            raise Refused(400, "invalid_request", f"{name} is given more than once")
        params[name] = value
    return params


def _client_credentials(authorization: str | None, params: dict[str, str]) -> tuple[str, str, bool]:
    """(client id, secret, used Basic) from exactly one authentication method."""
    in_body = "client_id" in params or "client_secret" in params
    if authorization is not None and authorization.strip():
        if in_body:
            raise Refused(
                400, "invalid_request", "authenticate with HTTP Basic or the form body, not both"
            )
        scheme, _, encoded = authorization.strip().partition(" ")
        if scheme.lower() != "basic":
            raise Refused(401, "invalid_client", "use HTTP Basic client authentication", basic=True)
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise Refused(400, "invalid_request", "the Basic credentials are malformed") from None
        client_id, colon, secret = decoded.partition(":")
        if not colon:
            raise Refused(400, "invalid_request", "the Basic credentials are malformed")
        # RFC 6749 §2.3.1: each part is form-urlencoded before it is joined
        return _bounded(unquote_plus(client_id), unquote_plus(secret), basic=True)

    if not in_body:
        raise Refused(401, "invalid_client", "client authentication is missing")
    if not params.get("client_id") or not params.get("client_secret"):
        # a client id alone is no authentication: this server has no public clients (§2.1)
        raise Refused(401, "invalid_client", "client_id and client_secret go together")
    return _bounded(params["client_id"], params["client_secret"], basic=False)


def _bounded(client_id: str, secret: str, *, basic: bool) -> tuple[str, str, bool]:
    if not client_id or len(client_id) > MAX_CREDENTIAL_LENGTH or len(secret) > 1024:
        raise Refused(401, "invalid_client", "client authentication failed", basic=basic)
    return client_id, secret, basic


def _authenticate(
    api: ReportingApi, call: TokenCall, client_id: str, secret: str, basic: bool
) -> DataExport:
    """The account, when the secret is right and the account may have tokens."""
    try:
        key = api.key
    except SecretKeyMissing:
        logger.error("the API secret key is not configured; refusing token requests")
        raise Refused(503, "temporarily_unavailable", "the server is not configured") from None

    found = api.store.secret_hash(client_id)
    export, stored = found if found else (None, None)
    if not secret_matches(key, secret, stored) or export is None:
        api.failures.record(client_id, call.address)
        retry_after = api.failures.retry_after(client_id, call.address)
        if retry_after is not None:
            raise Refused(
                429, "invalid_client", "too many failed attempts; try again later",
                basic=basic, retry_after=retry_after,
            )  # fmt: skip
        raise Refused(401, "invalid_client", "client authentication failed", basic=basic)
    if not export.active:
        raise Refused(
            401, "invalid_client", "the account is disabled or its terms are not accepted",
            basic=basic,
        )  # fmt: skip
    return export


def _granted_scopes(export: DataExport, requested: str | None) -> list[str]:
    permitted = [ENDPOINTS[p.endpoint].scope for p in export.permissions if p.endpoint in ENDPOINTS]
    if not permitted:
        raise Refused(400, "invalid_scope", "the account is permitted no endpoint")
    if requested is None or not requested.strip():
        return permitted
    asked = list(dict.fromkeys(requested.split()))
    if any(scope not in permitted for scope in asked):
        raise Refused(400, "invalid_scope", "a requested scope is unknown or not permitted")
    return asked


def _burst_alert(api: ReportingApi, client_id: str, call: TokenCall) -> BackgroundTask | None:
    """After the response: mail the contact once a burst of failures for a real account begins."""
    found = api.store.export_by_client_id(client_id)
    if found is None:
        return None
    failures = api.bursts.record(str(found.id))
    if failures is None:
        return None
    logger.warning("%d failed token requests for %s; alerting its contact", failures, client_id)
    return BackgroundTask(
        send_quietly,
        auth_failure_burst,
        api.settings.smtp,
        found.contact_email,
        account_name=found.name,
        failures=failures,
        window_seconds=api.settings.alerts.auth_failure_window_seconds,
        last_failure_at=datetime.now(UTC),
        addresses=api.failures.addresses_for(client_id),
        correlation_id=call.correlation_id,
    )


def _error(request: Request, refused: Refused) -> Response:
    headers = {}
    if refused.basic and refused.status in (401, 429):
        headers["WWW-Authenticate"] = f'Basic realm="{REALM}", charset="UTF-8"'
    if refused.retry_after is not None:
        headers["Retry-After"] = str(refused.retry_after)
    return json_error(request, refused.status, refused.error, refused.description, headers=headers)
