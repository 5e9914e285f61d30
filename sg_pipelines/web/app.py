"""The web side-app (Starlette): `GET /healthz`, the retired outline-link viewer, the LTI 1.3
tool with its plan view (`sg_pipelines/web/lti/`, `sg_pipelines/web/views/`), and the reporting
API with the data-export acceptance pages (`sg_pipelines/web/api/`, `sg_pipelines/web/exports/`).

Turning the demographics integration on retires the old outline-link document viewer. Links
staff bookmarked or pasted into Campus still arrive at `/outline/{token}`; they answer
410 Gone with a page that says where plans open now, never a 404. The old token is neither
checked nor logged: the page is the same for every link and names no student.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from sg_pipelines.settings import Settings, load_settings
from sg_pipelines.web.api import API_ROUTES, CorrelationMiddleware, ReportingApi, redact_access_log
from sg_pipelines.web.api.routes import healthz
from sg_pipelines.web.exports import ACCEPT_ROUTES
from sg_pipelines.web.lti import LTI_ROUTES, LtiSettings, LtiTool, load_lti_settings
from sg_pipelines.web.views.plan import VIEW_ROUTES

OUTLINE_MOVED_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>This plan viewer has moved</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 40rem; margin: 4rem auto; padding: 0 1rem;
       line-height: 1.5; color: #1d2733; }
h1 { font-size: 1.5rem; }
</style>
</head>
<body>
<main>
<h1>This plan viewer has moved</h1>
<p>Links to plan outlines no longer open plans. Plans now open from the student's program flag
in Infinite Campus.</p>
<ol>
<li>Open the student in Campus.</li>
<li>Click the program's flag in the student header (for example "Special Education" or
"Section 504").</li>
<li>The most recent completed plan for that program opens in a secure view.</li>
</ol>
<p>If the flag is missing, ask your district's integration contact.</p>
</main>
</body>
</html>
"""

# the page is the same for every link; nothing about the old link may travel onwards
NO_TRACE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
}


async def outline_moved(request: Request) -> Response:
    """`GET /outline/{token}`: 410 Gone, with the page that says plans open from the flag."""
    return HTMLResponse(OUTLINE_MOVED_PAGE, status_code=410, headers=NO_TRACE_HEADERS)


def create_app(
    settings: Settings | None = None,
    lti: LtiSettings | None = None,
    *,
    http: httpx.Client | None = None,
    clock: Callable[[], float] = time.time,
) -> Starlette:
    """The side-app. Routes are added here as the token, reporting and LTI parts arrive.

    Args:
        settings: the district's settings (`load_settings()` if omitted).
        lti: the LTI tool's settings (`load_lti_settings()`: defaults plus `SG_LTI__*`).
        http: the client that fetches platform key sets (tests pass their own).
        clock: wall-clock seconds for token times (tests move it).
    """
    settings = settings or load_settings()
    app = Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/outline", outline_moved, methods=["GET", "HEAD"]),
            Route("/outline/{token:path}", outline_moved, methods=["GET", "HEAD"]),
            *LTI_ROUTES,
            *VIEW_ROUTES,
            *API_ROUTES,
            *ACCEPT_ROUTES,
        ],
        middleware=[Middleware(CorrelationMiddleware)],
    )
    app.state.lti = LtiTool(settings, lti or load_lti_settings(), http=http, clock=clock)
    app.state.api = ReportingApi(settings, clock=clock)
    redact_access_log()
    return app
