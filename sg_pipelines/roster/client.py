"""An httpx client for a OneRoster 1.2 rostering provider (Infinite Campus, or the sandbox).

    with OneRosterClient(base_url, token_url, client_id, client_secret) as client:
        pull = client.pull("users", keep)  # keep(chunks) stores one body, e.g. `PageFiles`
        for page in pull:
            ...
        pull.consistent

Every request carries a cached bearer token (client credentials, HTTP Basic, all scopes). 429,
5xx and transport errors are retried for that one request, honouring `Retry-After`; a 401 drops
the token and retries once with a fresh one. Logs carry collection names, offsets, counts and
durations, never record contents. Bodies are streamed to `keep` as they arrive, so a 10 MB page
never sits in memory whole.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

import httpx

from sg_pipelines.roster.errors import (
    AuthError,
    ForbiddenError,
    ProviderError,
    RetriesExhausted,
    RosterError,
)
from sg_pipelines.roster.paging import CollectionPull, Fetched
from sg_pipelines.roster.retry import RETRYABLE_STATUS, Backoff, retry_after_seconds
from sg_pipelines.roster.token import Token, TokenCache, usable_ttl
from sg_pipelines.settings import ONEROSTER_SCOPES, OneRosterSettings

logger = logging.getLogger(__name__)

SCOPE_BY_COLLECTION = {"demographics": "roster-demographics.readonly"}


class Counted(Protocol):
    record_count: int


P = TypeVar("P", bound=Counted)
B = TypeVar("B")


@dataclass(frozen=True)
class PageResponse(Generic[B]):
    """What `keep` made of a 200 body, and the response's `X-Total-Count`."""

    body: B
    total: int | None


def read_body(chunks: Iterator[bytes]) -> bytes:
    """The whole body in memory: for small responses and tests."""
    return b"".join(chunks)


