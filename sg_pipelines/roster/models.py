"""OneRoster 1.2 records as they arrive, validated at the edge.

Providers deviate from the spec in known ways, and each deviation is accepted here once:
booleans as `"true"`, `true` or `"TRUE"`; both spellings of the preferred names; Ed-Fi's
capitalised `sex`; `null` where a list is expected; numbers where strings are expected.
What cannot be trusted is not guessed: a date that is not ISO `YYYY-MM-DD` becomes null with a
row warning (never a swapped month and day), and a record without a `sourcedId` is quarantined.

Each model turns itself into one staging row (`row`), in the column order of its collection.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field, PlainValidator

Warn = Callable[[str, str], None]
"""Records a row warning: `warn(field, reason)`. Reasons never carry the offending value."""

ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
EMIS_STUDENT_ID_LENGTH = 9


def parse_flag(value: Any) -> bool | None:
    """OneRoster booleans: JSON booleans or the strings true/false in any case; "" is null."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        if text == "true":
            return True
        if text == "false":
            return False
        if text == "":
            return None
    raise ValueError("expected true or false")


def parse_status(value: Any) -> str:
    """`active` or `tobedeleted`; 1.1's `inactive` means `tobedeleted` (OneRoster 1.2 spec)."""
    text = value.strip().lower() if isinstance(value, str) else None
    if text == "active":
        return "active"
    if text in ("tobedeleted", "inactive"):
        return "tobedeleted"
    raise ValueError("status must be active or tobedeleted")


