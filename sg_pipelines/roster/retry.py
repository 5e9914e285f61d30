"""When to retry a request and how long to wait first."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import UTC
from email.utils import parsedate_to_datetime

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
# delay-seconds is 1*DIGIT (RFC 9110); a decimal fraction is read too, as some servers send one
DELAY_SECONDS = re.compile(r"[0-9]+(\.[0-9]+)?")


def retry_after_seconds(value: str | None, now: float) -> float | None:
    """`Retry-After` as seconds to wait: a delay in seconds, or an HTTP-date (RFC 9110 §10.2.3).

    `now` is the wall-clock time (`time.time()`), needed to turn a date into a delay. A value
    that is neither (negative, `nan`, `inf`, garbage) is None: our own backoff applies.
    """
    if not value:
        return None
    text = value.strip()
    if DELAY_SECONDS.fullmatch(text):
        return float(text)
    if text[:1] in "+-." or text[:1].isdigit():
        # a negative, signed, exponent or non-finite number: no delay a server could mean
        return None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)


@dataclass
class Backoff:
    """Capped exponential backoff with jitter; a server's `Retry-After` is a floor, never a factor.

    Args:
        max_retries: retries allowed per request after the first attempt.
        max_backoff_seconds: the cap on our own waits; a server asking for a longer one fails
            the request instead of stalling the sync (see `OneRosterClient`).
        base_seconds: the wait before the first retry, doubled for each later one.
    """

    max_retries: int
    max_backoff_seconds: float
    base_seconds: float = 0.5
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, retry: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number `retry` (1-based)."""
        ceiling = min(self.max_backoff_seconds, self.base_seconds * 2 ** (retry - 1))
        jittered = ceiling / 2 + self.rng.uniform(0, ceiling / 2)
        return jittered if retry_after is None else max(jittered, retry_after)
