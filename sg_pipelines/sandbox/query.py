"""OneRoster query parameters: paging, sort, fields and filter, and the ids a query selects.

Filter grammar (as real 1.2 servers implement it): `field op 'value'` clauses joined by ` AND `
or ` OR ` (AND binds tighter). Operators `= != > >= < <= ~` (`~` is a case-insensitive
"contains"). `field` is a top-level field or a dotted path into refs and lists
(`roles.role='student'`, `user.sourcedId='...'`); a list matches if any element does.
`dateLastModified` compares as a UTC instant, so `Z` and offsets are both fine in the value.
"""

from __future__ import annotations

import operator
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from itertools import compress, repeat
from typing import Any

from sg_pipelines.sandbox.config import SandboxConfig
from sg_pipelines.sandbox.district import District, parse_instant
from sg_pipelines.sandbox.endpoints import Endpoint
from sg_pipelines.sandbox.imsx import OneRosterError

_INTEGER = re.compile(r"\d{1,12}")
_CLAUSE = re.compile(r"\s*([A-Za-z_][\w.]*)\s*(!=|>=|<=|=|>|<|~)\s*'((?:[^']|'')*)'\s*")
_JOINER = re.compile(r"(AND|OR)\s+")
_INSTANT_FIELDS = frozenset({"dateLastModified"})


def _bad_selection(description: str) -> OneRosterError:
    return OneRosterError(400, description, "invalid_selection_field")


def _bad_filter(description: str) -> OneRosterError:
    return OneRosterError(400, description, "invalid_filter_field")


@dataclass(frozen=True)
class Paging:
    """The page asked for, after the server's clamp."""

    limit: int
    offset: int
    requested_limit: int


def parse_paging(params: Mapping[str, str], config: SandboxConfig) -> Paging:
    """Read `limit` and `offset`; clamps `limit` to `max_page_size` silently, 400 if malformed."""
    limit = _non_negative_int(params, "limit", config.default_page_size)
    offset = _non_negative_int(params, "offset", 0)
    if limit < 1:
        raise _bad_selection("limit must be at least 1.")
    return Paging(min(limit, config.max_page_size), offset, limit)


def _non_negative_int(params: Mapping[str, str], name: str, default: int) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    if not _INTEGER.fullmatch(raw.strip()):
        raise _bad_selection(f"{name} must be a non-negative integer, got {raw[:40]!r}.")
    return int(raw)


def parse_sort(params: Mapping[str, str], fields: frozenset[str]) -> tuple[str, bool]:
    """Read `sort` and `orderBy`; returns (field, descending)."""
    field = (params.get("sort") or "sourcedId").strip()
    if _root(field) not in fields:
        raise _bad_selection(f"Unknown sort field {field[:60]!r}.")
    order = (params.get("orderBy") or "asc").strip().lower()
    if order not in {"asc", "desc"}:
        raise _bad_selection("orderBy must be asc or desc.")
    return field, order == "desc"


def parse_fields(params: Mapping[str, str], fields: frozenset[str]) -> list[str] | None:
    """Read `fields` (a comma list); None when the whole record is wanted."""
    raw = params.get("fields")
    if raw is None:
        return None
    wanted = [name.strip() for name in raw.split(",") if name.strip()]
    if not wanted:
        raise _bad_selection("fields names no field.")
    unknown = [name for name in wanted if name not in fields]
    if unknown:
        raise _bad_selection(f"Unknown field(s): {', '.join(unknown)[:120]}.")
    return wanted


def project(record: Mapping[str, Any], fields: list[str]) -> dict[str, Any]:
    """The record reduced to the selected fields (absent ones stay absent)."""
    return {name: record[name] for name in fields if name in record}


_OPERATORS = {
    "=": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}


@dataclass(frozen=True)
class Comparison:
    """One `field op 'value'` clause."""

    path: tuple[str, ...]
    op: str
    value: str
    instant: float | None = None

    def predicate(
        self, records: Mapping[str, Mapping[str, Any]], instants: Mapping[str, float]
    ) -> Callable[[str], bool]:
        """A test of one sourcedId, bound to the collection's records and instants."""
        compare, value = _OPERATORS.get(self.op), self.value
        if self.instant is not None:
            # an unparseable stamp is NaN: false for every operator but !=
            right = self.instant
            return lambda sourced_id: compare(instants[sourced_id], right)

        path = self.path
        if self.op == "!=":
            return lambda sourced_id: all(
                leaf != value for leaf in _leaves(records[sourced_id], path)
            )
        if self.op == "~":
            needle = value.lower()
            return lambda sourced_id: any(
                needle in leaf.lower() for leaf in _leaves(records[sourced_id], path)
            )
        if len(path) == 1:
            field = path[0]

            def top_level(sourced_id: str) -> bool:
                found = records[sourced_id].get(field)
                if type(found) is str:
                    return compare(found, value)
                return any(compare(leaf, value) for leaf in _leaves(found, ()))

            return top_level
        return lambda sourced_id: any(
            compare(leaf, value) for leaf in _leaves(records[sourced_id], path)
        )

    def select_by_instant(self, ids: list[str], instants: Mapping[str, float]) -> list[str]:
        """Fast path for date-time clauses: comparisons run in C over the whole id list."""
        assert self.instant is not None
        compare = _OPERATORS[self.op]
        moments = map(instants.__getitem__, ids)
        return list(compress(ids, map(compare, moments, repeat(self.instant))))


