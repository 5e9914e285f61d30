"""`GET /view/{token}`: the student's most recent completed plan for the launched program.

The token in the URL is opaque and short-lived; it stands for (student, program, user) in the
app database and never reveals them. Each request checks again that the district owns the
student through the launch's deployment (a student who left, or a deployment narrowed or
removed, ends the view with a 403), renders the plan afresh, so a plan completed after the
launch shows on reload, and is audited with its result.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sg_pipelines.appdb.records import PlanDocument, PlanStudent
from sg_pipelines.programs.documents import DOCUMENT_TITLES
from sg_pipelines.settings import PROGRAM_NAMES
from sg_pipelines.web.lti.access import AccessDenied, check_district_owns
from sg_pipelines.web.lti.tool import LtiTool, secret_hash
from sg_pipelines.web.views.pages import message_page, render

# the plan's sections in reading order, with their headings; other sections follow by name
SECTION_TITLES = {
    "present_levels": "Present levels of performance",
    "goals": "Goals",
    "services": "Services",
    "accommodations": "Accommodations",
    "team": "Team",
}
MAX_TOKEN_LENGTH = 128
CODE = re.compile(r"^[a-z0-9]+(_[a-z0-9]+)+$")


@dataclass(frozen=True)
class Column:
    key: str
    title: str


@dataclass(frozen=True)
class Section:
    title: str
    kind: str  # text, list or table
    value: Any
    columns: tuple[Column, ...] = ()


def _heading(name: str) -> str:
    return SECTION_TITLES.get(name) or name.replace("_", " ").capitalize()


def _words(value: Any) -> str:
    """Coded list values (`extended_time`) read as words; free text stays as written."""
    text = str(value)
    return text.replace("_", " ") if CODE.match(text) else text


def _section(name: str, value: Any) -> Section | None:
    """A plan section as the template shows it: text, a list, or a table of records."""
    title = _heading(name)
    if value in (None, "", [], {}):
        return None
    if isinstance(value, list) and all(isinstance(item, dict) for item in value):
        keys = list(dict.fromkeys(key for item in value for key in item))
        columns = tuple(Column(key, _heading(key)) for key in keys)
        return Section(title, "table", value, columns)
    if isinstance(value, list):
        return Section(title, "list", [_words(item) for item in value])
    if isinstance(value, dict):
        return Section(title, "list", [f"{_heading(k)}: {v}" for k, v in value.items()])
    return Section(title, "text", str(value))


def plan_sections(sections: dict[str, Any]) -> list[Section]:
    ordered = [name for name in SECTION_TITLES if name in sections]
    ordered += sorted(name for name in sections if name not in SECTION_TITLES)
    return [section for name in ordered if (section := _section(name, sections[name]))]


def _day(value: date | None) -> str:
    return f"{value:%B} {value.day}, {value.year}" if value else "not recorded"


def _student_name(student: PlanStudent) -> str:
    return f"{student.first_name} {student.last_name}"


def plan_context(
    student: PlanStudent, document: PlanDocument, program: str, timezone: str = "America/New_York"
) -> dict[str, Any]:
    """What `plan.html` shows for one document; days are the district's (`timezone`)."""
    effective = _day(document.effective_start)
    if document.effective_end:
        effective += f" to {_day(document.effective_end)}"
    return {
        "title": f"{DOCUMENT_TITLES.get(document.document_type, 'Plan')}: {_student_name(student)}",
        "program_name": PROGRAM_NAMES.get(program, program),
        "document_title": DOCUMENT_TITLES.get(document.document_type, document.document_type),
        "student_name": _student_name(student),
        "school": f"Building IRN {student.building_irn}"
        if student.building_irn
        else "not recorded",
        "grade": student.grade,
        "meeting_date": _day(document.meeting_date),
        "effective": effective,
        "completed": _day(_district_day(document.completed_at, timezone)),
        "sections": plan_sections(document.sections),
        "viewed_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def _district_day(instant: datetime | None, timezone: str) -> date | None:
    """The day an instant falls on in the district: a plan locked at 21:00 in New York was
    completed that day, not the next one as in UTC."""
    if instant is None:
        return None
    aware = instant if instant.tzinfo else instant.replace(tzinfo=UTC)
    return aware.astimezone(ZoneInfo(timezone)).date()


async def view_plan(request: Request) -> Response:
    tool: LtiTool = request.app.state.lti
    return await run_in_threadpool(_view, tool, request.path_params["token"])


def _view(tool: LtiTool, token: str) -> Response:
    store = tool.store
    grant = None
    if len(token) <= MAX_TOKEN_LENGTH:
        grant = store.view_grant(secret_hash(token), tool.clock())
    if grant is None:
        return message_page("view_expired", tool.frame_origins())
    registration = store.registration_by_id(grant.registration_id)
    student = tool.database.student(grant.student_id)
    if registration is None or student is None:
        return message_page("view_expired", tool.frame_origins())

    origins = [registration.frame_origin]
    audit = {
        "registration_id": grant.registration_id,
        "deployment_id": grant.deployment_id,
        "user_sub": grant.user_sub,
        "student_id": grant.student_id,
        "program": grant.program,
    }

    # the district must still own the student through this deployment, not only at the launch
    try:
        check_district_owns(student, registration.deployment(grant.deployment_id))
    except AccessDenied as denied:
        store.record_view(f"denied:{denied.reason}", **audit)
        return message_page("forbidden", origins)
    document = tool.database.documents.latest_completed(student.id, grant.program)
    if document is None:
        store.record_view("no_plan", **audit)
        return render(
            "no_plan.html",
            200,
            origins,
            title="No completed plan",
            student_name=_student_name(student),
            program_name=PROGRAM_NAMES.get(grant.program, grant.program),
        )

    store.record_view("shown", document_id=document.id, **audit)
    return render(
        "plan.html",
        200,
        origins,
        **plan_context(student, document, grant.program, tool.settings.timezone),
    )


VIEW_ROUTES = [Route("/view/{token}", view_plan, methods=["GET"])]
