"""Helpers for the sandbox's own tests: an authorised HTTP client."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from sg_pipelines.sandbox import SandboxServer
from sg_pipelines.settings import ONEROSTER_SCOPES


def fetch_token(sandbox: SandboxServer, scopes: tuple[str, ...] = ONEROSTER_SCOPES) -> str:
    """A bearer token from the sandbox's token endpoint."""
    response = httpx.post(
        sandbox.token_url,
        auth=(sandbox.client_id, sandbox.client_secret),
        data={"grant_type": "client_credentials", "scope": " ".join(scopes)},
    )
    response.raise_for_status()
    return response.json()["access_token"]


def api_client(sandbox: SandboxServer, token: str) -> httpx.Client:
    """An httpx client on the rostering base URL, sending `token`."""
    return httpx.Client(
        base_url=sandbox.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=10
    )


@pytest.fixture
def api(sandbox: SandboxServer) -> Iterator[httpx.Client]:
    """A client of the function-scoped sandbox, authorised for all three scopes."""
    with api_client(sandbox, fetch_token(sandbox)) as client:
        yield client


def minor_code(response: httpx.Response) -> str:
    """The imsx code minor of a failure response."""
    return response.json()["imsx_CodeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"]
