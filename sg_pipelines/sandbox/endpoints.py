"""The OneRoster 1.2 rostering collections the sandbox serves, and how each is shaped."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sg_pipelines.sandbox.config import CORE_SCOPES, DEMOGRAPHICS_SCOPES
from sg_pipelines.sandbox.district import has_role

_COMMON = ("sourcedId", "status", "dateLastModified", "metadata")
FIELDS: dict[str, frozenset[str]] = {
    "users": frozenset(
        (*_COMMON, "userMasterIdentifier", "username", "userIds", "enabledUser", "givenName",
         "familyName", "middleName", "preferredFirstName", "preferredMiddleName",
         "preferredLastName", "pronouns", "roles", "userProfiles", "primaryOrg", "identifier",
         "email", "sms", "phone", "agents", "grades", "password", "resources")
    ),
    "orgs": frozenset((*_COMMON, "name", "type", "identifier", "parent", "children")),
    "academicSessions": frozenset(
        (*_COMMON, "title", "startDate", "endDate", "type", "parent", "children", "schoolYear")
    ),
    "classes": frozenset(
        (*_COMMON, "title", "classCode", "classType", "location", "grades", "subjects", "course",
         "school", "terms", "subjectCodes", "periods", "resources")
    ),
    "courses": frozenset(
        (*_COMMON, "title", "schoolYear", "courseCode", "grades", "subjects", "org",
         "subjectCodes", "resources")
    ),
    "demographics": frozenset(
        (*_COMMON, "birthDate", "sex", "americanIndianOrAlaskaNative", "asian",
         "blackOrAfricanAmerican", "nativeHawaiianOrOtherPacificIslander", "white",
         "demographicRaceTwoOrMoreRaces", "hispanicOrLatinoEthnicity", "countryOfBirthCode",
         "stateOfBirthAbbreviation", "cityOfBirth", "publicSchoolResidenceStatus")
    ),
    "enrollments": frozenset(
        (*_COMMON, "user", "class", "school", "role", "primary", "beginDate", "endDate")
    ),
}  # fmt: skip


@dataclass(frozen=True)
class Endpoint:
    """One collection path: where its records come from and how they are wrapped."""

    name: str
    collection: str
    plural_key: str
    singular_key: str
    scopes: frozenset[str]
    keep: Callable[[Mapping[str, Any]], bool] | None = None

    @property
    def fields(self) -> frozenset[str]:
        """Field names a request may select, sort or filter on."""
        return FIELDS[self.collection]


def _is_student(user: Mapping[str, Any]) -> bool:
    return has_role(user, "student")


def _is_teacher(user: Mapping[str, Any]) -> bool:
    return has_role(user, "teacher")


def _is_school(org: Mapping[str, Any]) -> bool:
    return org.get("type") == "school"


ENDPOINTS: dict[str, Endpoint] = {
    endpoint.name: endpoint
    for endpoint in (
        Endpoint("users", "users", "users", "user", CORE_SCOPES),
        Endpoint("students", "users", "users", "user", CORE_SCOPES, _is_student),
        Endpoint("teachers", "users", "users", "user", CORE_SCOPES, _is_teacher),
        Endpoint(
            "demographics", "demographics", "demographics", "demographics", DEMOGRAPHICS_SCOPES
        ),
        Endpoint("enrollments", "enrollments", "enrollments", "enrollment", CORE_SCOPES),
        Endpoint("orgs", "orgs", "orgs", "org", CORE_SCOPES),
        Endpoint("schools", "orgs", "orgs", "org", CORE_SCOPES, _is_school),
        Endpoint(
            "academicSessions",
            "academicSessions",
            "academicSessions",
            "academicSession",
            CORE_SCOPES,
        ),
        Endpoint("classes", "classes", "classes", "class", CORE_SCOPES),
        Endpoint("courses", "courses", "courses", "course", CORE_SCOPES),
    )
}
