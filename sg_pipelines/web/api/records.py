"""`GET /api/v1/stateReporting/{ge,fd,fe,gq,ohioPreId}`: EMIS records from the published
snapshot, for a bearer token whose account is permitted the endpoint.

A request is answered in this order: the token (`bearer.py`), the endpoint permission (403 for
anything not permitted, existing or not, with an audit row), the snapshot (503 before the first
publish), the options under the account's rules (`options.py`; 400 with every problem listed),
then one page: built in the thread pool the first time, kept rendered after, so a page asked
again is answered on the event loop. JSON by default; the state's fixed-width format for
`format=fixed` or an Accept header preferring `text/plain`. `X-Total-Count` gives the matching
records, `Link` the first, previous, next and last pages. Every authenticated request leaves
an audit row: account, endpoint, time, result, status and correlation id; never its
parameters. The row is written behind the answer (`audit.py`), so a request never waits for
SQLite's write lock.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sg_pipelines.appdb.exports import Permission, TokenGrant
from sg_pipelines.emis.fixed_width import json_row, render
from sg_pipelines.web.api.bearer import BearerRefused, access_for, presented_token
from sg_pipelines.web.api.errors import NO_STORE, correlation_id, json_error
from sg_pipelines.web.api.options import ENDPOINTS, Endpoint, InvalidParameters, PageRequest, decide
from sg_pipelines.web.api.service import ReportingApi
from sg_pipelines.web.api.snapshots import Page, ServedSnapshot
from sg_pipelines.web.api.token import secure_transport

logger = logging.getLogger(__name__)

BASE_PATH = "/api/v1/stateReporting"
_SAFE_NAME = re.compile(r"[A-Za-z0-9_]{1,32}")


def audit_endpoint(name: str) -> str:
    """The endpoint as written to the audit: a known name, or a bounded placeholder."""
    return name if _SAFE_NAME.fullmatch(name) else "(other)"


def requested_name(request: Request) -> str:
    """The endpoint a request names, whichever route caught it: the rest of the path under
    `BASE_PATH`, so a POST to `fd` is audited and refused as `fd`, like a GET."""
    path = request.url.path
    if path.startswith(f"{BASE_PATH}/"):
        return path.removeprefix(f"{BASE_PATH}/")
    return request.path_params.get("name", "")


async def records(request: Request) -> Response:
    """`GET /api/v1/stateReporting/{name}`, and every other path under `/api/`.

    Answered on the event loop: the token and permission are one indexed SQLite read and a page
    asked before is in memory. Only a page not rendered yet is built in the thread pool.
    """
    api: ReportingApi = request.app.state.api
    if not secure_transport(request):
        return json_error(request, 400, "invalid_request", "the API needs https")
    started = time.perf_counter()
    name = requested_name(request)
    readable = request.method in ("GET", "HEAD") and request.url.path == f"{BASE_PATH}/{name}"
    endpoint = ENDPOINTS.get(name) if readable else None
    try:
        token = presented_token(request)
        grant, permission = access_for(api, token, endpoint.name if endpoint else "")
    except BearerRefused as refused:
        return refused.response(request)

    answer = _answer(api, request, grant, permission, endpoint, name)
    response = answer if isinstance(answer, Response) else await run_in_threadpool(answer)
    api.record_request(
        audit_endpoint(name) if endpoint is None else endpoint.name,
        _result(response),
        response.status_code,
        export_id=grant.export_id,
        client_id=grant.client_id,
        correlation_id=correlation_id(request),
    )
    logger.info(
        "%s answered %d in %.1f ms",
        endpoint.name if endpoint else "(not permitted)",
        response.status_code,
        (time.perf_counter() - started) * 1000,
    )
    return response


def _result(response: Response) -> str:
    return {200: "ok", 400: "invalid_request", 403: "forbidden", 503: "no_snapshot"}.get(
        response.status_code, "error"
    )


def _answer(
    api: ReportingApi,
    request: Request,
    grant: TokenGrant,
    permission: Permission | None,
    endpoint: Endpoint | None,
    name: str,
) -> Response | Callable[[], Response]:
    """The response, or a function that builds it (in the thread pool) when the page has not
    been rendered yet. The permission is the account's now, not the token's: a removed
    permission takes effect at once."""
    if endpoint is None or permission is None or endpoint.scope not in grant.scopes:
        scope = f"emis:{name}" if _SAFE_NAME.fullmatch(name) else None
        return BearerRefused(
            403, "insufficient_scope", "the token does not reach this resource", scope
        ).response(request)

    snapshot = api.snapshots.current()
    if snapshot is None:
        return json_error(
            request,
            503,
            "no_snapshot",
            "no report snapshot has been published yet; the nightly run publishes one",
            headers={"Retry-After": "300"},
        )
    try:
        page_request = decide(
            endpoint,
            permission,
            request.query_params.multi_items(),
            today=api.today(),
            accept=request.headers.get("accept"),
        )
    except InvalidParameters as invalid:
        return json_error(
            request,
            400,
            "invalid_request",
            "some parameters cannot be used; see details",
            details=[{"parameter": p.parameter, "problem": p.problem} for p in invalid.problems],
        )

    key = (endpoint.name, page_request)

    def respond(body: bytes, total: int) -> Response:
        headers = _headers(api, request, endpoint, page_request, total, snapshot)
        media_type = (
            "text/plain; charset=us-ascii" if page_request.format == "fixed" else "application/json"
        )
        return Response(body, media_type=media_type, headers=headers)

    cached = snapshot.rendered(key)
    if cached is not None:
        return respond(*cached)

    def build() -> Response:
        page = snapshot.page(endpoint, page_request)
        rendered = (_body(endpoint, page_request, page, snapshot), page.total)
        snapshot.keep_rendered(key, *rendered)
        return respond(*rendered)

    return build


def _body(
    endpoint: Endpoint, page_request: PageRequest, page: Page, snapshot: ServedSnapshot
) -> bytes:
    if page_request.format == "fixed":
        rows = _fixed_rows(endpoint, page_request, page.rows)
        return render(endpoint.layout, rows).encode("ascii")
    document = {
        "record": endpoint.layout.record,
        "total": page.total,
        "offset": page_request.offset,
        "limit": page_request.limit,
        "snapshot": snapshot.name,
        "records": [
            json_row(endpoint.layout, row, mark_unknown=page_request.replace_unknown)
            for row in page.rows
        ],
    }
    return orjson.dumps(document)


def _fixed_rows(
    endpoint: Endpoint, request: PageRequest, rows: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Fields Campus owns render as `@` only when the account asks for it; else blank."""
    if request.replace_unknown:
        return rows
    owned = [e.column for e in endpoint.layout.elements if e.owner == "sis"]
    return [{**row, **{c: "" for c in owned if row.get(c) is None}} for row in rows]


