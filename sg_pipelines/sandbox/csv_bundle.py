"""Load a OneRoster CSV bundle (1.1 or 1.2, directory or zip) into a `District`.

`manifest.csv` decides the version and which files to read. Rows become the JSON objects the
1.2 REST binding serves: 1.1 `orgSourcedIds` + `role` turn into `roles[]`, 1.2 `roles.csv` and
`userProfiles.csv` are folded into their users, and the CSV's `preferredGivenName` family becomes
`preferredFirstName` / `preferredMiddleName` / `preferredLastName`.

Bulk files leave `status` and `dateLastModified` blank. Those rows are served as `active` with
`BULK_DATE_LAST_MODIFIED`, a fixed instant, so that a bundle always serves the same bytes.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sg_pipelines.sandbox.district import District, format_instant, guid_ref, parse_instant

logger = logging.getLogger(__name__)

BULK_DATE_LAST_MODIFIED = "2000-01-01T00:00:00.000Z"

_USER_IDS = re.compile(r"\{\s*([^:{}]*?)\s*:\s*([^{}]*?)\s*\}")
_RACE_FIELDS = (
    "americanIndianOrAlaskaNative",
    "asian",
    "blackOrAfricanAmerican",
    "nativeHawaiianOrOtherPacificIslander",
    "white",
    "demographicRaceTwoOrMoreRaces",
    "hispanicOrLatinoEthnicity",
)
_PREFERRED_NAMES = {
    "preferredGivenName": "preferredFirstName",
    "preferredFirstName": "preferredFirstName",
    "preferredMiddleName": "preferredMiddleName",
    "preferredFamilyName": "preferredLastName",
    "preferredLastName": "preferredLastName",
}


class BundleError(ValueError):
    """The bundle cannot be read: no manifest, a file it promises is missing, or a file or record
    cannot be read. The message names the file and the record, never a value."""


def load_bundle(path: str | Path, name: str | None = None) -> District:
    """Read the bundle at `path` (a directory or a .zip) into a new District."""
    source = _BundleFiles(Path(path))
    manifest = {row["propertyName"]: row.get("value") or "" for row in source.rows("manifest")}
    version = manifest.get("oneroster.version", "1.1").strip()
    modes = {
        key.removeprefix("file."): (value or "absent").strip().lower()
        for key, value in manifest.items()
        if key.startswith("file.")
    }

    def rows(file: str) -> list[dict[str, str]]:
        if modes.get(file, "absent") == "absent":
            return []
        if not source.exists(file):
            raise BundleError(f"manifest lists {file}.csv as {modes[file]} but the file is missing")
        return list(source.rows(file))

    def records(file: str, convert: Callable[[dict[str, str]], dict[str, Any]]) -> list[dict]:
        # which record of which file is bad, never its values
        converted = []
        for number, row in enumerate(rows(file), start=1):
            try:
                converted.append(convert(row))
            except KeyError as error:
                raise BundleError(f"{file}.csv, record {number}: no {error.args[0]}") from None
            except BundleError as error:
                raise BundleError(f"{file}.csv, record {number}: {error}") from None
        return converted

    district = District(name or manifest.get("source.systemName") or Path(path).stem)
    orgs = records("orgs", _org)
    _link_children(orgs, "orgs", "org")
    sessions = records("academicSessions", _academic_session)
    _link_children(sessions, "academicSessions", "academicSession")
    district.load("orgs", orgs)
    district.load("academicSessions", sessions)
    district.load("courses", records("courses", _course))
    district.load("classes", records("classes", _class))
    district.load("enrollments", records("enrollments", _enrollment))
    district.load("demographics", records("demographics", _demographics))

    org_types = {org["sourcedId"]: org.get("type") for org in orgs}
    if version.startswith("1.1"):
        users = records("users", lambda row: _user_v1p1(row, org_types))
    else:
        users = _users_v1p2(rows("users"), rows("roles"), rows("userProfiles"))
    district.load("users", users)

    logger.info(
        "loaded OneRoster %s bundle: %s",
        version,
        ", ".join(f"{district.count(c)} {c}" for c in district),
    )
    return district


class _BundleFiles:
    """The CSV files of a bundle, from a directory or a zip archive."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.archive = zipfile.ZipFile(path) if path.is_file() else None
        except zipfile.BadZipFile:
            raise BundleError(
                f"{path} is neither a folder nor a .zip archive; a OneRoster CSV bundle is one "
                "of those, holding manifest.csv"
            ) from None
        if not self.exists("manifest"):
            raise BundleError(f"{path} holds no manifest.csv")

    def _names(self) -> dict[str, str]:
        if self.archive is not None:
            return {Path(n).name: n for n in self.archive.namelist()}
        return {p.name: str(p) for p in self.path.iterdir()}

    def exists(self, file: str) -> bool:
        return f"{file}.csv" in self._names()

    def rows(self, file: str) -> Iterator[dict[str, str]]:
        member = self._names()[f"{file}.csv"]
        try:
            raw = self.archive.read(member) if self.archive else Path(member).read_bytes()
            # utf-8-sig drops a BOM when there is one
            text = raw.decode("utf-8-sig")
        except zipfile.BadZipFile:
            raise BundleError(f"{file}.csv in {self.path} is damaged in the archive") from None
        except UnicodeDecodeError:
            raise BundleError(f"{file}.csv in {self.path} is not UTF-8 text") from None
        reader = csv.DictReader(io.StringIO(text, newline=""))
        for row in reader:
            # Extra unnamed trailing cells land under the None key; blank lines are skipped.
            row.pop(None, None)  # type: ignore[call-overload]
            if any((value or "").strip() for value in row.values()):
                yield {key.strip(): (value or "").strip() for key, value in row.items()}


