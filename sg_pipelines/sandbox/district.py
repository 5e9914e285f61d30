"""The sandbox district: OneRoster 1.2 collections held as JSON-shaped dicts.

Records are plain dicts exactly as the API serves them. Each collection keeps an index by
`sourcedId`, the ids in sorted order (the server's default, stable paging order), a cache of
every record's JSON bytes and of its `dateLastModified` as a UTC instant, and the ids ordered by
that instant (what a `dateLastModified>` delta query reads, as a database index would). Mutations
go through the methods below so that the caches stay true and `dateLastModified` moves forward.

Records handed out by `get` and `collection` are the live objects: change them only through
`update`, since nested GUIDRef dicts may be shared between records to save memory.
"""

from __future__ import annotations

import bisect
import functools
import threading
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

COLLECTIONS = (
    "orgs",
    "academicSessions",
    "courses",
    "classes",
    "users",
    "demographics",
    "enrollments",
)

API_ROOT = "/ims/oneroster/rostering/v1p2"
GUARDIAN_ROLES = frozenset({"parent", "guardian", "relative"})


def guid_ref(ref_type: str, collection: str, sourced_id: str) -> dict[str, str]:
    """A OneRoster GUIDRef; `href` is a path below the API root (see docs/sandbox.md)."""
    return {
        "href": f"{API_ROOT}/{collection}/{sourced_id}",
        "sourcedId": sourced_id,
        "type": ref_type,
    }


def format_instant(moment: datetime) -> str:
    """UTC ISO-8601 with millisecond precision and a `Z` suffix, as OneRoster requires."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@functools.lru_cache(maxsize=65_536)
def instant_seconds(value: str) -> float:
    """POSIX seconds of an ISO-8601 date-time; cached, since bulk records share stamps."""
    return parse_instant(value).timestamp()


def parse_instant(value: str) -> datetime:
    """Parse an ISO-8601 date-time (`Z` or an offset) to an aware UTC datetime.

    A value without an offset is read as UTC. Raises ValueError for anything else.
    """
    moment = datetime.fromisoformat(value.strip().replace("z", "Z"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def encode_record(record: Any) -> bytes:
    """Compact JSON bytes for one record."""
    return orjson.dumps(record)


def has_role(user: Mapping[str, Any], roles: Iterable[str] | str) -> bool:
    """Whether any of the user's `roles[]` entries has one of the given role names."""
    wanted = {roles} if isinstance(roles, str) else set(roles)
    return any(role.get("role") in wanted for role in user.get("roles") or ())


class _ByInstant:
    """A collection's ids ordered by `dateLastModified`, as of one moment, plus the ids changed
    since: a record changed after the index was built is looked up on its own."""

    def __init__(self, instants: Mapping[str, float]) -> None:
        # NaN (no readable stamp) matches no comparison, so it is left out
        pairs = sorted((moment, key) for key, moment in instants.items() if moment == moment)
        self.moments = [moment for moment, _ in pairs]
        self.ids = [key for _, key in pairs]
        self.changed: set[str] = set()


class _Collection:
    """One collection: index, sorted ids and per-record caches."""

    def __init__(self) -> None:
        self.records: dict[str, dict[str, Any]] = {}
        self.order: list[str] = []
        self.encoded: dict[str, bytes] = {}
        self.instants: dict[str, float] = {}
        self.by_instant: _ByInstant | None = None
        self.version = 0

    def forget(self, sourced_id: str) -> None:
        self.encoded.pop(sourced_id, None)
        self.instants.pop(sourced_id, None)
        if self.by_instant is not None:
            self.by_instant.changed.add(sourced_id)
        self.version += 1