class OneRosterClient:
    """Talks to one provider. Thread-safe: pages of a pull are fetched from worker threads.

    Args:
        serial: one request at a time (Campus peak hours), whatever `max_concurrency` says.
        sleep, clock, wall_clock, rng: injectable for tests (`time.sleep`, `time.monotonic`,
            `time.time`, a `random.Random`).
        transport: an httpx transport, e.g. `httpx.MockTransport` in tests.
    """

    def __init__(
        self,
        base_url: str,
        token_url: str,
        client_id: str,
        client_secret: str,
        *,
        scopes: Sequence[str] = ONEROSTER_SCOPES,
        page_size: int = 1000,
        max_concurrency: int = 5,
        serial: bool = False,
        timeout_seconds: float = 30.0,
        max_retries: int = 5,
        max_backoff_seconds: float = 60.0,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
        log: logging.Logger | logging.LoggerAdapter = logger,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token_url = token_url
        self.page_size = page_size
        self.concurrency = 1 if serial else max(1, max_concurrency)
        self._credentials = (client_id, client_secret)
        self._scopes = " ".join(scopes)
        self._backoff = Backoff(max_retries, max_backoff_seconds, rng=rng or random.Random())
        self._sleep = sleep
        self._wall_clock = wall_clock
        self._log = log
        self._http = httpx.Client(
            timeout=httpx.Timeout(timeout_seconds),
            limits=httpx.Limits(
                max_connections=self.concurrency + 1, max_keepalive_connections=self.concurrency + 1
            ),
            transport=transport,
        )
        self._tokens = TokenCache(self._request_token, clock=clock)

    @classmethod
    def from_settings(
        cls, settings: OneRosterSettings, client_secret: str, **kwargs: Any
    ) -> OneRosterClient:
        """A client configured from the district's `oneroster` settings."""
        return cls(
            settings.base_url,
            settings.token_url,
            settings.client_id,
            client_secret,
            scopes=settings.scopes,
            page_size=settings.page_size,
            max_concurrency=settings.max_concurrency,
            serial=settings.serial,
            timeout_seconds=settings.timeout_seconds,
            max_retries=settings.max_retries,
            max_backoff_seconds=settings.max_backoff_seconds,
            **kwargs,
        )

    def __enter__(self) -> OneRosterClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def pull(
        self,
        collection: str,
        keep: Callable[[Iterator[bytes]], P],
        *,
        filter: str | None = None,
    ) -> CollectionPull[P]:
        """All pages of `/{collection}`, each kept in the worker thread that fetched it.

        Args:
            keep: turns a response body, as an iterator of chunks, into a page object with a
                `record_count`.
            filter: a OneRoster filter, e.g. `dateLastModified>'2025-03-04T09:00:00Z'`.
        """

        def fetch(offset: int, limit: int) -> Fetched[P]:
            response = self.fetch_page(collection, offset, limit, filter=filter, keep=keep)
            return Fetched(response.body, response.body.record_count, response.total)

        return CollectionPull(
            fetch,
            page_size=self.page_size,
            concurrency=self.concurrency,
            label=collection,
            log=self._log,
        )

    def fetch_page(
        self,
        collection: str,
        offset: int,
        limit: int,
        *,
        filter: str | None = None,
        keep: Callable[[Iterator[bytes]], B] = read_body,
    ) -> PageResponse[B]:
        """One page of `/{collection}`; retried on its own, never restarting the pull.

        A 200 body goes to `keep` while it streams in; a transport error midway retries the
        page, and `keep` starts over with the new response.
        """
        params: dict[str, str | int] = {"limit": limit, "offset": offset}
        if filter:
            params["filter"] = filter
        where = f"/{collection} offset {offset}"
        url = f"{self.base_url}/{collection}"
        refreshed = False
        started = time.monotonic()
        kept: list[B] = []

        def send() -> httpx.Response:
            token = self._tokens.get()
            request = self._http.build_request(
                "GET", url, params=params, headers={"Authorization": f"Bearer {token}"}
            )
            response = self._http.send(request, stream=True)
            try:
                if response.status_code == 200:
                    kept[:] = [keep(response.iter_bytes())]
                else:
                    response.read()  # an error body is small; its text goes into the error
            finally:
                response.close()
            if response.status_code == 401:
                self._tokens.invalidate(token)
            return response

        while True:
            response = self._with_retries(where, send)
            if response.status_code != 401:
                break
            if refreshed:
                raise AuthError(
                    f"{where}: 401 even with a fresh token; check the client credentials"
                )
            refreshed = True
            self._log.info("%s: 401, fetching a fresh token and retrying once", where)

        if response.status_code == 403:
            scope = SCOPE_BY_COLLECTION.get(collection)
            raise ForbiddenError(
                f"{where}: 403 forbidden; the Campus connection does not grant "
                f"{scope or 'access to this collection'}",
                collection=collection,
                scope=scope,
            )
        if response.status_code != 200:
            raise ProviderError(
                f"{where}: HTTP {response.status_code} {_imsx_description(response)}"
            )

        self._log.debug(
            "%s: %d bytes in %.0f ms", where, response.num_bytes_downloaded, _ms(started)
        )
        return PageResponse(kept[0], _total(response))

    def _request_token(self) -> Token:
        def send() -> httpx.Response:
            return self._http.post(
                self.token_url,
                auth=self._credentials,
                data={"grant_type": "client_credentials", "scope": self._scopes},
            )

        response = self._with_retries("token request", send)
        if response.status_code in (400, 401, 403):
            raise AuthError(
                f"the token endpoint refused the client credentials (HTTP {response.status_code})"
            )
        if response.status_code != 200:
            raise ProviderError(f"token request: HTTP {response.status_code}")
        try:
            body = response.json()
            access_token = body["access_token"]
        except (ValueError, KeyError, TypeError) as error:
            raise ProviderError("token response holds no access_token") from error
        if not isinstance(access_token, str) or not access_token.strip():
            raise ProviderError("token response holds no usable access_token")
        return Token(str(access_token), usable_ttl(body.get("expires_in")))

    def _with_retries(self, where: str, send: Callable[[], httpx.Response]) -> httpx.Response:
        """Send, retrying 429/5xx/transport errors with backoff, up to `max_retries` times."""
        retry = 0
        while True:
            retry_after = None
            try:
                response = send()
            except httpx.TransportError as error:
                reason = type(error).__name__
            else:
                if response.status_code not in RETRYABLE_STATUS:
                    return response
                reason = f"HTTP {response.status_code}"
                retry_after = retry_after_seconds(
                    response.headers.get("Retry-After"), self._wall_clock()
                )

            retry += 1
            if retry > self._backoff.max_retries:
                raise RetriesExhausted(f"{where}: gave up after {retry} attempts (last: {reason})")
            if retry_after is not None and retry_after > self._backoff.max_backoff_seconds:
                raise RetriesExhausted(
                    f"{where}: {reason} asks to wait {retry_after:.0f}s, longer than "
                    f"max_backoff_seconds={self._backoff.max_backoff_seconds:.0f}"
                )
            delay = self._backoff.delay(retry, retry_after)
            self._log.warning(
                "%s: %s, retry %d of %d in %.1fs",
                where,
                reason,
                retry,
                self._backoff.max_retries,
                delay,
            )
            self._sleep(delay)


def _total(response: httpx.Response) -> int | None:
    value = response.headers.get("X-Total-Count")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _imsx_description(response: httpx.Response) -> str:
    """The provider's own error text (imsx_description), if any, shortened for logs."""
    try:
        body = response.json()
    except ValueError:
        return ""
    description = body.get("imsx_description") if isinstance(body, dict) else None
    return str(description)[:200] if description else ""


def _ms(started: float) -> float:
    return (time.monotonic() - started) * 1000


__all__ = ["OneRosterClient", "PageResponse", "RosterError"]
