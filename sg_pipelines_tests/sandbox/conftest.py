"""Helpers for the sandbox's own tests: an authorised HTTP client."""

from __future__ import annotations

import ssl
from collections.abc import Iterator

import httpx
import pytest

from sg_pipelines.sandbox import SandboxServer
from sg_pipelines.settings import ONEROSTER_SCOPES

# Building a TLS context costs ~50 ms per httpx client; the sandbox is plain HTTP on loopback,
# so every test client shares this one.
TLS = ssl.create_default_context()
# For one-off requests outside an authorised client (token calls, control endpoints).
HTTP = httpx.Client(verify=TLS, timeout=10, limits=httpx.Limits(max_keepalive_connections=0))


def fetch_token(sandbox: SandboxServer, scopes: tuple[str, ...] = ONEROSTER_SCOPES) -> str:
    """A bearer token from the sandbox's token endpoint."""
    response = HTTP.post(
        sandbox.token_url,
        auth=(sandbox.client_id, sandbox.client_secret),
        data={"grant_type": "client_credentials", "scope": " ".join(scopes)},
    )
    response.raise_for_status()
    return response.json()["access_token"]


def api_client(sandbox: SandboxServer, token: str) -> httpx.Client:
    """An httpx client on the rostering base URL, sending `token`."""
    return httpx.Client(
        base_url=sandbox.base_url,
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
        verify=TLS,
    )


@pytest.fixture
def api(sandbox: SandboxServer) -> Iterator[httpx.Client]:
    """A client of the function-scoped sandbox, authorised for all three scopes."""
    with api_client(sandbox, fetch_token(sandbox)) as client:
        yield client


def minor_code(response: httpx.Response) -> str:
    """The imsx code minor of a failure response."""
    return response.json()["imsx_CodeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"]


@pytest.fixture
def session_api(sandbox_session: SandboxServer) -> Iterator[httpx.Client]:
    """A client of the session-wide sandbox (read-only tests), authorised for all scopes."""
    with api_client(sandbox_session, fetch_token(sandbox_session)) as client:
        yield client
