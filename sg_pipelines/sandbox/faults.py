"""Switchable misbehaviour, to rehearse the faults real OneRoster providers show.

A `Faults` object is shared by the running server and can be changed at any time, in-process
(`sandbox.faults.add(...)`) or over HTTP (`POST /sandbox/faults`, see docs/sandbox.md). Page
rules fire on collection GETs; the other switches change every response while they are set.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

TotalCountMode = Literal["exact", "drift", "omit"]


class PageFault(BaseModel):
    """One rule for collection GETs: when it matches, it delays, fails or corrupts the page.

    `request` counts GETs of that collection (1-based) since the faults were last cleared;
    `offset` matches the page's offset. A rule with neither matches every request. It fires
    `times` times (null: every time it matches).
    """

    model_config = ConfigDict(extra="forbid")

    collection: str = "*"
    request: int | None = Field(default=None, ge=1)
    offset: int | None = Field(default=None, ge=0)
    times: int | None = Field(default=1, ge=1)
    status: int | None = Field(default=None, ge=400, le=599)
    retry_after: float | None = Field(default=None, ge=0)
    retry_after_format: Literal["seconds", "http-date"] = "seconds"
    delay: float | None = Field(default=None, ge=0)
    body: Any = None
    inject: list[Any] | Literal["malformed"] | None = None
    fired: int = 0

    def matches(self, collection: str, request: int, offset: int) -> bool:
        """Whether the rule applies to this request (ignoring how often it already fired)."""
        return (
            self.collection in ("*", collection)
            and (self.request is None or self.request == request)
            and (self.offset is None or self.offset == offset)
            and (self.times is None or self.fired < self.times)
        )


class FaultSwitches(BaseModel):
    """The HTTP body of `POST /sandbox/faults`: every key optional, `rules` are appended."""

    model_config = ConfigDict(extra="forbid")

    rules: list[PageFault] = Field(default_factory=list)
    total_count: TotalCountMode | None = None
    omit_link: bool | None = None
    page_cap: int | None = Field(default=None, ge=1)
    forbid_demographics: bool | None = None
    token_max_requests: int | None = Field(default=None, ge=0)
    token_max_age_seconds: float | None = Field(default=None, ge=0)


class Faults:
    """The switches a running sandbox consults on every request.

    Attributes:
        rules: page rules (see `PageFault`), tried in order; all that match fire.
        total_count: `exact`; `drift` reports total+1 on every page after the first (A2);
            `omit` sends no `X-Total-Count` at all.
        omit_link: send no `Link` header.
        page_cap: silently return at most this many records per page, whatever `limit` says (A3).
        forbid_demographics: answer 403 on `/demographics` whatever the token's scope (A12).
        token_max_requests: a token stops working after this many API requests (A20).
        token_max_age_seconds: a token stops working this long after it was issued, while its
            `expires_in` still promises more (A20).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._request_counts: dict[str, int] = {}
        self.clear()

    def clear(self) -> None:
        """Switch every fault off and reset the request counters."""
        with self._lock:
            self.rules: list[PageFault] = []
            self.total_count: TotalCountMode = "exact"
            self.omit_link = False
            self.page_cap: int | None = None
            self.forbid_demographics = False
            self.token_max_requests: int | None = None
            self.token_max_age_seconds: float | None = None
            self._request_counts.clear()

    # switching on

    def add(self, rule: PageFault | None = None, **fields: Any) -> PageFault:
        """Add a page rule, given as a `PageFault` or as its fields."""
        rule = rule or PageFault(**fields)
        with self._lock:
            self.rules.append(rule)
        return rule

    def fail(
        self,
        collection: str,
        status: int = 500,
        *,
        times: int | None = 1,
        request: int | None = None,
        offset: int | None = None,
    ) -> PageFault:
        """Answer `status` with an imsx body; `times=None` fails for good."""
        return self.add(
            collection=collection, status=status, times=times, request=request, offset=offset
        )

    def rate_limit(
        self,
        collection: str,
        *,
        retry_after: float = 1,
        http_date: bool = False,
        times: int | None = 1,
        request: int | None = None,
        offset: int | None = None,
    ) -> PageFault:
        """Answer 429 with `Retry-After` in seconds or as an HTTP-date."""
        return self.add(
            collection=collection,
            status=429,
            retry_after=retry_after,
            retry_after_format="http-date" if http_date else "seconds",
            times=times,
            request=request,
            offset=offset,
        )

    def slow(
        self,
        collection: str,
        delay: float,
        *,
        times: int | None = None,
        request: int | None = None,
        offset: int | None = None,
    ) -> PageFault:
        """Hold matching pages for `delay` seconds before answering."""
        return self.add(
            collection=collection, delay=delay, times=times, request=request, offset=offset
        )

    def replace_body(
        self, collection: str, body: Any, *, times: int | None = 1, offset: int | None = None
    ) -> PageFault:
        """Answer 200 with exactly `body`, e.g. `{}` or `{"errors": [...]}` (A5)."""
        return self.add(collection=collection, body=body, times=times, offset=offset)

    def inject(
        self,
        collection: str,
        records: list[Any] | Literal["malformed"] = "malformed",
        *,
        times: int | None = 1,
        offset: int | None = None,
    ) -> PageFault:
        """Append records to a page; `"malformed"` adds the standard bad set (A13)."""
        return self.add(collection=collection, inject=records, times=times, offset=offset)

    def apply(self, switches: FaultSwitches | Mapping[str, Any]) -> None:
        """Apply an HTTP switch body: given fields are set, rules appended."""
        if not isinstance(switches, FaultSwitches):
            switches = FaultSwitches.model_validate(switches)
        with self._lock:
            self.rules.extend(switches.rules)
            for name in switches.model_fields_set - {"rules"}:
                value = getattr(switches, name)
                if name == "total_count" and value is None:
                    value = "exact"
                if name in {"omit_link", "forbid_demographics"} and value is None:
                    value = False
                setattr(self, name, value)

    # consulting (server side)

    def take(self, collection: str, offset: int) -> list[PageFault]:
        """Count one GET of `collection` and return the rules that fire on it."""
        with self._lock:
            request = self._request_counts.get(collection, 0) + 1
            self._request_counts[collection] = request
            fired = [rule for rule in self.rules if rule.matches(collection, request, offset)]
            for rule in fired:
                rule.fired += 1
            return fired

    def request_count(self, collection: str) -> int:
        """GETs of `collection` seen since the faults were last cleared."""
        return self._request_counts.get(collection, 0)

    def as_dict(self) -> dict[str, Any]:
        """The current switches, as `GET /sandbox/faults` shows them."""
        with self._lock:
            return {
                "rules": [rule.model_dump() for rule in self.rules],
                "total_count": self.total_count,
                "omit_link": self.omit_link,
                "page_cap": self.page_cap,
                "forbid_demographics": self.forbid_demographics,
                "token_max_requests": self.token_max_requests,
                "token_max_age_seconds": self.token_max_age_seconds,
                "request_counts": dict(self._request_counts),
            }


def malformed_records(collection: str, new_id: str) -> list[Any]:
    """Records no strict client should accept as they are (A5, A13).

    For demographics: impossible, US-style and empty birth dates. For every collection: a
    record without `sourcedId` and a value that is not an object at all.
    """
    stamp = "2000-01-01T00:00:00.000Z"
    bad: list[Any] = []
    if collection == "demographics":
        bad += [
            {"sourcedId": f"{new_id}-1", "status": "active", "dateLastModified": stamp,
             "birthDate": "2012-13-01", "sex": "female"},
            {"sourcedId": f"{new_id}-2", "status": "active", "dateLastModified": stamp,
             "birthDate": "01/02/2012", "sex": "male"},
            {"sourcedId": f"{new_id}-3", "status": "active", "dateLastModified": stamp,
             "birthDate": "", "sex": "male"},
        ]  # fmt: skip
    else:
        bad.append({"sourcedId": f"{new_id}-1", "status": "active", "dateLastModified": "soon"})
    bad.append({"status": "active", "dateLastModified": stamp})
    bad.append("not-a-record")
    return bad
