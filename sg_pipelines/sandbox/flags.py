"""The partner-only Campus program-flags endpoint, as docs/campus-flags-api.md writes it down.

State lives in memory (`FlagsState`), shared with the test or demo that started the sandbox:
read it as `sandbox.flags` in-process or `GET /sandbox/flags` over HTTP, and add flags "entered
by hand" or by another vendor with `add_program`/`add_participation` (or `POST /sandbox/flags`).
Faults reuse the sandbox's `Faults` under the names `programs`, `participations` (GETs) and
`programs.put`, `participations.put` (PUTs), e.g. `sandbox.faults.fail("participations.put",
500, request=3)` fails the third participation PUT.
"""

from __future__ import annotations

import asyncio
import secrets
import threading
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sg_pipelines.sandbox.district import District, format_instant, has_role
from sg_pipelines.sandbox.faults import Faults, PageFault
from sg_pipelines.sandbox.imsx import OneRosterError, failure_response
from sg_pipelines.sandbox.query import parse_paging
from sg_pipelines.settings import SANDBOX_VENDOR_SECRET, CampusFlagsSettings

FLAGS_ROOT = "/ims/oneroster/v1p2"
VENDOR_HEADER = "x-vendor-authorization"
SANDBOX_VENDOR_KEY = CampusFlagsSettings().vendor_key


@dataclass
class SandboxProgram:
    """A program flag from Campus Flags Setup."""

    sourced_id: str
    name: str
    special_ed: bool = True
    active: bool = True
    created_by: str | None = None
    date_last_modified: datetime = field(default_factory=lambda: datetime.now(UTC))

    def as_json(self) -> dict[str, Any]:
        return {
            "sourcedId": self.sourced_id,
            "dateLastModified": format_instant(self.date_last_modified),
            "name": self.name,
            "specialEd": self.special_ed,
            "active": self.active,
            "flagged": True,
            "createdBy": self.created_by,
        }


@dataclass
class SandboxParticipation:
    """One student's participation in a program: the flag Campus shows in the student header."""

    sourced_id: str
    program_id: str
    student_sourced_id: str
    start_date: date
    end_date: date | None = None
    created_by: str | None = None
    date_last_modified: datetime = field(default_factory=lambda: datetime.now(UTC))

    def as_json(self) -> dict[str, Any]:
        return {
            "sourcedId": self.sourced_id,
            "dateLastModified": format_instant(self.date_last_modified),
            "program": {"sourcedId": self.program_id},
            "student": {"sourcedId": self.student_sourced_id},
            "startDate": self.start_date.isoformat(),
            "endDate": self.end_date.isoformat() if self.end_date else None,
            "createdBy": self.created_by,
        }


