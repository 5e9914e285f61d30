"""The sandbox's own control endpoints under `/sandbox/`, for a sandbox in another process.

None of these need a token, and none is logged in the request log. See docs/sandbox.md.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sg_pipelines.sandbox.district import COLLECTIONS, District
from sg_pipelines.sandbox.faults import Faults
from sg_pipelines.sandbox.imsx import OneRosterError, failure_response
from sg_pipelines.sandbox.request_log import RequestLog


class RecordChange(BaseModel):
    """One change to the district, as `POST /sandbox/records` takes it."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    op: Literal["add", "update", "touch", "tobedeleted", "remove"]
    collection: Literal[COLLECTIONS]  # type: ignore[valid-type]
    sourced_id: str | None = Field(default=None, alias="sourcedId")
    fields: dict[str, Any] = Field(default_factory=dict)
    record: dict[str, Any] | None = None
    when: datetime | None = None


class RecordChanges(BaseModel):
    """The body of `POST /sandbox/records`."""

    model_config = ConfigDict(extra="forbid")

    changes: list[RecordChange]


def apply_change(district: District, change: RecordChange) -> dict[str, Any]:
    """Apply one change through the District's methods; returns the resulting record."""
    name, when = change.collection, change.when
    if change.op == "add":
        if not change.record or "sourcedId" not in change.record:
            raise OneRosterError(422, "add needs a record with a sourcedId.", "invaliddata")
        if district.get(name, change.record["sourcedId"]) is not None:
            raise OneRosterError(422, "A record with that sourcedId exists.", "invaliddata")
        return district.add(name, change.record, when=when)

    sourced_id = change.sourced_id or ""
    if district.get(name, sourced_id) is None:
        raise OneRosterError(404, f"Unknown object {sourced_id[:80]!r}.", "unknownobject")
    if change.op == "remove":
        return district.remove(name, sourced_id)
    if change.op == "tobedeleted":
        return district.mark_tobedeleted(name, sourced_id, when=when)
    return district.update(name, sourced_id, change.fields, when=when)


async def health(request: Request) -> Response:
    """`GET /sandbox/health`: readiness, with record counts."""
    district: District = request.app.state.district
    return JSONResponse({"status": "ok", "counts": {c: district.count(c) for c in district}})


async def faults_control(request: Request) -> Response:
    """`GET` shows, `POST` applies (JSON switches, rules appended), `DELETE` clears the faults."""
    faults: Faults = request.app.state.faults
    if request.method == "DELETE":
        faults.clear()
    elif request.method == "POST":
        try:
            faults.apply(await request.json())
        except (ValueError, ValidationError) as exc:
            return failure_response(422, f"Invalid fault switches: {exc}"[:2000], "invaliddata")
    return JSONResponse(faults.as_dict())


async def requests_control(request: Request) -> Response:
    """`GET` shows the request log (with max concurrency), `DELETE` clears it."""
    log: RequestLog = request.app.state.request_log
    if request.method == "DELETE":
        log.clear()
    return JSONResponse(log.as_dict())


async def records_control(request: Request) -> Response:
    """`POST {"changes": [...]}`: change records in place, in order; returns the results."""
    district: District = request.app.state.district
    try:
        body = RecordChanges.model_validate(await request.json())
    except (ValueError, ValidationError) as exc:
        return failure_response(422, f"Invalid changes: {exc}"[:2000], "invaliddata")

    def apply_all() -> list[dict[str, Any]]:
        return [apply_change(district, change) for change in body.changes]

    records = await run_in_threadpool(apply_all)
    return JSONResponse({"applied": len(records), "records": records})


CONTROL_ROUTES = [
    Route("/sandbox/health", health, methods=["GET"]),
    Route("/sandbox/faults", faults_control, methods=["GET", "POST", "DELETE"]),
    Route("/sandbox/requests", requests_control, methods=["GET", "DELETE"]),
    Route("/sandbox/records", records_control, methods=["POST"]),
]
