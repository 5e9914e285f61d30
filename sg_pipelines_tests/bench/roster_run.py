"""The contender under test: the roster sync, exactly as the collection assets run it.

`begin_sync`, then `sync_collection` for every collection in the assets' order, then
`finish_sync`, on one client and one warehouse connection, without Dagster around it. The
warehouse file lives in the workdir, so a delta run after a full run there is a true delta:
it asks only for records modified since the full pull's cursor.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

from sg_pipelines.roster.client import OneRosterClient
from sg_pipelines.roster.collections import COLLECTIONS
from sg_pipelines.roster.sync import begin_sync, finish_sync, sync_collection
from sg_pipelines.settings import OneRosterSettings, RosterSettings
from sg_pipelines.warehouse import connect
from sg_pipelines_tests.bench.measure import Target

WAREHOUSE_FILE = "warehouse.duckdb"


def run_roster_sync(target: Target, workdir: Path, *, full: bool) -> dict[str, object]:
    """One sync run (full, or delta against the workdir's earlier full sync)."""
    settings = OneRosterSettings()
    client = OneRosterClient(
        target.base_url,
        target.token_url,
        target.client_id,
        target.client_secret,
        page_size=target.page_size,
        max_concurrency=target.concurrency,
        timeout_seconds=settings.timeout_seconds,
    )
    collections = [COLLECTIONS[name] for name in target.collections]

    started = time.perf_counter()
    with client, connect(workdir / WAREHOUSE_FILE) as conn:
        run = begin_sync(
            conn,
            f"bench-{uuid.uuid4()}",
            "full" if full else "delta",
            lookback_seconds=settings.delta_lookback_seconds,
        )
        results = [
            sync_collection(conn, client, collection, run, RosterSettings())
            for collection in collections
        ]
        status, message = finish_sync(conn, run.sync_id)
    seconds = time.perf_counter() - started

    if status != "complete":
        raise RuntimeError(f"the {run.mode} sync ended {status}: {message}")
    return {
        "records": {result.collection: result.fetched for result in results},
        "seconds": seconds,
        "details": {
            "mode": run.mode,
            "pull_seconds": {result.collection: round(result.seconds, 2) for result in results},
            "upserted": sum(result.upserted for result in results),
        },
    }
