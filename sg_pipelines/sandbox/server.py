"""The sandbox's ASGI app: a OneRoster 1.2 rostering provider standing in for Campus."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from email.utils import formatdate
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sg_pipelines.sandbox.auth import TokenStore, token_endpoint
from sg_pipelines.sandbox.config import SandboxConfig
from sg_pipelines.sandbox.control import CONTROL_ROUTES
from sg_pipelines.sandbox.district import API_ROOT, District, encode_record
from sg_pipelines.sandbox.endpoints import ENDPOINTS, Endpoint
from sg_pipelines.sandbox.faults import Faults, PageFault, malformed_records
from sg_pipelines.sandbox.flags import FLAG_ROUTES, FlagsState
from sg_pipelines.sandbox.imsx import OneRosterError, failure_response
from sg_pipelines.sandbox.lti_platform import LTI_PLATFORM_ROUTES, LtiPlatform
from sg_pipelines.sandbox.query import (
    Paging,
    Selector,
    parse_fields,
    parse_filter,
    parse_paging,
    parse_sort,
    project,
)
from sg_pipelines.sandbox.request_log import RequestLog, RequestLogMiddleware

logger = logging.getLogger(__name__)

JSON = "application/json"


def create_app(
    district: District,
    config: SandboxConfig | None = None,
    *,
    faults: Faults | None = None,
    request_log: RequestLog | None = None,
    flags: FlagsState | None = None,
    lti_platform: LtiPlatform | None = None,
) -> Starlette:
    """Build the sandbox app serving `district`.

    Args:
        district: the records to serve; mutations show up on the next request.
        config: credentials, scopes and paging limits (defaults: `SandboxConfig()`).
        faults: the switchable faults to consult (a fresh, all-off `Faults` if omitted).
        request_log: where served requests are recorded (a fresh log if omitted).
        flags: the program-flags state (sandbox/flags.py; a fresh, empty one if omitted).
        lti_platform: the LTI 1.3 platform (sandbox/lti_platform.py; a fresh one if omitted).
    """
    config = config or SandboxConfig()
    faults = Faults() if faults is None else faults
    request_log = RequestLog() if request_log is None else request_log

    app = Starlette(
        routes=[
            Route("/oauth2/token", token_endpoint, methods=["POST"]),
            Route(f"{API_ROOT}/{{endpoint}}", collection_get, methods=["GET"]),
            Route(f"{API_ROOT}/{{endpoint}}/{{sourced_id}}", single_get, methods=["GET"]),
            *CONTROL_ROUTES,
            # the partner-only program-flags endpoint (docs/campus-flags-api.md)
            *FLAG_ROUTES,
            # the LTI 1.3 platform that launches the plan viewer from a flag
            *LTI_PLATFORM_ROUTES,
        ],
        middleware=[Middleware(RequestLogMiddleware, log=request_log)],
        exception_handlers={
            OneRosterError: _oneroster_error,
            HTTPException: _http_error,
            Exception: _unexpected_error,
        },
    )
    app.state.district = district
    app.state.config = config
    app.state.faults = faults
    app.state.request_log = request_log
    app.state.tokens = TokenStore(config, faults)
    app.state.selector = Selector(district)
    app.state.flags = FlagsState() if flags is None else flags
    app.state.lti_platform = lti_platform or LtiPlatform(district, app.state.flags)
    return app


# error handlers


async def _oneroster_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, OneRosterError)
    return exc.response()


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return failure_response(404, "No such resource.", "unknownobject")
    return failure_response(exc.status_code, str(exc.detail), "invaliddata", exc.headers)


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    logger.exception("sandbox failed on %s %s", request.method, request.url.path)
    return failure_response(500, "The server failed unexpectedly.", "internal_server_error")


# OneRoster endpoints


def _endpoint(request: Request) -> Endpoint:
    endpoint = ENDPOINTS.get(request.path_params["endpoint"])
    if endpoint is None:
        raise OneRosterError(404, "No such collection.", "unknownobject")
    return endpoint


def _authorise(request: Request, endpoint: Endpoint) -> None:
    """401 without a valid token, 403 when its scopes do not cover the endpoint."""
    token = request.app.state.tokens.authenticate(request)
    faults: Faults = request.app.state.faults
    withheld = endpoint.collection == "demographics" and faults.forbid_demographics
    if withheld or not token.scopes & endpoint.scopes:
        raise OneRosterError(
            403, f"The access token's scope does not cover /{endpoint.name}.", "forbidden"
        )


async def single_get(request: Request) -> Response:
    """`GET /{collection}/{sourcedId}`: one record, or 404 `unknownobject`."""
    endpoint = _endpoint(request)
    _authorise(request, endpoint)
    district: District = request.app.state.district
    fields = parse_fields(request.query_params, endpoint.fields)

    sourced_id = request.path_params["sourced_id"]
    record = district.get(endpoint.collection, sourced_id)
    if record is None or (endpoint.keep is not None and not endpoint.keep(record)):
        raise OneRosterError(404, f"Unknown object {sourced_id[:80]!r}.", "unknownobject")

    if fields is None:
        body = district.encoded(endpoint.collection, sourced_id)
    else:
        body = encode_record(project(record, fields))
    return Response(b'{"' + endpoint.singular_key.encode() + b'":' + body + b"}", media_type=JSON)


async def collection_get(request: Request) -> Response:
    """`GET /{collection}`: one page of a collection, with OneRoster query parameters."""
    endpoint = _endpoint(request)
    _authorise(request, endpoint)
    state = request.app.state
    faults: Faults = state.faults

    # parse the query before any fault fires: malformed input is always a 400
    params = request.query_params
    paging = parse_paging(params, state.config)
    sort, descending = parse_sort(params, endpoint.fields)
    fields = parse_fields(params, endpoint.fields)
    where = parse_filter(params.get("filter"), endpoint.fields)

    fired = faults.take(endpoint.name, paging.offset)
    early = await _early_fault_response(fired)
    if early is not None:
        return early

    def build() -> tuple[bytes, int, int]:
        ids = state.selector.select(endpoint, where, sort, descending)
        return _page_body(state.district, endpoint, ids, paging, faults, fields, fired)

    body, total, served = await run_in_threadpool(build)
    headers = _paging_headers(request, paging, total, faults)
    logger.debug("served /%s offset=%d count=%d", endpoint.name, paging.offset, served)
    return Response(body, media_type=JSON, headers=headers)


async def _early_fault_response(fired: list[PageFault]) -> Response | None:
    """Apply delays, then the first failing status or replacement body among fired rules."""
    for rule in fired:
        if rule.delay:
            await asyncio.sleep(rule.delay)
    for rule in fired:
        if rule.status is not None:
            headers = {}
            if rule.retry_after is not None:
                headers["Retry-After"] = _retry_after(rule)
            description = {
                429: "Too many requests; retry later.",
                502: "Bad gateway.",
                503: "Service unavailable; retry later.",
            }.get(rule.status, "The server failed to produce the page.")
            return failure_response(rule.status, description, headers=headers)
    for rule in fired:
        if rule.body is not None:
            return JSONResponse(rule.body)
    return None


def _retry_after(rule: PageFault) -> str:
    seconds = rule.retry_after or 0
    if rule.retry_after_format == "http-date":
        # an HTTP-date has whole seconds: round up so the client never waits too little
        return formatdate(int(time.time() + seconds) + 1, usegmt=True)
    return str(int(seconds)) if float(seconds).is_integer() else str(seconds)


def _page_body(
    district: District,
    endpoint: Endpoint,
    ids: list[str],
    paging: Paging,
    faults: Faults,
    fields: list[str] | None,
    fired: list[PageFault],
) -> tuple[bytes, int, int]:
    """The page's JSON bytes, the total after filtering and the number of records served."""
    size = paging.limit if faults.page_cap is None else min(paging.limit, faults.page_cap)
    collection = endpoint.collection
    with district.lock:
        total = len(ids)
        chunk = ids[paging.offset : paging.offset + size]
        if fields is None:
            items = [district.encoded(collection, sourced_id) for sourced_id in chunk]
        else:
            items = [
                encode_record(project(district.get(collection, sourced_id), fields))
                for sourced_id in chunk
            ]
    for rule in fired:
        if rule.inject is not None:
            extra: list[Any] = rule.inject
            if rule.inject == "malformed":
                extra = malformed_records(collection, str(uuid.uuid4()))
            items.extend(encode_record(record) for record in extra)
    key = endpoint.plural_key.encode()
    return b'{"' + key + b'":[' + b",".join(items) + b"]}", total, len(chunk)


def _paging_headers(request: Request, paging: Paging, total: int, faults: Faults) -> dict[str, str]:
    """`X-Total-Count` and an RFC 8288 `Link` header (first, prev, next, last)."""
    headers: dict[str, str] = {}
    if faults.total_count == "exact":
        headers["X-Total-Count"] = str(total)
    elif faults.total_count == "drift":
        headers["X-Total-Count"] = str(total + 1 if paging.offset > 0 else total)

    if not faults.omit_link:
        limit, offset = paging.limit, paging.offset
        last = max(0, (total - 1) // limit * limit)
        links = {"first": 0}
        if offset > 0:
            links["prev"] = max(0, offset - limit)
        if offset + limit < total:
            links["next"] = offset + limit
        links["last"] = last
        url = request.url
        headers["Link"] = ", ".join(
            f'<{url.include_query_params(limit=limit, offset=target)}>; rel="{rel}"'
            for rel, target in links.items()
        )
    return headers
