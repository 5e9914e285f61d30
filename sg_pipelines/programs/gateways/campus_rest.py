"""The Campus REST adapter: program flags over the partner-only OneRoster 1.2 extension.

The endpoint is written down in docs/campus-flags-api.md. Every request carries a bearer token
from the OneRoster token endpoint (cached, renewed at 80% of its life, refetched once after a
401) and the `x-vendor-authorization` header. 429, 5xx and transport errors are retried with
capped, jittered backoff honouring `Retry-After`; the token cache and the backoff are the roster
client's own. Participations are written with PUT to ids we choose, so a retry never duplicates.
Errors are recorded as status codes and imsx code minors only: Campus's own text may quote a
student.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any, Literal

import httpx

from sg_pipelines.programs.gateways.base import (
    CampusFlag,
    ChangeResult,
    FlagChange,
    FlagProgram,
    FlagSetupError,
    GatewayError,
    ProgramFlag,
    missing_flag_message,
    program_flag_id,
)
from sg_pipelines.roster.retry import RETRYABLE_STATUS, Backoff, retry_after_seconds
from sg_pipelines.roster.token import DEFAULT_TTL_SECONDS, Token, TokenCache

logger = logging.getLogger(__name__)

VENDOR_HEADER = "x-vendor-authorization"


class CampusAuthError(GatewayError):
    """Campus refused the client credentials or the vendor key, even with a fresh token."""


class _Exhausted(GatewayError):
    def __init__(self, message: str, attempts: int) -> None:
        super().__init__(message)
        self.attempts = attempts


class CampusRestGateway:
    """Reads and writes one district's program flags through the Campus REST endpoint.

    Args:
        base_url: the flags base URL (`.../ims/oneroster/v1p2`).
        token_url, client_id, client_secret: the OneRoster OAuth 2.0 client credentials.
        vendor_key, vendor_secret: our Digital Learning Partner key pair.
        flag_mode: "create" makes a missing program flag; "existing" only finds one.
        max_retries: retries per request after the first attempt.
        transport, sleep, wall_clock, rng: injectable for tests.
    """

    name = "campus_rest"

    def __init__(
        self,
        base_url: str,
        token_url: str,
        client_id: str,
        client_secret: str,
        vendor_key: str,
        vendor_secret: str,
        *,
        flag_mode: Literal["create", "existing"] = "create",
        page_size: int = 1000,
        timeout_seconds: float = 30.0,
        max_retries: int = 3,
        max_backoff_seconds: float = 60.0,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        wall_clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
        log: logging.Logger | logging.LoggerAdapter = logger,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token_url = token_url
        self.owner = vendor_key
        self.flag_mode = flag_mode
        self.page_size = page_size
        self._credentials = (client_id, client_secret)
        self._vendor = f"{vendor_key}:{vendor_secret}"
        self._backoff = Backoff(max_retries, max_backoff_seconds, rng=rng or random.Random())
        self._sleep = sleep
        self._wall_clock = wall_clock
        self._log = log
        self._http = httpx.Client(timeout=httpx.Timeout(timeout_seconds), transport=transport)
        self._tokens = TokenCache(self._request_token)
        self._flags: dict[str, ProgramFlag] = {}

    def __enter__(self) -> CampusRestGateway:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # the gateway protocol

    def ensure_program_flag(self, program: FlagProgram) -> ProgramFlag:
        """Find the flag named like the program (Special Ed ticked, active), or create it."""
        if program.key in self._flags:
            return self._flags[program.key]

        name = program.flag_name
        found = [
            flag
            for flag in self._list_program_flags()
            if flag.name.strip().casefold() == name.strip().casefold()
        ]
        usable = [flag for flag in found if flag.special_ed and flag.active]
        if usable:
            flag = usable[0]
        elif found:
            raise FlagSetupError(
                missing_flag_message(name, "exists but is inactive or not Special Ed")
            )
        elif self.flag_mode == "existing":
            raise FlagSetupError(missing_flag_message(name, "does not exist"))
        else:
            flag = self._create_program_flag(name)
            self._log.info("created the Campus program flag for %s", program.key)

        self._flags[program.key] = flag
        return flag

    def current_flags(self, program: FlagProgram) -> list[CampusFlag]:
        """All participations of the program's flag, every page."""
        flag = self.ensure_program_flag(program)
        url = f"{self.base_url}/programs/{flag.flag_id}/participations"
        flags: list[CampusFlag] = []
        offset = 0
        while True:
            response = self._checked(
                f"participations of {program.key} offset {offset}",
                "GET",
                url,
                params={"limit": self.page_size, "offset": offset},
            )
            page = _items(response, "participations")
            flags.extend(_campus_flag(item) for item in page)
            offset += len(page)
            total = _total(response)
            if not page or len(page) < self.page_size or (total is not None and offset >= total):
                break
        self._log.info("read %d Campus flags of %s", len(flags), program.key)
        return flags

    def apply(self, program: FlagProgram, changes: Sequence[FlagChange]) -> list[ChangeResult]:
        """PUT each change to its participation id; failures are recorded, never raised."""
        flag = self.ensure_program_flag(program)
        results: list[ChangeResult] = []
        for index, change in enumerate(changes):
            try:
                attempts = self._put_participation(flag, change)
            except CampusAuthError as error:
                # every later change would be refused the same way: do not hammer Campus
                results.append(ChangeResult(change, "failed", 1, str(error)))
                results += [
                    ChangeResult(later, "skipped", 0, "not attempted after an auth failure")
                    for later in changes[index + 1 :]
                ]
                break
            except _Exhausted as error:
                results.append(ChangeResult(change, "failed", error.attempts, str(error)))
            except GatewayError as error:
                results.append(ChangeResult(change, "failed", 1, str(error)))
            else:
                results.append(ChangeResult(change, "ok", attempts))
        return results

    # requests

    def _list_program_flags(self) -> list[ProgramFlag]:
        flags: list[ProgramFlag] = []
        offset = 0
        while True:
            response = self._checked(
                f"program flags offset {offset}",
                "GET",
                f"{self.base_url}/programs",
                params={"limit": self.page_size, "offset": offset},
            )
            page = _items(response, "programs")
            flags.extend(_program_flag(item) for item in page)
            offset += len(page)
            if not page or len(page) < self.page_size:
                return flags

    def _create_program_flag(self, name: str) -> ProgramFlag:
        flag_id = program_flag_id(self.owner, name)
        response = self._checked(
            "create program flag",
            "PUT",
            f"{self.base_url}/programs/{flag_id}",
            json={"program": {"name": name, "specialEd": True, "active": True}},
        )
        return _program_flag(response.json()["program"])

    def _put_participation(self, flag: ProgramFlag, change: FlagChange) -> int:
        body = {
            "participation": {
                "student": {"sourcedId": change.sourced_id},
                "startDate": change.start_date.isoformat(),
                "endDate": change.end_date.isoformat() if change.end_date else None,
            }
        }
        url = f"{self.base_url}/programs/{flag.flag_id}/participations/{change.participation_id}"
        response, attempts = self._send(f"{change.action} participation", "PUT", url, json=body)
        if response.status_code not in (200, 201):
            raise GatewayError(_refusal(response))
        return attempts

    def _checked(self, where: str, method: str, url: str, **kwargs: Any) -> httpx.Response:
        response, _ = self._send(where, method, url, **kwargs)
        if response.status_code not in (200, 201):
            raise GatewayError(f"{where}: {_refusal(response)}")
        return response

    def _send(self, where: str, method: str, url: str, **kwargs: Any) -> tuple[httpx.Response, int]:
        """One request with the token and vendor headers; retried, and refreshed once on 401."""
        refreshed = False
        attempts = 0
        while True:
            token = self._tokens.get()
            headers = {"Authorization": f"Bearer {token}", VENDOR_HEADER: self._vendor}

            def send(headers: dict[str, str] = headers) -> httpx.Response:
                return self._http.request(method, url, headers=headers, **kwargs)

            response, tries = self._with_retries(where, send)
            attempts += tries
            if response.status_code != 401:
                return response, attempts
            self._tokens.invalidate(token)
            if refreshed:
                raise CampusAuthError(
                    f"{where}: HTTP 401 even with a fresh token; check the OneRoster client "
                    "credentials and the vendor key and secret"
                )
            refreshed = True

    def _request_token(self) -> Token:
        def send() -> httpx.Response:
            return self._http.post(
                self.token_url, auth=self._credentials, data={"grant_type": "client_credentials"}
            )

        response, _ = self._with_retries("token request", send)
        if response.status_code != 200:
            raise CampusAuthError(f"the token endpoint answered HTTP {response.status_code}")
        body = response.json()
        return Token(
            str(body["access_token"]), float(body.get("expires_in") or DEFAULT_TTL_SECONDS)
        )

    def _with_retries(
        self, where: str, send: Callable[[], httpx.Response]
    ) -> tuple[httpx.Response, int]:
        """Send, retrying 429/5xx/transport errors with backoff; returns the attempts made."""
        attempt = 0
        while True:
            attempt += 1
            retry_after = None
            try:
                response = send()
            except httpx.TransportError as error:
                reason = type(error).__name__
            else:
                if response.status_code not in RETRYABLE_STATUS:
                    return response, attempt
                reason = f"HTTP {response.status_code}"
                retry_after = retry_after_seconds(
                    response.headers.get("Retry-After"), self._wall_clock()
                )

            if attempt > self._backoff.max_retries:
                raise _Exhausted(f"{where}: gave up after {attempt} attempts ({reason})", attempt)
            if retry_after is not None and retry_after > self._backoff.max_backoff_seconds:
                raise _Exhausted(f"{where}: {reason} asks to wait {retry_after:.0f}s", attempt)
            delay = self._backoff.delay(attempt, retry_after)
            self._log.warning("%s: %s, retry %d in %.1fs", where, reason, attempt, delay)
            self._sleep(delay)