class FlagsState:
    """The sandbox's program flags and participations, and the one vendor it accepts.

    Attributes:
        puts: participation PUTs that changed or created something (not counting repeats).
    """

    def __init__(
        self, vendor_key: str = SANDBOX_VENDOR_KEY, vendor_secret: str = SANDBOX_VENDOR_SECRET
    ) -> None:
        self.vendor_key = vendor_key
        self.vendor_secret = vendor_secret
        self._lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        with self._lock:
            self.programs: dict[str, SandboxProgram] = {}
            self.participations: dict[str, SandboxParticipation] = {}
            self.puts = 0

    # set up by hand (tests, demo)

    def add_program(
        self,
        name: str,
        *,
        special_ed: bool = True,
        active: bool = True,
        created_by: str | None = None,
        sourced_id: str | None = None,
    ) -> SandboxProgram:
        """A flag created in Campus Flags Setup (by hand unless `created_by` names a vendor)."""
        program = SandboxProgram(
            sourced_id or f"program-{secrets.token_hex(6)}", name, special_ed, active, created_by
        )
        with self._lock:
            self.programs[program.sourced_id] = program
        return program

    def add_participation(
        self,
        program_id: str,
        student_sourced_id: str,
        start_date: date,
        end_date: date | None = None,
        *,
        created_by: str | None = None,
        sourced_id: str | None = None,
    ) -> SandboxParticipation:
        """A flag set on a student by hand (or by another vendor when `created_by` says so)."""
        if program_id not in self.programs:
            raise KeyError("no such program flag")
        participation = SandboxParticipation(
            sourced_id or f"participation-{secrets.token_hex(8)}",
            program_id,
            student_sourced_id,
            start_date,
            end_date,
            created_by,
        )
        with self._lock:
            self.participations[participation.sourced_id] = participation
        return participation

    # reading

    def program_named(self, name: str) -> SandboxProgram | None:
        with self._lock:
            return next(
                (p for p in self.programs.values() if p.name.casefold() == name.casefold()), None
            )

    def participations_of(self, program_id: str) -> list[SandboxParticipation]:
        """The program's participations, in sourcedId order (the paging order)."""
        with self._lock:
            found = [p for p in self.participations.values() if p.program_id == program_id]
        return sorted(found, key=lambda p: p.sourced_id)

    def as_dict(self) -> dict[str, Any]:
        """Everything, as `GET /sandbox/flags` shows it."""
        with self._lock:
            return {
                "programs": [p.as_json() for p in self.programs.values()],
                "participations": [p.as_json() for p in self.participations.values()],
                "puts": self.puts,
            }

    # the API's writes

    def put_program(self, sourced_id: str, body: ProgramBody, vendor: str) -> tuple[int, Any]:
        with self._lock:
            existing = self.programs.get(sourced_id)
            clash = next(
                (
                    p
                    for p in self.programs.values()
                    if p.name.casefold() == body.name.casefold() and p.sourced_id != sourced_id
                ),
                None,
            )
            if clash is not None:
                raise OneRosterError(409, "A program flag with that name exists.", "invaliddata")
            if existing is not None and existing.created_by != vendor:
                raise OneRosterError(
                    403, "This program flag was not created by this vendor.", "forbidden"
                )
            program = SandboxProgram(sourced_id, body.name, body.special_ed, body.active, vendor)
            if existing is not None and _same_program(existing, program):
                return 200, existing
            self.programs[sourced_id] = program
            return (200 if existing else 201), program

    def put_participation(
        self, program_id: str, sourced_id: str, body: ParticipationBody, vendor: str
    ) -> tuple[int, SandboxParticipation]:
        with self._lock:
            existing = self.participations.get(sourced_id)
            if existing is not None and existing.created_by != vendor:
                raise OneRosterError(
                    403, "This participation was not created by this vendor.", "forbidden"
                )
            if existing is not None and (
                existing.program_id != program_id
                or existing.student_sourced_id != body.student.sourced_id
            ):
                raise OneRosterError(
                    409,
                    "The participation id belongs to another program or student.",
                    "invaliddata",
                )
            if existing is not None:
                if (existing.start_date, existing.end_date) == (body.start_date, body.end_date):
                    return 200, existing
                updated = replace(
                    existing,
                    start_date=body.start_date,
                    end_date=body.end_date,
                    date_last_modified=datetime.now(UTC),
                )
                self.participations[sourced_id] = updated
                self.puts += 1
                return 200, updated
            created = SandboxParticipation(
                sourced_id,
                program_id,
                body.student.sourced_id,
                body.start_date,
                body.end_date,
                vendor,
            )
            self.participations[sourced_id] = created
            self.puts += 1
            return 201, created


def _same_program(a: SandboxProgram, b: SandboxProgram) -> bool:
    return (a.name, a.special_ed, a.active) == (b.name, b.special_ed, b.active)


# request bodies


