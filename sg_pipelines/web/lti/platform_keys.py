"""Platform key sets (JWKS), fetched from each registration's key-set URL and cached.

A set is cached for `key_set_cache_seconds`. A token whose `kid` is not in a fresh set causes
one refetch, and at most one refetch per URL every `key_set_refetch_seconds`, so a burst of
random `kid`s cannot turn the tool into a request amplifier. Only the registered URL is ever
fetched (headers such as `jku` or `x5u` are never followed), redirects are not followed, and a
failed or malformed fetch never replaces a good set: it fails the launch at hand, closed.
Symmetric keys and keys marked for encryption are dropped on import, and private parts are
never kept, so a set cannot smuggle in an HMAC secret.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, RSAKey

from sg_pipelines.web.lti.config import LtiSettings

logger = logging.getLogger(__name__)

MAX_KEY_SET_BYTES = 65_536
MAX_KEYS = 20
PUBLIC_PARAMS = {
    "RSA": ("kty", "n", "e", "kid", "alg", "use"),
    "EC": ("kty", "crv", "x", "y", "kid", "alg", "use"),
}
KEY_TYPES: dict[str, type[RSAKey] | type[ECKey]] = {"RSA": RSAKey, "EC": ECKey}

PlatformKey = RSAKey | ECKey


class KeySetUnavailable(Exception):
    """The key set could not be fetched or read; the launch fails closed."""


@dataclass
class _CachedSet:
    keys: list[PlatformKey] = field(default_factory=list)
    fetched_at: float | None = None
    attempted_at: float | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


def parse_key_set(document: Any) -> list[PlatformKey]:
    """The usable public signing keys of a JWKS document; raises KeySetUnavailable if malformed."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise KeySetUnavailable("the key set has no 'keys' list")
    keys: list[PlatformKey] = []
    for entry in document["keys"][:MAX_KEYS]:
        if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
            continue
        key_type = KEY_TYPES.get(entry.get("kty"))
        if key_type is None:
            continue
        public = {name: entry[name] for name in PUBLIC_PARAMS[entry["kty"]] if name in entry}
        try:
            keys.append(key_type.import_key(public))
        except (JoseError, ValueError, TypeError):
            continue
    return keys


class PlatformKeySets:
    """Cached platform key sets by URL; thread-safe, one lock per URL."""

    def __init__(
        self,
        settings: LtiSettings,
        http: httpx.Client | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._settings = settings
        self._http = http or httpx.Client(
            timeout=httpx.Timeout(settings.key_set_timeout_seconds), follow_redirects=False
        )
        self._clock = clock
        self._sets: dict[str, _CachedSet] = {}
        self._lock = threading.Lock()
        self.fetches = 0

    def candidates(self, url: str, kid: str | None) -> list[PlatformKey]:
        """The keys that may have signed a token with this `kid` (empty: none may).

        Without a `kid` the single key of a one-key set is the candidate (fault B8), and only
        when `single_key_without_kid` allows it.
        """
        cached = self._cached(url)
        with cached.lock:
            now = self._clock()
            fresh = (
                cached.fetched_at is not None
                and now - cached.fetched_at < self._settings.key_set_cache_seconds
            )
            if not fresh:
                self._fetch(url, cached, now)
            elif (
                kid is not None
                and self._find(cached, kid) is None
                and self._may_refetch(cached, now)
            ):
                # an unknown kid may be a rotation (OIDC Core §10.1.1): look once more
                self._fetch(url, cached, now)

            if kid is None:
                single = self._settings.single_key_without_kid and len(cached.keys) == 1
                return list(cached.keys) if single else []
            found = self._find(cached, kid)
            return [found] if found is not None else []

    def _cached(self, url: str) -> _CachedSet:
        with self._lock:
            return self._sets.setdefault(url, _CachedSet())

    @staticmethod
    def _find(cached: _CachedSet, kid: str) -> PlatformKey | None:
        return next((key for key in cached.keys if key.kid == kid), None)

    def _may_refetch(self, cached: _CachedSet, now: float) -> bool:
        last = cached.attempted_at
        return last is None or now - last >= self._settings.key_set_refetch_seconds

    def _fetch(self, url: str, cached: _CachedSet, now: float) -> None:
        if cached.attempted_at is not None and not self._may_refetch(cached, now):
            if cached.fetched_at is None:
                raise KeySetUnavailable("the key set failed recently; not retrying yet")
            return
        cached.attempted_at = now
        self.fetches += 1
        started = time.perf_counter()
        try:
            response = self._http.get(url, headers={"Accept": "application/json"})
            if response.status_code != 200:
                raise KeySetUnavailable(f"the key set answered HTTP {response.status_code}")
            if len(response.content) > MAX_KEY_SET_BYTES:
                raise KeySetUnavailable("the key set is too large")
            keys = parse_key_set(response.json())
        except (httpx.HTTPError, ValueError) as exc:
            logger.warning("platform key set fetch failed: %s", type(exc).__name__)
            raise KeySetUnavailable("the key set could not be fetched") from exc
        except KeySetUnavailable as exc:
            logger.warning("platform key set refused: %s", exc)
            raise
        cached.keys = keys
        cached.fetched_at = now
        logger.info(
            "fetched a platform key set: %d keys in %.0f ms",
            len(keys),
            (time.perf_counter() - started) * 1000,
        )
