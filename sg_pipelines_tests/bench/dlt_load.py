"""The peer: dlt's `rest_api` source loading the same collections into DuckDB.

Configured the way dlt's documentation suggests for throughput: one resource per collection,
all parallelized (dlt's extract pool has `concurrency` workers), an offset paginator with the
same page size, and a bearer token fetched once. In dlt 1.31 `parallelized` in
`resource_defaults` has no effect (every request ran on the main thread), so it is passed to
`rest_api_source` itself. dlt's offset paginator reads totals only from
the JSON body and OneRoster puts them in `X-Total-Count`, so `total_path` is null and each
collection ends on its first empty page: one request more per collection than the sync makes.
dlt's own OAuth2 client-credentials helper posts the secret in the form body, which the sandbox
(like Campus) refuses, hence the pre-fetched token.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from sg_pipelines_tests.bench.floor import fetch_token
from sg_pipelines_tests.bench.measure import Target

DATASET = "oneroster"
# dlt's default for DuckDB is `insert_values` (SQL INSERT files): at 50,000 students it took
# 544 s and peaked at 12 GB here. JSONL is the fastest format that needs no pyarrow.
LOADER_FILE_FORMAT = "jsonl"


def rest_api_config(target: Target, token: str) -> dict[str, object]:
    """The `rest_api` source configuration for the target's collections."""
    return {
        "client": {
            "base_url": f"{target.base_url}/",
            "auth": {"type": "bearer", "token": token},
            "paginator": {
                "type": "offset",
                "limit": target.page_size,
                "offset_param": "offset",
                "limit_param": "limit",
                "total_path": None,
                "stop_after_empty_page": True,
            },
        },
        "resource_defaults": {"write_disposition": "replace"},
        "resources": [
            {"name": name, "endpoint": {"path": name, "data_selector": name}}
            for name in target.collections
        ],
    }


def run_dlt(target: Target, workdir: Path) -> dict[str, object]:
    """Extract, normalise and load into a fresh DuckDB file; return counts and seconds."""
    os.environ["EXTRACT__WORKERS"] = str(target.concurrency)
    os.environ["RUNTIME__DLTHUB_TELEMETRY"] = "false"
    import dlt
    from dlt.sources.rest_api import rest_api_source

    started = time.perf_counter()
    token = fetch_token(target)
    pipeline = dlt.pipeline(
        pipeline_name="bench_roster",
        pipelines_dir=str(workdir / "dlt"),
        destination=dlt.destinations.duckdb(str(workdir / "dlt.duckdb")),
        dataset_name=DATASET,
    )
    source = rest_api_source(rest_api_config(target, token), parallelized=True)
    pipeline.run(source, loader_file_format=LOADER_FILE_FORMAT)
    seconds = time.perf_counter() - started

    # Top-level tables only: dlt also writes child tables for nested lists (roles, agents...).
    naming = pipeline.default_schema.naming
    with pipeline.sql_client() as client:
        records = {
            name: client.execute_sql(
                f"SELECT count(*) FROM {naming.normalize_table_identifier(name)}"
            )[0][0]
            for name in target.collections
        }
    tables = len(pipeline.default_schema.data_table_names())
    return {
        "records": records,
        "seconds": seconds,
        "details": {"tables": tables},
    }