# field helpers


def _base(row: dict[str, str]) -> dict[str, Any]:
    status = (row.get("status") or "active").lower()
    if status in {"inactive", "deleted"}:
        status = "tobedeleted"
    stamp = row.get("dateLastModified") or ""
    try:
        modified = format_instant(parse_instant(stamp)) if stamp else BULK_DATE_LAST_MODIFIED
    except ValueError:
        # never the parser's message: it quotes the value
        raise BundleError("dateLastModified is not an ISO 8601 date-time") from None
    return {"sourcedId": row["sourcedId"], "status": status, "dateLastModified": modified}


def _list(value: str | None) -> list[str]:
    return [item.strip() for item in (value or "").split(",") if item.strip()]


def _bool(value: str | None, default: str = "false") -> str:
    text = (value or "").strip().lower()
    if text in {"true", "1", "yes", "y", "t"}:
        return "true"
    if text in {"false", "0", "no", "n", "f"}:
        return "false"
    return default


def _ref(ref_type: str, collection: str, sourced_id: str | None) -> dict[str, str] | None:
    return guid_ref(ref_type, collection, sourced_id) if sourced_id else None


def _put(record: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """Set the fields that have a value; blank optional fields are left out, as the API does."""
    for key, value in fields.items():
        if value not in (None, "", [], {}):
            record[key] = value
    return record


def _metadata(row: dict[str, str]) -> dict[str, str]:
    return {
        key.removeprefix("metadata."): value
        for key, value in row.items()
        if key.startswith("metadata.") and value
    }


def _link_children(records: list[dict[str, Any]], collection: str, ref_type: str) -> None:
    children: dict[str, list[dict[str, str]]] = defaultdict(list)
    for record in records:
        if "parent" in record:
            children[record["parent"]["sourcedId"]].append(
                guid_ref(ref_type, collection, record["sourcedId"])
            )
    for record in records:
        if record["sourcedId"] in children:
            record["children"] = children[record["sourcedId"]]


# one builder per file


def _org(row: dict[str, str]) -> dict[str, Any]:
    # `identifier` is required in 1.2 even when the CSV leaves it blank
    record = {**_base(row), "name": row.get("name", ""), "type": row.get("type", "")}
    record["identifier"] = row.get("identifier", "")
    return _put(
        record,
        parent=_ref("org", "orgs", row.get("parentSourcedId")),
        metadata=_metadata(row),
    )


def _academic_session(row: dict[str, str]) -> dict[str, Any]:
    return _put(
        _base(row),
        title=row.get("title"),
        type=row.get("type"),
        startDate=row.get("startDate"),
        endDate=row.get("endDate"),
        parent=_ref("academicSession", "academicSessions", row.get("parentSourcedId")),
        schoolYear=row.get("schoolYear"),
    )


def _course(row: dict[str, str]) -> dict[str, Any]:
    return _put(
        _base(row),
        title=row.get("title"),
        schoolYear=_ref("academicSession", "academicSessions", row.get("schoolYearSourcedId")),
        courseCode=row.get("courseCode"),
        grades=_list(row.get("grades")),
        subjects=_list(row.get("subjects")),
        org=_ref("org", "orgs", row.get("orgSourcedId")),
        subjectCodes=_list(row.get("subjectCodes")),
    )


def _class(row: dict[str, str]) -> dict[str, Any]:
    return _put(
        _base(row),
        title=row.get("title"),
        classCode=row.get("classCode"),
        classType=row.get("classType"),
        location=row.get("location"),
        grades=_list(row.get("grades")),
        subjects=_list(row.get("subjects")),
        course=_ref("course", "courses", row.get("courseSourcedId")),
        school=_ref("org", "orgs", row.get("schoolSourcedId")),
        terms=[
            guid_ref("academicSession", "academicSessions", term)
            for term in _list(row.get("termSourcedIds"))
        ],
        subjectCodes=_list(row.get("subjectCodes")),
        periods=_list(row.get("periods")),
        metadata=_metadata(row),
    )


def _enrollment(row: dict[str, str]) -> dict[str, Any]:
    return _put(
        _base(row),
        user=_ref("user", "users", row.get("userSourcedId")),
        **{"class": _ref("class", "classes", row.get("classSourcedId"))},
        school=_ref("org", "orgs", row.get("schoolSourcedId")),
        role=row.get("role"),
        primary=_bool(row.get("primary")),
        beginDate=row.get("beginDate"),
        endDate=row.get("endDate"),
        metadata=_metadata(row),
    )


def _demographics(row: dict[str, str]) -> dict[str, Any]:
    record = _base(row)
    _put(record, birthDate=row.get("birthDate"), sex=(row.get("sex") or "").lower())
    for key in _RACE_FIELDS:
        if row.get(key):
            record[key] = _bool(row[key])
    return _put(
        record,
        countryOfBirthCode=row.get("countryOfBirthCode"),
        stateOfBirthAbbreviation=row.get("stateOfBirthAbbreviation"),
        cityOfBirth=row.get("cityOfBirth"),
        publicSchoolResidenceStatus=row.get("publicSchoolResidenceStatus"),
        metadata=_metadata(row),
    )


def _user_ids(value: str | None) -> list[dict[str, str]]:
    return [{"type": kind, "identifier": ident} for kind, ident in _USER_IDS.findall(value or "")]


def _user_common(row: dict[str, str]) -> dict[str, Any]:
    record = _put(
        _base(row),
        enabledUser=_bool(row.get("enabledUser"), default="true"),
        username=row.get("username"),
        userIds=_user_ids(row.get("userIds")),
        givenName=row.get("givenName", ""),
        familyName=row.get("familyName", ""),
        middleName=row.get("middleName"),
        identifier=row.get("identifier"),
        email=row.get("email"),
        sms=row.get("sms"),
        phone=row.get("phone"),
        agents=[guid_ref("user", "users", a) for a in _list(row.get("agentSourcedIds"))],
        grades=_list(row.get("grades")),
        password=row.get("password"),
        metadata=_metadata(row),
    )
    record.setdefault("givenName", "")
    record.setdefault("familyName", "")
    return record


def _user_v1p1(row: dict[str, str], org_types: dict[str, str | None]) -> dict[str, Any]:
    """A 1.1 user: one `role` across `orgSourcedIds` becomes one primary role per org."""
    record = _user_common(row)
    role = row.get("role", "")
    roles = []
    for org_id in _list(row.get("orgSourcedIds")):
        named = role
        if role == "administrator":
            # 1.2 dropped `administrator` as a user role
            named = (
                "districtAdministrator"
                if org_types.get(org_id) == "district"
                else "siteAdministrator"
            )
        roles.append({"roleType": "primary", "role": named, "org": guid_ref("org", "orgs", org_id)})
    record["roles"] = roles
    if roles:
        record["primaryOrg"] = roles[0]["org"]
    return record


def _users_v1p2(
    users: list[dict[str, str]], roles: list[dict[str, str]], profiles: list[dict[str, str]]
) -> list[dict[str, Any]]:
    roles_by_user: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in roles:
        if (row.get("status") or "active").lower() in {"tobedeleted", "inactive"}:
            continue
        roles_by_user[row.get("userSourcedId", "")].append(
            _put(
                {"roleType": row.get("roleType") or "primary", "role": row.get("role", "")},
                org=_ref("org", "orgs", row.get("orgSourcedId")),
                userProfile=row.get("userProfileSourcedId"),
                beginDate=row.get("beginDate"),
                endDate=row.get("endDate"),
            )
        )
    profiles_by_user: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in profiles:
        credentials = _put({}, type=row.get("credentialType"), username=row.get("username"))
        _put(credentials, password=row.get("password"))
        profiles_by_user[row.get("userSourcedId", "")].append(
            _put(
                {"profileId": row.get("sourcedId", "")},
                profileType=row.get("profileType"),
                vendorId=row.get("vendorId"),
                applicationId=row.get("applicationId"),
                description=row.get("description"),
                credentials=[credentials] if credentials else [],
            )
        )

    records = []
    for row in users:
        record = _user_common(row)
        _put(
            record,
            userMasterIdentifier=row.get("userMasterIdentifier"),
            pronouns=row.get("pronouns"),
            primaryOrg=_ref("org", "orgs", row.get("primaryOrgSourcedId")),
            userProfiles=profiles_by_user.get(row["sourcedId"], []),
            **{
                json_name: row[csv_name]
                for csv_name, json_name in _PREFERRED_NAMES.items()
                if row.get(csv_name)
            },
        )
        record["roles"] = roles_by_user.get(row["sourcedId"], [])
        if "primaryOrg" not in record and record["roles"]:
            record["primaryOrg"] = record["roles"][0]["org"]
        records.append(record)
    return records