def parse_instant(value: Any) -> datetime | None:
    """`dateLastModified` as a UTC-aware datetime; offsets are converted, naive means UTC."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError("expected an ISO 8601 date-time")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        # never the library's message: it quotes the value, and reasons must carry none
        raise ValueError("expected an ISO 8601 date-time") from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def strict_date(value: Any, field: str, warn: Warn) -> str | None:
    """An ISO `YYYY-MM-DD` date, or null plus a warning; other formats are never reinterpreted.

    Any other value, a number, a boolean or an object included, is only a bad date: the record
    still imports.
    """
    if value is None or value == "":
        return None
    if isinstance(value, str) and ISO_DATE.fullmatch(value):
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            pass
    warn(field, "not an ISO YYYY-MM-DD date; stored as null")
    return None


def normalise_emis_student_id(value: Any, warn: Warn) -> str | None:
    """EMIS Student ID as 9 characters with leading zeros; anything but up to 9 digits is null."""
    if value is None or value == "":
        return None
    text = str(value).strip() if isinstance(value, str | int) else ""
    if text.isascii() and text.isdigit() and len(text) <= EMIS_STUDENT_ID_LENGTH:
        return text.zfill(EMIS_STUDENT_ID_LENGTH)
    warn("emisStudentId", "not up to 9 digits; stored as null")
    return None


def _ref_id(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value or None
    if isinstance(value, dict):
        sourced_id = value.get("sourcedId")
        return str(sourced_id) if sourced_id not in (None, "") else None
    raise ValueError("expected a GUID reference object")


def _required_ref_id(value: Any) -> str:
    ref = _ref_id(value)
    if ref is None:
        raise ValueError("a GUID reference with a sourcedId is required")
    return ref


def _ref_ids(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError("expected a list of GUID references")
    return [ref for ref in map(_ref_id, value) if ref]


def _strings(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if not isinstance(value, list):
        raise ValueError("expected a list of strings")
    return [str(item) for item in value if item not in (None, "")]


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) and value else value


Flag = Annotated[bool | None, PlainValidator(parse_flag)]
Status = Annotated[Literal["active", "tobedeleted"], PlainValidator(parse_status)]
Instant = Annotated[datetime | None, PlainValidator(parse_instant)]
Ref = Annotated[str | None, PlainValidator(_ref_id)]
RequiredRef = Annotated[str, PlainValidator(_required_ref_id)]
RefList = Annotated[list[str], PlainValidator(_ref_ids)]
Strings = Annotated[list[str], PlainValidator(_strings)]
LowerText = Annotated[str | None, BeforeValidator(_lower)]
# a date field as sent; `row` reads it with `strict_date`, so a bad one never rejects the record
DateText = Any


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, separators=(",", ":"))


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


class OneRosterRecord(BaseModel):
    """Fields every OneRoster 1.2 object carries."""

    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True, frozen=True)

    sourcedId: str = Field(min_length=1)
    status: Status = "active"
    dateLastModified: Instant = None

    columns: ClassVar[tuple[str, ...]] = ("sourced_id", "status", "date_last_modified")

    def common(self) -> tuple[Any, ...]:
        return (self.sourcedId, self.status, _iso(self.dateLastModified))

    def row(self, warn: Warn) -> tuple[Any, ...]:
        raise NotImplementedError


class User(OneRosterRecord):
    enabledUser: Flag = None
    givenName: str | None = None
    familyName: str | None = None
    middleName: str | None = None
    preferredFirstName: str | None = Field(
        default=None, validation_alias=AliasChoices("preferredFirstName", "preferredGivenName")
    )
    preferredMiddleName: str | None = None
    preferredLastName: str | None = Field(
        default=None, validation_alias=AliasChoices("preferredLastName", "preferredFamilyName")
    )
    username: str | None = None
    identifier: str | None = None
    email: str | None = None
    sms: str | None = None
    phone: str | None = None
    userMasterIdentifier: str | None = None
    roles: list[dict[str, Any]] | None = None
    primaryOrg: Ref = None
    agents: RefList = Field(default_factory=list)
    grades: Strings = Field(default_factory=list)
    userIds: list[dict[str, Any]] | None = None
    metadata: dict[str, Any] | None = None

    columns = (
        *OneRosterRecord.columns,
        "enabled_user", "given_name", "family_name", "middle_name",
        "preferred_first_name", "preferred_middle_name", "preferred_last_name",
        "username", "identifier", "email", "sms", "phone", "user_master_identifier",
        "primary_role", "roles", "role_names", "primary_org_sourced_id", "agent_sourced_ids",
        "grades", "user_ids", "metadata", "emis_student_id", "state_id",
    )  # fmt: skip

    def row(self, warn: Warn) -> tuple[Any, ...]:
        roles = self.roles or []
        role_names = [role["role"] for role in roles if isinstance(role.get("role"), str)]
        ic = (self.metadata or {}).get("ic")
        ic = ic if isinstance(ic, dict) else {}
        return (
            *self.common(),
            self.enabledUser,
            self.givenName,
            self.familyName,
            self.middleName,
            self.preferredFirstName,
            self.preferredMiddleName,
            self.preferredLastName,
            self.username,
            self.identifier,
            self.email,
            self.sms,
            self.phone,
            self.userMasterIdentifier,
            primary_role(roles),
            _json(roles),
            _json(role_names),
            self.primaryOrg,
            _json(self.agents),
            _json(self.grades),
            _json(self.userIds),
            _json(self.metadata),
            normalise_emis_student_id(ic.get("emisStudentId"), warn),
            state_id(ic, self.userIds),
        )


def primary_role(roles: list[dict[str, Any]]) -> str | None:
    """The role marked `roleType: primary`, else the first role; `ext:` roles are kept as sent."""
    for role in roles:
        if role.get("roleType") == "primary" and isinstance(role.get("role"), str):
            return role["role"]
    for role in roles:
        if isinstance(role.get("role"), str):
            return role["role"]
    return None


def state_id(ic: dict[str, Any], user_ids: list[dict[str, Any]] | None) -> str | None:
    """The state student id: `metadata.ic.stateId`, else a `userIds` entry of type stateId."""
    value = ic.get("stateId")
    if value not in (None, ""):
        return str(value)
    for user_id in user_ids or []:
        if str(user_id.get("type", "")).lower() == "stateid" and user_id.get("identifier"):
            return str(user_id["identifier"])
    return None


class Demographics(OneRosterRecord):
    birthDate: DateText = None
    sex: LowerText = None
    americanIndianOrAlaskaNative: Flag = None
    asian: Flag = None
    blackOrAfricanAmerican: Flag = None
    nativeHawaiianOrOtherPacificIslander: Flag = None
    white: Flag = None
    demographicRaceTwoOrMoreRaces: Flag = None
    hispanicOrLatinoEthnicity: Flag = None
    countryOfBirthCode: str | None = None
    stateOfBirthAbbreviation: str | None = None
    cityOfBirth: str | None = None
    publicSchoolResidenceStatus: str | None = None

    columns = (
        *OneRosterRecord.columns,
        "birth_date", "sex", "american_indian_or_alaska_native", "asian",
        "black_or_african_american", "native_hawaiian_or_other_pacific_islander", "white",
        "demographic_race_two_or_more_races", "hispanic_or_latino_ethnicity",
        "country_of_birth_code", "state_of_birth_abbreviation", "city_of_birth",
        "public_school_residence_status",
    )  # fmt: skip

    def row(self, warn: Warn) -> tuple[Any, ...]:
        return (
            *self.common(),
            strict_date(self.birthDate, "birthDate", warn),
            self.sex,
            self.americanIndianOrAlaskaNative,
            self.asian,
            self.blackOrAfricanAmerican,
            self.nativeHawaiianOrOtherPacificIslander,
            self.white,
            self.demographicRaceTwoOrMoreRaces,
            self.hispanicOrLatinoEthnicity,
            self.countryOfBirthCode,
            self.stateOfBirthAbbreviation,
            self.cityOfBirth,
            self.publicSchoolResidenceStatus,
        )


class Enrollment(OneRosterRecord):
    user: RequiredRef
    class_: Ref = Field(default=None, alias="class")
    school: Ref = None
    role: str | None = None
    primary: Flag = None
    beginDate: DateText = None
    endDate: DateText = None

    columns = (
        *OneRosterRecord.columns,
        "user_sourced_id", "class_sourced_id", "school_sourced_id", "role", "is_primary",
        "begin_date", "end_date",
    )  # fmt: skip

    def row(self, warn: Warn) -> tuple[Any, ...]:
        return (
            *self.common(),
            self.user,
            self.class_,
            self.school,
            self.role,
            self.primary,
            strict_date(self.beginDate, "beginDate", warn),
            strict_date(self.endDate, "endDate", warn),
        )


class Org(OneRosterRecord):
    name: str | None = None
    type: str | None = None
    identifier: str | None = None
    parent: Ref = None
    metadata: dict[str, Any] | None = None

    columns = (
        *OneRosterRecord.columns,
        "name", "type", "identifier", "parent_sourced_id", "metadata",
    )  # fmt: skip

    def row(self, warn: Warn) -> tuple[Any, ...]:
        return (
            *self.common(),
            self.name,
            self.type,
            self.identifier,
            self.parent,
            _json(self.metadata),
        )


class AcademicSession(OneRosterRecord):
    title: str | None = None
    type: str | None = None
    startDate: DateText = None
    endDate: DateText = None
    parent: Ref = None
    schoolYear: str | None = None

    columns = (
        *OneRosterRecord.columns,
        "title", "type", "start_date", "end_date", "parent_sourced_id", "school_year",
    )  # fmt: skip

    def row(self, warn: Warn) -> tuple[Any, ...]:
        school_year = self.schoolYear if self.schoolYear and self.schoolYear.isdigit() else None
        if self.schoolYear and school_year is None:
            warn("schoolYear", "not a YYYY year; stored as null")
        return (
            *self.common(),
            self.title,
            self.type,
            strict_date(self.startDate, "startDate", warn),
            strict_date(self.endDate, "endDate", warn),
            self.parent,
            int(school_year) if school_year else None,
        )


class Class(OneRosterRecord):
    title: str | None = None
    classCode: str | None = None
    classType: str | None = None
    course: Ref = None
    school: Ref = None
    terms: RefList = Field(default_factory=list)
    grades: Strings = Field(default_factory=list)

    columns = (
        *OneRosterRecord.columns,
        "title", "class_code", "class_type", "course_sourced_id", "school_sourced_id",
        "term_sourced_ids", "grades",
    )  # fmt: skip

    def row(self, warn: Warn) -> tuple[Any, ...]:
        return (
            *self.common(),
            self.title,
            self.classCode,
            self.classType,
            self.course,
            self.school,
            _json(self.terms),
            _json(self.grades),
        )
