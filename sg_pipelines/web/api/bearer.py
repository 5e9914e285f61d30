"""Bearer tokens on the record endpoints (RFC 6750).

- No `Authorization: Bearer` header: 401 with `WWW-Authenticate: Bearer realm="sg-pipelines"`
  and no error code (§3.1), whatever the path under `/api/`.
- A token in the query string (`access_token`): 400 `invalid_request` (§2.3 is not supported).
- An unknown, expired, revoked or malformed token, or one whose account has since been disabled:
  401 `invalid_token`.
- A valid token for an endpoint its account is not permitted, **or for a path that does not
  exist**: 403 `insufficient_scope`, the same answer either way, so a token learns nothing about
  which endpoints exist beyond its own (fault C2).
"""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import Response

from sg_pipelines.appdb.exports import Permission, TokenGrant
from sg_pipelines.web.api.credentials import token_digest
from sg_pipelines.web.api.errors import json_error
from sg_pipelines.web.api.service import ReportingApi

REALM = "sg-pipelines"
_TOKEN68 = re.compile(r"[A-Za-z0-9\-._~+/]+=*")


class BearerRefused(Exception):
    """A request refused before any record was read."""

    def __init__(self, status: int, error: str | None, description: str, scope: str | None = None):
        super().__init__(error or "unauthenticated")
        self.status = status
        self.error = error
        self.description = description
        self.scope = scope

    def response(self, request: Request) -> Response:
        challenge = f'Bearer realm="{REALM}"'
        if self.error is not None:
            challenge += f', error="{self.error}", error_description="{self.description}"'
        if self.scope is not None:
            challenge += f', scope="{self.scope}"'
        return json_error(
            request,
            self.status,
            self.error or "unauthorized",
            self.description,
            headers={"WWW-Authenticate": challenge},
        )


def presented_token(request: Request) -> str:
    """The bearer token of a request; BearerRefused when there is none or it is misplaced."""
    if "access_token" in request.query_params:
        raise BearerRefused(
            400, "invalid_request", "send the token in the Authorization header, not the URL"
        )
    header = request.headers.get("authorization")
    if header is None:
        raise BearerRefused(401, None, "a bearer token is required")
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        raise BearerRefused(401, None, "a bearer token is required")
    value = value.strip()
    if not value or len(value) > 512 or not _TOKEN68.fullmatch(value):
        raise BearerRefused(401, "invalid_token", "the token is malformed")
    return value


def access_for(
    api: ReportingApi, token: str, endpoint: str
) -> tuple[TokenGrant, Permission | None]:
    """What a token stands for, and its account's permission for `endpoint` as it stands now
    (None without one); BearerRefused with `invalid_token` when the token stands for nothing."""
    found = api.store.token_access(token_digest(token), api.clock(), endpoint)
    if found is None or not found[0].account_active:
        raise BearerRefused(401, "invalid_token", "the token is expired, revoked or unknown")
    return found