class District:
    """The OneRoster collections of one district, with the mutations tests and deltas need.

    Args:
        name: display name of the district (also the district org's name when generated).
    """

    def __init__(self, name: str = "Sandbox District") -> None:
        self.name = name
        self.lock = threading.RLock()
        self._collections = {key: _Collection() for key in COLLECTIONS}
        self._last_stamp = datetime(2000, 1, 1, tzinfo=UTC)
        # Guardians Campus knows but does not expose: they have no active portal account, so
        # `/users` omits them while students' `agents[]` still point at them (fault A9/A11).
        self.unlisted_users: dict[str, dict[str, Any]] = {}

    # reading

    def collection(self, name: str) -> list[dict[str, Any]]:
        """All records of a collection in sourcedId order."""
        coll = self._coll(name)
        with self.lock:
            return [coll.records[sourced_id] for sourced_id in coll.order]

    def get(self, name: str, sourced_id: str) -> dict[str, Any] | None:
        """One record by sourcedId, or None."""
        return self._coll(name).records.get(sourced_id)

    def count(self, name: str) -> int:
        """Number of records in a collection."""
        return len(self._coll(name).records)

    def __iter__(self) -> Iterator[str]:
        return iter(COLLECTIONS)

    def students(self) -> list[dict[str, Any]]:
        """Users with a `student` role."""
        return [user for user in self.collection("users") if has_role(user, "student")]

    def teachers(self) -> list[dict[str, Any]]:
        """Users with a `teacher` role."""
        return [user for user in self.collection("users") if has_role(user, "teacher")]

    def guardians(self, include_unlisted: bool = False) -> list[dict[str, Any]]:
        """Users with a parent, guardian or relative role (optionally the unlisted ones too)."""
        listed = [user for user in self.collection("users") if has_role(user, GUARDIAN_ROLES)]
        if include_unlisted:
            listed.extend(self.unlisted_users[key] for key in sorted(self.unlisted_users))
        return listed

    def schools(self) -> list[dict[str, Any]]:
        """Orgs of type `school`."""
        return [org for org in self.collection("orgs") if org.get("type") == "school"]

    def agents_of(self, user: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The records a user's `agents[]` point at, listed or unlisted; unknown ids are skipped."""
        found = []
        for ref in user.get("agents") or ():
            sourced_id = ref.get("sourcedId")
            record = self.get("users", sourced_id) or self.unlisted_users.get(sourced_id)
            if record is not None:
                found.append(record)
        return found

    # serving helpers (used by the server)

    def version(self, name: str) -> int:
        """A counter that moves on every change to the collection."""
        return self._coll(name).version

    def sorted_ids(self, name: str) -> list[str]:
        """The collection's sourcedIds in ascending order (the live list: do not modify)."""
        return self._coll(name).order

    def encoded(self, name: str, sourced_id: str) -> bytes:
        """The record's JSON bytes, serialised once and cached until it changes."""
        coll = self._coll(name)
        cached = coll.encoded.get(sourced_id)
        if cached is None:
            cached = encode_record(coll.records[sourced_id])
            coll.encoded[sourced_id] = cached
        return cached

    def records(self, name: str) -> Mapping[str, dict[str, Any]]:
        """The collection's index by sourcedId (the live mapping: do not modify)."""
        return self._coll(name).records

    def instants(self, name: str) -> Mapping[str, float]:
        """Every record's `dateLastModified` as POSIX seconds (NaN when unparseable), by id."""
        coll = self._coll(name)
        with self.lock:
            if len(coll.instants) != len(coll.records):
                for sourced_id in coll.order:
                    if sourced_id not in coll.instants:
                        self.modified_instant(name, sourced_id)
        return coll.instants

    def modified_instant(self, name: str, sourced_id: str) -> float:
        """The record's `dateLastModified` as POSIX seconds (NaN when missing or unparseable)."""
        coll = self._coll(name)
        cached = coll.instants.get(sourced_id)
        if cached is None:
            try:
                cached = instant_seconds(coll.records[sourced_id]["dateLastModified"])
            except (KeyError, TypeError, ValueError):
                cached = float("nan")
            coll.instants[sourced_id] = cached
        return cached

    def modified_after(self, name: str, moment: float, *, inclusive: bool = False) -> list[str]:
        """Ids whose `dateLastModified` is after `moment` (POSIX seconds), in sourcedId order.

        Reads the instant index, so a delta query costs the records it selects, not the
        collection; the index is rebuilt once the records changed since outnumber a tenth.
        """
        coll = self._coll(name)
        with self.lock:
            index = coll.by_instant
            if index is None or len(index.changed) > len(coll.records) // 10:
                index = coll.by_instant = _ByInstant(self.instants(name))
            cut = bisect.bisect_left if inclusive else bisect.bisect_right
            found = index.ids[cut(index.moments, moment) :]
            if index.changed:
                found = [key for key in found if key not in index.changed]
                for key in index.changed:
                    if key in coll.records:
                        stamp = self.modified_instant(name, key)
                        if stamp > moment or (inclusive and stamp == moment):
                            found.append(key)
        found.sort()
        return found

    def warm(self) -> int:
        """Serialise every record and index its instant now rather than on first request;
        returns the count."""
        with self.lock:
            for name in COLLECTIONS:
                coll = self._coll(name)
                for sourced_id in coll.order:
                    self.encoded(name, sourced_id)
                    self.modified_instant(name, sourced_id)
                coll.by_instant = _ByInstant(coll.instants)
        return sum(self.count(name) for name in COLLECTIONS)

    # mutating

    def load(self, name: str, records: Iterable[dict[str, Any]]) -> int:
        """Bulk insert records as they are (their own `dateLastModified` is kept).

        Returns the number of records loaded. Existing records with the same id are replaced.
        """
        coll = self._coll(name)
        with self.lock:
            before = len(coll.records)
            for record in records:
                sourced_id = record["sourcedId"]
                coll.records[sourced_id] = record
                coll.encoded.pop(sourced_id, None)
                coll.instants.pop(sourced_id, None)
            coll.order = sorted(coll.records)
            coll.by_instant = None
            coll.version += 1
            return len(coll.records) - before

    def add(
        self, name: str, record: Mapping[str, Any], *, when: datetime | None = None
    ) -> dict[str, Any]:
        """Add a new record (status defaults to `active`), stamping `dateLastModified`."""
        coll = self._coll(name)
        with self.lock:
            sourced_id = record["sourcedId"]
            if sourced_id in coll.records:
                raise KeyError(f"{name} already holds {sourced_id}")
            stored = {"sourcedId": sourced_id, "status": "active", **record}
            stored["dateLastModified"] = self._stamp(when)
            coll.records[sourced_id] = stored
            bisect.insort(coll.order, sourced_id)
            coll.forget(sourced_id)
            return stored

    def update(
        self,
        name: str,
        sourced_id: str,
        changes: Mapping[str, Any],
        *,
        when: datetime | None = None,
    ) -> dict[str, Any]:
        """Replace top-level fields of a record and stamp `dateLastModified`.

        A change whose value is None removes the field.
        """
        coll = self._coll(name)
        with self.lock:
            current = coll.records[sourced_id]
            updated = dict(current)
            for key, value in changes.items():
                if value is None:
                    updated.pop(key, None)
                else:
                    updated[key] = value
            updated["sourcedId"] = sourced_id
            updated["dateLastModified"] = self._stamp(when)
            coll.records[sourced_id] = updated
            coll.forget(sourced_id)
            return updated

    def touch(self, name: str, sourced_id: str, *, when: datetime | None = None) -> dict[str, Any]:
        """Stamp a new `dateLastModified` without other changes."""
        return self.update(name, sourced_id, {}, when=when)

    def mark_tobedeleted(
        self, name: str, sourced_id: str, *, when: datetime | None = None
    ) -> dict[str, Any]:
        """Set `status: tobedeleted`, the way OneRoster announces a deletion."""
        return self.update(name, sourced_id, {"status": "tobedeleted"}, when=when)

    def remove(self, name: str, sourced_id: str) -> dict[str, Any]:
        """Drop a record entirely, so it is simply absent from the next pull."""
        coll = self._coll(name)
        with self.lock:
            record = coll.records.pop(sourced_id)
            index = bisect.bisect_left(coll.order, sourced_id)
            del coll.order[index]
            coll.forget(sourced_id)
            return record

    def _stamp(self, when: datetime | None) -> str:
        """A strictly increasing UTC stamp (millisecond steps) unless `when` is given."""
        if when is not None:
            return format_instant(when)
        now = datetime.now(UTC)
        moment = now.replace(microsecond=now.microsecond // 1000 * 1000)
        if moment <= self._last_stamp:
            moment = self._last_stamp + timedelta(milliseconds=1)
        self._last_stamp = moment
        return format_instant(moment)

    def _coll(self, name: str) -> _Collection:
        try:
            return self._collections[name]
        except KeyError:
            raise KeyError(f"unknown collection {name!r}; expected one of {COLLECTIONS}") from None
