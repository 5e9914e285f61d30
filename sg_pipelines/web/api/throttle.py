"""The failed-attempt budget of the token endpoint (RFC 6749 §2.3.1 brute-force protection).

Failed client authentications are counted per claimed client id and per address in a sliding
window (`api.failed_auth_*` settings). Once either count reaches its limit, further **failed**
attempts are answered 429 with `Retry-After` instead of 401. Valid credentials are always
checked and always get a token, so an attacker hammering a client id from anywhere cannot lock
Campus out; with 256-bit secrets the budget is not what stops guessing (entropy is), it sheds
the load, marks the attack in the audit, and drives the burst alert to the account's contact.
Counts live in this process's memory: one app process serves the API.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

MAX_TRACKED_KEYS = 10_000


class FailedAttempts:
    """Sliding-window counts of failed token requests per client id and per address."""

    def __init__(
        self,
        per_client: int,
        per_address: int,
        window_seconds: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_client = per_client
        self.per_address = per_address
        self.window_seconds = window_seconds
        self._clock = clock
        # each failure as (when, address), under the client id and under the address
        self._by_client: OrderedDict[str, deque[tuple[float, str]]] = OrderedDict()
        self._by_address: OrderedDict[str, deque[tuple[float, str]]] = OrderedDict()
        self._lock = threading.Lock()

    def record(self, client_id: str | None, address: str) -> None:
        """Count one failed attempt."""
        now = self._clock()
        with self._lock:
            for key, table in ((client_id, self._by_client), (address, self._by_address)):
                if key is None:
                    continue
                self._window(table, key, now).append((now, address))
                table.move_to_end(key)
                while len(table) > MAX_TRACKED_KEYS:
                    table.popitem(last=False)

    def retry_after(self, client_id: str | None, address: str) -> int | None:
        """Seconds until a failed attempt of this client or address is heard again, or None
        while both are within budget."""
        now = self._clock()
        waits = []
        with self._lock:
            for key, table, limit in (
                (client_id, self._by_client, self.per_client),
                (address, self._by_address, self.per_address),
            ):
                if key is None or key not in table:
                    continue
                window = self._window(table, key, now)
                if len(window) >= limit:
                    waits.append(window[-limit][0] + self.window_seconds - now)
        return max(1, int(max(waits)) + 1) if waits else None

    def addresses_for(self, client_id: str) -> int:
        """How many distinct addresses failed for a client in the window (never which)."""
        with self._lock:
            window = self._window(self._by_client, client_id, self._clock())
            return len({address for _, address in window})

    def _window(
        self, table: OrderedDict[str, deque[tuple[float, str]]], key: str, now: float
    ) -> deque[tuple[float, str]]:
        window = table.setdefault(key, deque())
        while window and window[0][0] <= now - self.window_seconds:
            window.popleft()
        return window
