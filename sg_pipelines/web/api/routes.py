"""The reporting API's routes: token, records, the OpenAPI document and the health check."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sg_pipelines.web.api.openapi import openapi
from sg_pipelines.web.api.records import RECORD_ROUTES
from sg_pipelines.web.api.service import ReportingApi
from sg_pipelines.web.api.token import token


async def healthz(request: Request) -> Response:
    """`GET /healthz`: liveness, and which report snapshot the API serves (no `snapshot` key
    before the first publish)."""
    api: ReportingApi = request.app.state.api
    snapshot = await run_in_threadpool(api.snapshots.current)
    body: dict[str, object] = {"status": "ok"}
    if snapshot is not None:
        body["snapshot"] = snapshot.describe()
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


API_ROUTES = [
    Route("/oauth/token", token, methods=["POST"]),
    Route("/openapi.json", openapi, methods=["GET"]),
    *RECORD_ROUTES,
]
