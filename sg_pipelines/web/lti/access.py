"""Who may see what: the student and program a validated launch asks for, and whether the
launching user may see that plan.

The student and the program arrive in platform-signed custom claims (names in `LtiSettings`).
A student value must be a GUID (a Campus `sourcedId`); an unsubstituted variable such as
`$Person.sourcedId` or anything else is refused as a misconfigured launch. The user must hold a
staff role, and the deployment's district must own the student: the student is an active
student of this district's app database and, for a school-level deployment, attends one of its
buildings. Every refusal of that kind is the same `AccessDenied`, so the answer never tells
whether the student exists.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from sg_pipelines.appdb.gateway import AppDatabase
from sg_pipelines.appdb.lti import Deployment
from sg_pipelines.appdb.records import PlanStudent
from sg_pipelines.settings import PROGRAM_KEYS, Settings
from sg_pipelines.web.lti.config import LIS, LtiSettings
from sg_pipelines.web.lti.validation import LaunchClaims

GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

# LTI 1.1-style short role names that certification still sends (cert §6.1.2 "short role")
SHORT_ROLES = {
    "Instructor": f"{LIS}/membership#Instructor",
    "Administrator": f"{LIS}/membership#Administrator",
}


class LaunchMisconfigured(Exception):
    """The launch lacks a usable student or program claim: the platform's link needs fixing."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class AccessDenied(Exception):
    """The user may not see this plan; the reason is for the audit, never for the page."""

    def __init__(self, reason: str, student_id: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.student_id = student_id


def program_key(value: str, settings: Settings) -> str | None:
    """Our program key for a claim value: a key, or a program's Campus flag name (any case)."""
    wanted = value.strip().casefold()
    for key in PROGRAM_KEYS:
        program = settings.programs[key]
        if wanted in (key, (program.flag_name or "").casefold()):
            return key
    return None


def requested_plan(
    custom: Mapping[str, object], lti: LtiSettings, settings: Settings
) -> tuple[str, str]:
    """The (student sourcedId, program key) a launch asks for; raise LaunchMisconfigured."""
    student = custom.get(lti.student_claim)
    if not isinstance(student, str) or not GUID.match(student.strip()):
        # an unsubstituted "$User.id"-style variable lands here too: it is not a GUID
        raise LaunchMisconfigured("student_claim_not_a_guid")

    program = custom.get(lti.program_claim)
    if not isinstance(program, str) or program.startswith("$"):
        raise LaunchMisconfigured("program_claim_missing")
    key = program_key(program, settings)
    if key is None:
        raise LaunchMisconfigured("program_claim_unknown")
    return student.strip(), key


def is_staff(roles: tuple[str, ...], lti: LtiSettings) -> bool:
    staff = set(lti.staff_roles)
    return any(SHORT_ROLES.get(role, role) in staff for role in roles)


def check_district_owns(student: PlanStudent | None, deployment: Deployment | None) -> None:
    """Raise AccessDenied unless the deployment (still) covers this active student.

    Checked at the launch and again on every view: a student who left, a deployment narrowed
    to other buildings or removed, ends the open views at once.
    """
    if student is None or not student.active:
        raise AccessDenied("student_not_in_district")
    if deployment is None or not deployment.covers(student.building_irn):
        raise AccessDenied("student_outside_deployment", student.id)


def authorise(
    claims: LaunchClaims,
    database: AppDatabase,
    lti: LtiSettings,
    settings: Settings,
) -> tuple[PlanStudent, str]:
    """The student and program this user may see; raise LaunchMisconfigured or AccessDenied."""
    sourced_id, program = requested_plan(claims.custom, lti, settings)
    if not is_staff(claims.roles, lti):
        raise AccessDenied("not_staff")

    # GUIDs compare without regard to case; the app database keeps Campus's spelling
    student = None
    for spelling in dict.fromkeys((sourced_id, sourced_id.lower(), sourced_id.upper())):
        student = student or database.find_by_internal_sis_id(spelling)
    check_district_owns(student, claims.deployment)
    return student, program
