"""OAuth 2.0 client-credentials tokens for the OneRoster provider, renewed at 80% of their life."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

DEFAULT_TTL_SECONDS = 3600.0
REFRESH_AT = 0.8


@dataclass(frozen=True)
class Token:
    access_token: str
    ttl_seconds: float


def usable_ttl(seconds: object) -> float:
    """A token's life as promised by `expires_in`; zero, negative, not finite or not a number
    (`"abc"`, `true`, a list) means unknown."""
    if isinstance(seconds, bool):
        return DEFAULT_TTL_SECONDS
    try:
        value = float(seconds)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return DEFAULT_TTL_SECONDS
    return value if 0 < value < math.inf else DEFAULT_TTL_SECONDS


class TokenCache:
    """Holds one bearer token and fetches a new one before it expires or when told it is bad.

    Args:
        request_token: asks the token endpoint for a token (the client adds retries).
        clock: monotonic seconds, injectable for tests.
    """

    def __init__(
        self, request_token: Callable[[], Token], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._request_token = request_token
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._refresh_after = 0.0

    def get(self) -> str:
        with self._lock:
            if self._token is None or self._clock() >= self._refresh_after:
                issued = self._clock()
                token = self._request_token()
                self._token = token.access_token
                self._refresh_after = issued + REFRESH_AT * usable_ttl(token.ttl_seconds)
            return self._token

    def invalidate(self, token: str) -> None:
        """Drop `token` after a 401, unless another request has already replaced it."""
        with self._lock:
            if self._token == token:
                self._token = None
