"""An in-process OneRoster provider for `httpx.MockTransport`, with switchable faults."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from sg_pipelines.roster.client import OneRosterClient

BASE_URL = "https://campus.test/ims/oneroster/rostering/v1p2"
TOKEN_URL = "https://campus.test/oauth2/token"

Fault = Callable[[httpx.Request, int], httpx.Response | None]


@dataclass
class FakeProvider:
    """Serves `collections[name]` with limit/offset paging and X-Total-Count.

    Args:
        page_cap: the most records a page holds, whatever `limit` asks (a silent clamp).
        send_total: whether to send X-Total-Count.
        total_for: overrides the X-Total-Count of a page: `total_for(name, offset, true_total)`.
        faults: called first for every data request with the request and its number for that
            (collection, offset); a response returned is sent instead of the page.
        delay: seconds each data request takes, to observe concurrency.
    """

    collections: dict[str, list[Any]] = field(default_factory=dict)
    page_cap: int | None = None
    send_total: bool = True
    total_for: Callable[[str, int, int], int] | None = None
    faults: list[Fault] = field(default_factory=list)
    delay: float = 0.0
    token_status: int = 200
    expires_in: Any = 3600
    token_override: dict[str, Any] | None = None

    requests: list[tuple[str, int]] = field(default_factory=list)
    token_requests: list[httpx.Request] = field(default_factory=list)
    in_flight: int = 0
    peak_in_flight: int = 0
    tokens_issued: int = 0
    valid_tokens: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _seen: dict[tuple[str, int], int] = field(default_factory=dict)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/oauth2/token"):
            return self._token(request)
        return self._page(request)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)

    def client(self, **kwargs: Any) -> OneRosterClient:
        options: dict[str, Any] = {"sleep": lambda seconds: None, "max_backoff_seconds": 5.0}
        options.update(kwargs)
        return OneRosterClient(
            BASE_URL, TOKEN_URL, "client", "secret", transport=self.transport(), **options
        )

    def _token(self, request: httpx.Request) -> httpx.Response:
        self.token_requests.append(request)
        if self.token_status != 200:
            return httpx.Response(self.token_status, json={"error": "invalid_client"})
        with self._lock:
            self.tokens_issued += 1
            token = f"token-{self.tokens_issued}"
            self.valid_tokens.add(token)
        body = {"access_token": token, "token_type": "bearer", "expires_in": self.expires_in}
        return httpx.Response(200, json=self.token_override or body)

    def _page(self, request: httpx.Request) -> httpx.Response:
        name = request.url.path.rsplit("/", 1)[-1]
        offset = int(request.url.params.get("offset", 0))
        limit = int(request.url.params.get("limit", 100))
        with self._lock:
            self.requests.append((name, offset))
            number = self._seen.get((name, offset), 0) + 1
            self._seen[(name, offset)] = number
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            if self.delay:
                time.sleep(self.delay)
            for fault in self.faults:
                response = fault(request, number)
                if response is not None:
                    return response
            token = request.headers.get("Authorization", "").removeprefix("Bearer ")
            if token not in self.valid_tokens:
                return httpx.Response(401, json={"imsx_codeMajor": "failure"})

            records = self.collections.get(name, [])
            size = min(limit, self.page_cap) if self.page_cap else limit
            page = records[offset : offset + size]
            headers = {"Content-Type": "application/json"}
            if self.send_total:
                total = len(records)
                if self.total_for:
                    total = self.total_for(name, offset, total)
                headers["X-Total-Count"] = str(total)
            return httpx.Response(200, content=json.dumps({name: page}), headers=headers)
        finally:
            with self._lock:
                self.in_flight -= 1


def user(sourced_id: str, role: str = "student", **fields: Any) -> dict[str, Any]:
    record = {
        "sourcedId": sourced_id,
        "status": "active",
        "dateLastModified": "2025-03-01T12:00:00Z",
        "enabledUser": "true",
        "givenName": "Given",
        "familyName": "Family",
        "roles": [{"roleType": "primary", "role": role, "org": {"sourcedId": "sch-1"}}],
    }
    record.update(fields)
    return record


def enrollment(sourced_id: str, user_id: str, **fields: Any) -> dict[str, Any]:
    record = {
        "sourcedId": sourced_id,
        "status": "active",
        "dateLastModified": "2025-03-01T12:00:00Z",
        "user": {"sourcedId": user_id, "type": "user"},
        "class": {"sourcedId": "cls-1", "type": "class"},
        "school": {"sourcedId": "sch-1", "type": "org"},
        "role": "student",
        "primary": "true",
        "beginDate": "2024-08-20",
        "endDate": "2025-06-01",
    }
    record.update(fields)
    return record


def org(sourced_id: str, identifier: str, **fields: Any) -> dict[str, Any]:
    record = {
        "sourcedId": sourced_id,
        "status": "active",
        "dateLastModified": "2025-03-01T12:00:00Z",
        "name": "School",
        "type": "school",
        "identifier": identifier,
    }
    record.update(fields)
    return record
