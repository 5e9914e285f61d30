"""The benchmark's sandbox: a generated district in its own process, changeable over HTTP.

The sandbox's own `start_subprocess` offers no way to change records in the child process, and a
delta sync needs 1% of the district changed between two pulls. This launcher serves the same
sandbox app (`create_app`) and adds one route the benchmark controls:

    POST /bench/changes {"share": 0.01}  ->  {"changed": {"users": 1227, ...}}

Every `1/share`-th record of each collection is changed through the District's own methods, so
`dateLastModified` moves as it would in Campus: users get a new `middleName`, other records are
touched (stamped modified, values kept; the sync applies both the same way).
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import uvicorn
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from sg_pipelines.sandbox.config import SandboxConfig
from sg_pipelines.sandbox.district import District
from sg_pipelines.sandbox.generator import generate_district
from sg_pipelines.sandbox.runner import SandboxProcess, bind_socket
from sg_pipelines.sandbox.server import create_app

logger = logging.getLogger(__name__)

LAUNCHER_MODULE = "sg_pipelines_tests.bench.sandbox_launcher"
CHANGES_PATH = "/bench/changes"
STARTUP_TIMEOUT_SECONDS = 600.0


def change_share(district: District, collections: list[str], share: float) -> dict[str, int]:
    """Change every `1/share`-th record of each collection; returns how many per collection."""
    step = max(round(1 / share), 1)
    changed = {}
    for name in collections:
        ids = list(district.sorted_ids(name))[step // 2 :: step]
        for sourced_id in ids:
            if name == "users":
                district.update(name, sourced_id, {"middleName": "Delta"})
            else:
                district.touch(name, sourced_id)
        changed[name] = len(ids)
    return changed


class WithChanges:
    """The sandbox app plus `POST /bench/changes`."""

    def __init__(self, app: ASGIApp, district: District) -> None:
        self.app = app
        self.district = district

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != CHANGES_PATH:
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        body = await request.json()
        collections = body.get("collections") or list(self.district)
        changed = change_share(self.district, collections, float(body.get("share", 0.01)))
        logger.info("changed %d records", sum(changed.values()))
        await JSONResponse({"changed": changed})(scope, receive, send)


class BenchSandbox(SandboxProcess):
    """The launcher's process, with the sandbox's handle API plus `change`."""

    def change(self, share: float, collections: list[str]) -> dict[str, int]:
        """Change `share` of the records of each collection, in the running process."""
        response = httpx.post(
            self.root_url + CHANGES_PATH,
            json={"share": share, "collections": collections},
            timeout=300,
        )
        response.raise_for_status()
        return response.json()["changed"]


def start(students: int, seed: int, host: str = "127.0.0.1") -> BenchSandbox:
    """Start the launcher in a child process; returns once it answers its health check."""
    with tempfile.TemporaryDirectory(prefix="sg-bench-sandbox-") as scratch:
        port_file = Path(scratch) / "port"
        command = [
            sys.executable, "-m", LAUNCHER_MODULE, "--students", str(students), "--seed", str(seed),
            "--host", host, "--port-file", str(port_file),
        ]  # fmt: skip
        process = subprocess.Popen(command, env={**os.environ, "PYTHONUNBUFFERED": "1"})

        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while not port_file.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"bench sandbox did not start (exit {process.poll()})")
            time.sleep(0.1)
        handle = BenchSandbox(process, host, int(port_file.read_text()), SandboxConfig())

    while True:
        try:
            if httpx.get(f"{handle.root_url}/sandbox/health", timeout=2).status_code == 200:
                return handle
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            handle.stop()
            raise RuntimeError("bench sandbox never became healthy")
        time.sleep(0.1)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, required=True)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port-file", type=Path, required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")

    # serialise every record up front, so no contender pays for the first encoding
    started = time.perf_counter()
    district = generate_district(args.students, args.seed)
    records = district.warm()
    logger.info("district ready: %d records in %.1fs", records, time.perf_counter() - started)

    sock = bind_socket(args.host, 0)
    host, port = sock.getsockname()[:2]
    app = WithChanges(create_app(district), district)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_keep_alive=30,
        )
    )
    partial = args.port_file.with_suffix(".partial")
    partial.write_text(str(port))
    partial.replace(args.port_file)
    server.run(sockets=[sock])


if __name__ == "__main__":
    main()