def _headers(
    api: ReportingApi,
    request: Request,
    endpoint: Endpoint,
    page_request: PageRequest,
    total: int,
    snapshot: ServedSnapshot,
) -> dict[str, str]:
    headers = {
        **NO_STORE,
        "X-Total-Count": str(total),
        "X-Snapshot": snapshot.name,
        "Vary": "Accept, Authorization",
    }
    if page_request.ignored:
        headers["X-Ignored-Parameters"] = ",".join(page_request.ignored)
    if page_request.clamped:
        headers["X-Limit-Clamped"] = str(page_request.limit)
    links = _links(api, request, endpoint, page_request, total)
    if links:
        headers["Link"] = ", ".join(f'<{url}>; rel="{rel}"' for rel, url in links)
    return headers


def _links(
    api: ReportingApi,
    request: Request,
    endpoint: Endpoint,
    page_request: PageRequest,
    total: int,
) -> list[tuple[str, str]]:
    """RFC 8288 links to the first, previous, next and last pages, at the public address."""
    limit, offset = page_request.limit, page_request.offset
    base = f"{api.settings.api.public_url.rstrip('/')}{BASE_PATH}/{endpoint.name}"
    # the caller's own parameters, limit included when it sent one, with the page's offset
    kept = [(k, v) for k, v in request.query_params.multi_items() if k != "offset"]

    def url(at: int) -> str:
        return f"{base}?{urlencode([*kept, ('offset', str(at))])}"

    last = max(0, (total - 1) // limit * limit)
    links = [("first", url(0))]
    if offset > 0:
        links.append(("prev", url(max(0, min(offset - limit, last)))))
    if offset + limit < total:
        links.append(("next", url(offset + limit)))
    links.append(("last", url(last)))
    return links


RECORD_ROUTES = [
    Route(f"{BASE_PATH}/{{name}}", records, methods=["GET"]),
    Route("/api/{name:path}", records, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
]