class _Ref(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    sourced_id: str = Field(alias="sourcedId", min_length=1, max_length=256)


class ProgramBody(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    name: str = Field(min_length=1, max_length=100)
    special_ed: bool = Field(default=True, alias="specialEd")
    active: bool = True


class ParticipationBody(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    student: _Ref
    start_date: date = Field(alias="startDate")
    end_date: date | None = Field(default=None, alias="endDate")


# handlers


def _authorise(request: Request) -> str:
    """The vendor key of a request with a valid bearer token and vendor header, or a 401."""
    request.app.state.tokens.authenticate(request)
    flags: FlagsState = request.app.state.flags
    key, sep, secret = request.headers.get(VENDOR_HEADER, "").partition(":")
    if not (
        sep
        and secrets.compare_digest(key.encode(), flags.vendor_key.encode())
        and secrets.compare_digest(secret.encode(), flags.vendor_secret.encode())
    ):
        raise OneRosterError(
            401,
            f"A valid {VENDOR_HEADER} header (vendorKey:vendorSecret) is required.",
            "unauthorisedrequest",
        )
    return key


async def _fault_response(faults: Faults, name: str, offset: int = 0) -> Response | None:
    """Apply the delays and the first failing status of the fault rules that fire on `name`."""
    fired: list[PageFault] = faults.take(name, offset)
    for rule in fired:
        if rule.delay:
            await asyncio.sleep(rule.delay)
    for rule in fired:
        if rule.status is not None:
            headers = {}
            if rule.retry_after is not None:
                headers["Retry-After"] = str(rule.retry_after).removesuffix(".0")
            return failure_response(
                rule.status, "The server could not answer; retry later.", headers=headers
            )
    return None


async def _body(request: Request, model: type[BaseModel], key: str) -> Any:
    try:
        payload = await request.json()
        return model.model_validate(payload[key])
    except (ValueError, KeyError, TypeError, ValidationError) as exc:
        reason = "the body is not JSON" if isinstance(exc, ValueError) else "it is malformed"
        if isinstance(exc, ValidationError):
            fields = sorted({".".join(str(p) for p in e["loc"]) for e in exc.errors()})
            reason = f"invalid fields: {', '.join(fields)}"
        raise OneRosterError(422, f"The {key} cannot be read: {reason}.", "invaliddata") from None


def _page(request: Request, items: list[dict[str, Any]], key: str) -> Response:
    paging = parse_paging(request.query_params, request.app.state.config)
    page = items[paging.offset : paging.offset + paging.limit]
    headers = {"X-Total-Count": str(len(items))}
    if paging.offset + paging.limit < len(items):
        url = request.url.include_query_params(
            limit=paging.limit, offset=paging.offset + paging.limit
        )
        headers["Link"] = f'<{url}>; rel="next"'
    return JSONResponse({key: page}, headers=headers)


def _program(request: Request) -> SandboxProgram:
    flags: FlagsState = request.app.state.flags
    program = flags.programs.get(request.path_params["program_id"])
    if program is None:
        raise OneRosterError(404, "No such program.", "unknownobject")
    return program


async def list_programs(request: Request) -> Response:
    """`GET /programs`: every program flag, with `specialEd` and `active`."""
    _authorise(request)
    fault = await _fault_response(request.app.state.faults, "programs")
    if fault is not None:
        return fault
    flags: FlagsState = request.app.state.flags
    items = [p.as_json() for p in sorted(flags.programs.values(), key=lambda p: p.sourced_id)]
    return _page(request, items, "programs")


async def put_program(request: Request) -> Response:
    """`PUT /programs/{id}`: create (201) or restate (200) a program flag this vendor owns."""
    vendor = _authorise(request)
    fault = await _fault_response(request.app.state.faults, "programs.put")
    if fault is not None:
        return fault
    body = await _body(request, ProgramBody, "program")
    flags: FlagsState = request.app.state.flags
    status, program = flags.put_program(request.path_params["program_id"], body, vendor)
    return JSONResponse({"program": program.as_json()}, status_code=status)


async def list_participations(request: Request) -> Response:
    """`GET /programs/{id}/participations`: the program's participations, paged."""
    _authorise(request)
    program = _program(request)
    paging = parse_paging(request.query_params, request.app.state.config)
    fault = await _fault_response(request.app.state.faults, "participations", paging.offset)
    if fault is not None:
        return fault
    flags: FlagsState = request.app.state.flags
    items = [p.as_json() for p in flags.participations_of(program.sourced_id)]
    return _page(request, items, "participations")


async def put_participation(request: Request) -> Response:
    """`PUT /programs/{id}/participations/{id}`: set, move or end a flag this vendor owns."""
    vendor = _authorise(request)
    program = _program(request)
    fault = await _fault_response(request.app.state.faults, "participations.put")
    if fault is not None:
        return fault
    body: ParticipationBody = await _body(request, ParticipationBody, "participation")

    if not (program.special_ed and program.active):
        raise OneRosterError(
            403, "The program flag is not active or not marked Special Ed.", "forbidden"
        )
    if body.end_date is not None and body.end_date < body.start_date:
        raise OneRosterError(422, "endDate is before startDate.", "invaliddata")
    district: District = request.app.state.district
    student = district.get("users", body.student.sourced_id)
    if student is None or not has_role(student, "student"):
        raise OneRosterError(422, "The student is unknown.", "invaliddata")

    flags: FlagsState = request.app.state.flags
    status, participation = flags.put_participation(
        program.sourced_id, request.path_params["participation_id"], body, vendor
    )
    return JSONResponse({"participation": participation.as_json()}, status_code=status)


# sandbox control (no token), see the module docstring


class _HandMadeParticipation(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    program: str
    student: str
    start_date: date = Field(alias="startDate")
    end_date: date | None = Field(default=None, alias="endDate")
    created_by: str | None = Field(default=None, alias="createdBy")


class _HandMadeProgram(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    name: str
    special_ed: bool = Field(default=True, alias="specialEd")
    active: bool = True
    created_by: str | None = Field(default=None, alias="createdBy")


class _HandMade(BaseModel):
    model_config = ConfigDict(extra="forbid")
    programs: list[_HandMadeProgram] = Field(default_factory=list)
    participations: list[_HandMadeParticipation] = Field(default_factory=list)


async def flags_control(request: Request) -> Response:
    """`GET` shows the state, `POST` adds flags made by hand (programs by name), `DELETE` clears."""
    flags: FlagsState = request.app.state.flags
    if request.method == "DELETE":
        flags.clear()
    elif request.method == "POST":
        try:
            body = _HandMade.model_validate(await request.json())
        except (ValueError, ValidationError) as exc:
            return failure_response(422, f"Invalid flags: {exc}"[:2000], "invaliddata")
        for program in body.programs:
            flags.add_program(
                program.name,
                special_ed=program.special_ed,
                active=program.active,
                created_by=program.created_by,
            )
        for item in body.participations:
            target = flags.program_named(item.program)
            if target is None:
                return failure_response(404, "No program flag of that name.", "unknownobject")
            flags.add_participation(
                target.sourced_id,
                item.student,
                item.start_date,
                item.end_date,
                created_by=item.created_by,
            )
    return JSONResponse(flags.as_dict())


FLAG_ROUTES = [
    Route(f"{FLAGS_ROOT}/programs", list_programs, methods=["GET"]),
    Route(f"{FLAGS_ROOT}/programs/{{program_id}}", put_program, methods=["PUT"]),
    Route(
        f"{FLAGS_ROOT}/programs/{{program_id}}/participations",
        list_participations,
        methods=["GET"],
    ),
    Route(
        f"{FLAGS_ROOT}/programs/{{program_id}}/participations/{{participation_id}}",
        put_participation,
        methods=["PUT"],
    ),
    Route("/sandbox/flags", flags_control, methods=["GET", "POST", "DELETE"]),
]
