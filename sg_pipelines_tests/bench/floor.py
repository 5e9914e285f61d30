"""The floor: the sync's pages fetched with plain httpx and thrown away.

Same collections, page size and concurrency as the sync, and the best schedule those allow: one
pool of `concurrency` requests shared by every page of every collection, each collection's
remaining pages queued as soon as its first page names the total. Bodies are read in full and
discarded unparsed, so this measures the provider and the wire, nothing a client does with the
records. Records are counted from `X-Total-Count`.
"""

from __future__ import annotations

import asyncio
import time

import httpx

from sg_pipelines.settings import ONEROSTER_SCOPES
from sg_pipelines_tests.bench.measure import Target

TOTAL_HEADER = "X-Total-Count"


def fetch_token(target: Target) -> str:
    """A bearer token by client credentials, the client authenticating with HTTP Basic."""
    response = httpx.post(
        target.token_url,
        auth=(target.client_id, target.client_secret),
        data={"grant_type": "client_credentials", "scope": " ".join(ONEROSTER_SCOPES)},
        timeout=30,
    )
    response.raise_for_status()
    return response.json()["access_token"]


class _Pages:
    """Pages of every collection through one bounded pool of connections."""

    def __init__(self, client: httpx.AsyncClient, target: Target) -> None:
        self.client = client
        self.target = target
        self.slots = asyncio.Semaphore(target.concurrency)

    async def collection(self, name: str) -> int:
        total = await self.page(name, 0)
        offsets = range(self.target.page_size, total, self.target.page_size)
        await asyncio.gather(*(self.page(name, offset) for offset in offsets))
        return total

    async def page(self, name: str, offset: int) -> int:
        params = {"limit": self.target.page_size, "offset": offset}
        async with self.slots:
            response = await self.client.get(f"/{name}", params=params)
            response.raise_for_status()
            await response.aread()
        return int(response.headers[TOTAL_HEADER])


async def _pull(target: Target, token: str) -> dict[str, int]:
    limits = httpx.Limits(max_connections=target.concurrency)
    async with httpx.AsyncClient(
        base_url=target.base_url,
        headers={"Authorization": f"Bearer {token}"},
        limits=limits,
        timeout=120,
    ) as client:
        pages = _Pages(client, target)
        totals = await asyncio.gather(*(pages.collection(name) for name in target.collections))
    return dict(zip(target.collections, totals, strict=True))


def run_floor(target: Target) -> dict[str, object]:
    """Fetch every page once; return records per collection and seconds."""
    started = time.perf_counter()
    token = fetch_token(target)
    records = asyncio.run(_pull(target, token))
    return {"records": records, "seconds": time.perf_counter() - started}
