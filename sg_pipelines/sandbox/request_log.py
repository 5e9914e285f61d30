"""A log of the requests a sandbox served, and the most it served at once."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Requests to the sandbox's own control endpoints are not logged.
CONTROL_PREFIX = "/sandbox/"


@dataclass(frozen=True)
class LoggedRequest:
    """One served request."""

    method: str
    path: str
    query: str
    status: int
    started_at: datetime
    duration_seconds: float


class RequestLog:
    """Requests served so far, with the in-flight count and its maximum."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.entries: list[LoggedRequest] = []
        self.in_flight = 0
        self.max_concurrency = 0

    def clear(self) -> None:
        """Forget logged requests and the concurrency maximum."""
        with self._lock:
            self.entries = []
            self.max_concurrency = self.in_flight

    def started(self) -> None:
        with self._lock:
            self.in_flight += 1
            self.max_concurrency = max(self.max_concurrency, self.in_flight)

    def finished(self, entry: LoggedRequest) -> None:
        with self._lock:
            self.in_flight -= 1
            self.entries.append(entry)

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[LoggedRequest]:
        return iter(list(self.entries))

    def paths(self, status: int | None = None) -> list[str]:
        """Logged paths, optionally only those answered with `status`."""
        return [e.path for e in list(self.entries) if status is None or e.status == status]

    def as_dict(self) -> dict[str, Any]:
        """The log as `GET /sandbox/requests` shows it."""
        entries = list(self.entries)
        return {
            "max_concurrency": self.max_concurrency,
            "in_flight": self.in_flight,
            "requests": [
                {**asdict(e), "started_at": e.started_at.isoformat().replace("+00:00", "Z")}
                for e in entries
            ],
        }


class RequestLogMiddleware:
    """ASGI middleware that records each HTTP request in a `RequestLog`."""

    def __init__(self, app: ASGIApp, log: RequestLog) -> None:
        self.app = app
        self.log = log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return

        status = 500
        started_at = datetime.now(UTC)
        started = time.perf_counter()

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        self.log.started()
        try:
            await self.app(scope, receive, recording_send)
        finally:
            self.log.finished(
                LoggedRequest(
                    method=scope["method"],
                    path=scope["path"],
                    query=scope.get("query_string", b"").decode("latin-1"),
                    status=status,
                    started_at=started_at,
                    duration_seconds=time.perf_counter() - started,
                )
            )
