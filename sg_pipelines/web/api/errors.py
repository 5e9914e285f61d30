"""JSON errors with a correlation id, a catch-all that never lets a traceback out, and access
logs without query strings or link tokens.

Every response under the API's paths carries `X-Correlation-Id`; an error body carries the same
id, so a district can quote it and an operator find the audit row. An unexpected exception
becomes a JSON 500 with that id; the log line names the exception class and where it was raised,
never its message, which could hold a value from the request or a record.
"""

from __future__ import annotations

import json
import logging
import re
import traceback
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger(__name__)

CORRELATION_HEADER = "X-Correlation-Id"
API_PREFIXES = ("/oauth/", "/api/", "/exports/", "/openapi.json", "/healthz")
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_LINK_TOKEN = re.compile(r"(/exports/accept/)[^/?\s]+")


def correlation_id(request: Request) -> str:
    """The id of this request (set by `CorrelationMiddleware`)."""
    return request.scope.get("state", {}).get("correlation_id") or uuid.uuid4().hex


def json_error(
    request: Request,
    status: int,
    error: str,
    description: str,
    *,
    headers: Mapping[str, str] | None = None,
    details: Sequence[Mapping[str, Any]] | None = None,
) -> JSONResponse:
    """An error body: `error`, `error_description`, `correlation_id` (and `details`)."""
    body: dict[str, Any] = {
        "error": error,
        "error_description": description,
        "correlation_id": correlation_id(request),
    }
    if details:
        body["details"] = [dict(detail) for detail in details]
    return JSONResponse(body, status_code=status, headers={**NO_STORE, **(headers or {})})


class CorrelationMiddleware:
    """Gives API requests a correlation id and turns any escaped exception into a JSON 500."""

    def __init__(self, app: ASGIApp, prefixes: Sequence[str] = API_PREFIXES) -> None:
        self.app = app
        self.prefixes = tuple(prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefixes):
            await self.app(scope, receive, send)
            return

        identifier = uuid.uuid4().hex
        scope.setdefault("state", {})["correlation_id"] = identifier
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                headers.append((CORRELATION_HEADER.lower().encode(), identifier.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as error:
            frame = traceback.extract_tb(error.__traceback__)[-1:]
            where = f"{frame[0].filename}:{frame[0].lineno}" if frame else "unknown"
            logger.error(
                "unhandled %s at %s (correlation id %s)", type(error).__name__, where, identifier
            )
            if started:
                return
            body = json.dumps(
                {
                    "error": "server_error",
                    "error_description": "the server could not answer this request; quote the "
                    "correlation id to the district",
                    "correlation_id": identifier,
                }
            ).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                        (b"cache-control", b"no-store"),
                        (CORRELATION_HEADER.lower().encode(), identifier.encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})


class RedactedAccessLog(logging.Filter):
    """Drops query strings (student ids, dates) and acceptance-link tokens from access logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            path = _LINK_TOKEN.sub(r"\1…", args[2].split("?", 1)[0])
            record.args = (*args[:2], path, *args[3:])
        return True


def redact_access_log() -> None:
    """Install the filter on uvicorn's access logger, once per process."""
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactedAccessLog) for f in access.filters):
        access.addFilter(RedactedAccessLog())