@dataclass(frozen=True)
class Filter:
    """A parsed filter: OR of AND-groups of comparisons."""

    text: str
    groups: tuple[tuple[Comparison, ...], ...]

    def lower_bound(self) -> Comparison | None:
        """The `dateLastModified>'…'` (or `>=`) clause of a filter that is only instant clauses
        joined by AND: the delta query, which the district's instant index answers."""
        if len(self.groups) != 1 or not all(c.instant is not None for c in self.groups[0]):
            return None
        return next((c for c in self.groups[0] if c.op in (">", ">=")), None)

    def select(
        self,
        ids: list[str],
        records: Mapping[str, Mapping[str, Any]],
        instants: Mapping[str, float],
    ) -> list[str]:
        """The ids (in their order) whose records pass the filter."""
        if len(self.groups) == 1 and all(c.instant is not None for c in self.groups[0]):
            # the delta query (`dateLastModified>'...'`), possibly a window: no Python loop
            for clause in self.groups[0]:
                ids = clause.select_by_instant(ids, instants)
            return ids
        groups = [[c.predicate(records, instants) for c in group] for group in self.groups]
        return [
            sourced_id
            for sourced_id in ids
            if any(all(test(sourced_id) for test in group) for group in groups)
        ]


def parse_filter(text: str | None, fields: frozenset[str]) -> Filter | None:
    """Parse a `filter` parameter; 400 `invalid_filter_field` when malformed."""
    if text is None:
        return None
    if not text.strip():
        raise _bad_filter("filter is empty.")
    groups: list[list[Comparison]] = [[]]
    position = 0
    while True:
        match = _CLAUSE.match(text, position)
        if match is None:
            raise _bad_filter(f"Cannot parse filter near {text[position : position + 40]!r}.")
        groups[-1].append(_comparison(*match.groups(), fields=fields))
        position = match.end()
        if position == len(text):
            break
        joiner = _JOINER.match(text, position)
        if joiner is None:
            raise _bad_filter(f"Expected AND or OR near {text[position : position + 40]!r}.")
        if joiner.group(1) == "OR":
            groups.append([])
        position = joiner.end()
    return Filter(text, tuple(tuple(group) for group in groups))


def _comparison(field: str, op: str, raw: str, *, fields: frozenset[str]) -> Comparison:
    if _root(field) not in fields:
        raise _bad_filter(f"Unknown filter field {field[:60]!r}.")
    value = raw.replace("''", "'")
    if field in _INSTANT_FIELDS and op != "~":
        try:
            instant = parse_instant(value).timestamp()
        except ValueError:
            raise _bad_filter(f"{field} needs an ISO 8601 date-time, got {value[:40]!r}.") from None
        return Comparison((field,), op, value, instant)
    return Comparison(tuple(field.split(".")), op, value)


def _root(field: str) -> str:
    return field.split(".", 1)[0]


def _leaves(value: Any, path: tuple[str, ...]) -> list[str]:
    """Scalar values at `path`, flattening lists along the way, as text."""
    if isinstance(value, list):
        return [leaf for item in value for leaf in _leaves(item, path)]
    if not path:
        if isinstance(value, bool):
            return ["true" if value else "false"]
        return [] if value is None or isinstance(value, dict) else [str(value)]
    if not isinstance(value, Mapping) or path[0] not in value:
        return []
    return _leaves(value[path[0]], path[1:])


class Selector:
    """Turns (endpoint, filter, sort) into the ordered sourcedIds, caching recent answers.

    Cached answers are keyed by the collection's version, so any mutation invalidates them.
    Paging through a filtered collection therefore filters once, not once per page.
    """

    def __init__(self, district: District, size: int = 32) -> None:
        self.district = district
        self.size = size
        self._cache: OrderedDict[tuple[Any, ...], list[str]] = OrderedDict()
        self._lock = threading.Lock()

    def select(
        self, endpoint: Endpoint, where: Filter | None, sort: str, descending: bool
    ) -> list[str]:
        """Ids of the endpoint's records matching `where`, in the requested order."""
        collection = endpoint.collection
        key = (
            endpoint.name,
            self.district.version(collection),
            where.text if where else None,
            sort,
            descending,
        )
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                return cached

        with self.district.lock:
            ids = self._compute(endpoint, where, sort, descending)
        with self._lock:
            self._cache[key] = ids
            while len(self._cache) > self.size:
                self._cache.popitem(last=False)
        return ids

    def _compute(
        self, endpoint: Endpoint, where: Filter | None, sort: str, descending: bool
    ) -> list[str]:
        district, collection = self.district, endpoint.collection
        ids = district.sorted_ids(collection)
        if endpoint.keep is None and where is None and sort == "sourcedId" and not descending:
            # the live sorted list: the common full pull needs no copy
            return ids
        by_id = district.records(collection)
        bound = where.lower_bound() if where is not None else None
        if bound is not None:
            assert bound.instant is not None
            ids = district.modified_after(collection, bound.instant, inclusive=bound.op == ">=")
        if endpoint.keep is not None:
            keep = endpoint.keep
            ids = [sourced_id for sourced_id in ids if keep(by_id[sourced_id])]
        if where is not None:
            ids = where.select(ids, by_id, district.instants(collection))
        records = [by_id[sourced_id] for sourced_id in ids]
        if sort != "sourcedId":
            path = tuple(sort.split("."))
            # records without the field sort last; ties keep sourcedId order (stable sort)
            present = [r for r in records if _leaves(r, path)]
            absent = [r for r in records if not _leaves(r, path)]
            present.sort(key=lambda r: _leaves(r, path)[0], reverse=descending)
            records = present + absent
        elif descending:
            records.reverse()
        return [record["sourcedId"] for record in records]