def _items(response: httpx.Response, key: str) -> list[dict[str, Any]]:
    try:
        items = response.json()[key]
    except (ValueError, KeyError, TypeError) as error:
        raise GatewayError(f"the response holds no {key!r} list") from error
    if not isinstance(items, list):
        raise GatewayError(f"the response's {key!r} is not a list")
    return items


def _program_flag(item: dict[str, Any]) -> ProgramFlag:
    return ProgramFlag(
        str(item["sourcedId"]),
        str(item["name"]),
        bool(item.get("specialEd")),
        bool(item.get("active")),
    )


def _campus_flag(item: dict[str, Any]) -> CampusFlag:
    try:
        end = item.get("endDate")
        return CampusFlag(
            participation_id=str(item["sourcedId"]),
            sourced_id=str(item["student"]["sourcedId"]),
            start_date=date.fromisoformat(item["startDate"]),
            end_date=date.fromisoformat(end) if end else None,
            created_by=item.get("createdBy"),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        # a flag we cannot read could be one we must not touch: stop rather than guess
        raise GatewayError("Campus listed a participation that cannot be read") from error


def _total(response: httpx.Response) -> int | None:
    value = response.headers.get("X-Total-Count")
    return int(value) if value and value.isdigit() else None


def _refusal(response: httpx.Response) -> str:
    """`HTTP 422 (invaliddata)`: the status and imsx code minor, never Campus's free text."""
    try:
        fields = response.json()["imsx_CodeMinor"]["imsx_codeMinorField"]
        minor = f" ({fields[0]['imsx_codeMinorFieldValue']})"
    except (ValueError, KeyError, TypeError, IndexError):
        minor = ""
    return f"HTTP {response.status_code}{minor}"
