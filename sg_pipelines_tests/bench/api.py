"""Reporting API benchmark: 1,000-record pages of GE and FD for a 50,000-student district, pulled
by 16 concurrent clients while a nightly-like run writes the warehouse.

The district is generated, linked and published as a report snapshot first (not timed). The app
runs in its own process (uvicorn, one worker) on loopback; the load generator is wrk (Debian's
package, `api_wrk.lua` beside this file): two processes, 8 connections each, one paging through
GE and one through FD, with 16 tokens in turn. Meanwhile a third process holds the warehouse open
read-write (DuckDB's exclusive lock) and rebuilds the five record tables over and over, as the
nightly run does. Latency is wrk's, at the client, after one warm-up request per record set
(which may build it from the snapshot; timed separately). Next to it: the same page queried
directly in DuckDB, by the builder on the snapshot and from the API's built record set. Writes
the "Reporting API" section of docs/benchmarks.md.

Run: `python -m sg_pipelines_tests.bench.api [--students 50000] [--seconds 30]`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import httpx

from sg_pipelines.emis.ranges import default_request
from sg_pipelines.emis.records import build_fd, build_ge
from sg_pipelines.emis.snapshot import current_snapshot, open_snapshot
from sg_pipelines.settings import ApiSettings, Settings
from sg_pipelines.web.api.options import ENDPOINTS, decide
from sg_pipelines.web.api.snapshots import ServedSnapshot
from sg_pipelines.web.exports.admin import add_export, build_permissions
from sg_pipelines_tests.web.api_support import accept, publish_district

SECTION_TITLE = "## Reporting API"
BENCHMARKS = Path(__file__).resolve().parents[2] / "docs" / "benchmarks.md"
CLIENTS = 16
PAGE = 1000
P99_TARGET_MS = 100.0

NIGHTLY_RUN = """
import sys
from datetime import date
from sg_pipelines.emis.ranges import default_request
from sg_pipelines.emis.records import BUILDERS
from sg_pipelines.emis.tables import replace_table
from sg_pipelines.warehouse import connect

request = default_request(date.today())
with connect(sys.argv[1]) as conn:
    rounds = 0
    while True:
        for table, builder in BUILDERS.items():
            replace_table(conn, table, builder(conn, request))
        rounds += 1
        print(rounds, flush=True)
"""

logger = logging.getLogger(__name__)


# the app's own "<endpoint> answered <status> in <ms> ms" lines (records.py): the time a
# request spends in the handler, without HTTP, queueing or the client
HANDLER_LINE = re.compile(r"^(ge|fd) answered 200 in ([0-9.]+) ms$", re.M)


@dataclass
class Load:
    wrk: dict[str, dict[str, float]] = field(default_factory=dict)
    handler: dict[str, list[float]] = field(default_factory=lambda: {"ge": [], "fd": []})
    first_ms: dict[str, float] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    nightly_rounds: int = 0
    writer: bool = True
    load_average: str = ""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def handler_log_config(home: Path) -> Path:
    """A uvicorn log configuration that writes the record handler's timing lines to a file."""
    config = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"bare": {"format": "%(message)s"}},
        "handlers": {
            "timings": {
                "class": "logging.FileHandler",
                "filename": str(home / "handler-timings.log"),
                "formatter": "bare",
            }
        },
        "loggers": {
            "sg_pipelines.web.api.records": {"handlers": ["timings"], "level": "INFO"},
        },
    }
    path = home / "bench-logging.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    return path


def start_app(home: Path, app_database_url: str, url: str, port: int) -> subprocess.Popen:
    environment = {
        **os.environ,
        "SG_HOME": str(home),
        "SG_APP_DATABASE_URL": app_database_url,
        "SG_API__PUBLIC_URL": url,
        "SG_API__FAILED_AUTH_LIMIT_PER_ADDRESS": "100000",
    }
    command = [
        sys.executable, "-m", "uvicorn", "sg_pipelines.web:create_app", "--factory",
        "--host", "127.0.0.1", "--port", str(port), "--no-access-log", "--log-level", "warning",
        "--log-config", str(handler_log_config(home)),
    ]  # fmt: skip
    process = subprocess.Popen(command, env=environment)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("the app did not start")


WRK_SCRIPT = Path(__file__).with_name("api_wrk.lua")
WRK_RESULT = re.compile(r"^WRK_RESULT (\{.*\})$", re.M)


def warm_up(url: str, token: str, load: Load) -> None:
    """The first request of each record set, timed apart: it may build the set."""
    with httpx.Client(base_url=url, timeout=60) as client:
        for endpoint in ("ge", "fd"):
            started = time.perf_counter()
            response = client.get(
                f"/api/v1/stateReporting/{endpoint}",
                params={"limit": PAGE},
                headers={"Authorization": f"Bearer {token}"},
            )
            response.raise_for_status()
            load.first_ms[endpoint] = (time.perf_counter() - started) * 1000
            load.totals[endpoint] = int(response.headers["x-total-count"])


def pull(url: str, tokens: list[str], seconds: float, load: Load, home: Path) -> None:
    """16 clients paging through GE and FD until the time is up: two wrk processes (one thread
    each), 8 connections on GE and 8 on FD, every request with the next of the 16 tokens."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk is not installed: `apt-get install wrk` (Debian's package)")
    tokens_file = home / "bench-tokens.txt"
    tokens_file.write_text("\n".join(tokens) + "\n", encoding="utf-8")
    duration = f"{max(1, round(seconds))}s"
    processes = {}
    for endpoint in ("ge", "fd"):
        command = [
            wrk, "-t1", f"-c{CLIENTS // 2}", f"-d{duration}", "--timeout", "30s",
            "-s", str(WRK_SCRIPT), url, "--",
            f"/api/v1/stateReporting/{endpoint}", str(load.totals[endpoint]), str(PAGE),
            str(tokens_file),
        ]  # fmt: skip
        processes[endpoint] = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
    for endpoint, process in processes.items():
        output, _ = process.communicate(timeout=seconds + 120)
        found = WRK_RESULT.search(output)
        if process.returncode != 0 or found is None:
            raise RuntimeError(f"wrk failed for {endpoint}:\n{output}")
        load.wrk[endpoint] = json.loads(found.group(1))
    load.seconds = max(result["duration_us"] for result in load.wrk.values()) / 1e6
    load.load_average = f"{os.getloadavg()[0]:.1f}"


def direct_timings(home: Path, settings: Settings) -> dict[str, tuple[float, float]]:
    """Per endpoint: median ms of one 1,000-record page built by the builder on the snapshot,
    and of the same page from a built record set (the API's query without HTTP and JSON)."""
    path = current_snapshot(home)
    request = default_request(date.today())
    builders = {"ge": build_ge, "fd": build_fd}
    permissions = {p.endpoint: p for p in build_permissions(settings, ["ge", "fd"])}
    served = ServedSnapshot(path, {})
    results = {}
    for name, builder in builders.items():
        endpoint = ENDPOINTS[name]
        built = []
        with open_snapshot(path) as conn:
            for offset in (0, PAGE, 2 * PAGE) * 2:
                started = time.perf_counter()
                builder(conn, request).limit(PAGE, offset).fetchall()
                built.append((time.perf_counter() - started) * 1000)
        paged = []
        for offset in (0, PAGE, 2 * PAGE) * 10:
            page_request = decide(
                endpoint,
                permissions[name],
                [("limit", str(PAGE)), ("offset", str(offset))],
                today=date.today(),
            )
            started = time.perf_counter()
            served.page(endpoint, page_request)
            paged.append((time.perf_counter() - started) * 1000)
        results[name] = (statistics.median(built), statistics.median(paged[3:]))
    return results


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


@dataclass
class Served:
    """The app serving a published district: its address, settings and 16 tokens."""

    url: str
    settings: Settings
    warehouse: Path
    tokens: list[str]
    setup_seconds: float


@contextlib.contextmanager
def running_app(directory: Path, students: int) -> Iterator[Served]:
    """Publish a generated district under `directory` and serve it from a uvicorn process, with
    one API account permitted GE and FD and a token per client; the app stops on exit."""
    started = time.monotonic()
    built = publish_district(directory, students)
    setup = time.monotonic() - started
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = Settings(
        home=directory,
        app_database_url=built.app_database_url,
        api=ApiSettings(public_url=url),
    )
    app = start_app(directory, built.app_database_url, url, port)
    try:
        link = add_export(
            settings, name="Campus", contact_first_name="Bench", contact_last_name="Mark",
            contact_email="bench@district.test", endpoints=["ge", "fd"], send=False,
        )  # fmt: skip
        with httpx.Client(base_url=url, timeout=30) as client:
            client_id, secret = accept(client, link.url)
            tokens = [
                client.post(
                    "/oauth/token",
                    data={"grant_type": "client_credentials"},
                    auth=(client_id, secret),
                ).json()["access_token"]
                for _ in range(CLIENTS)
            ]
        yield Served(url, settings, built.warehouse, tokens, setup)
    finally:
        app.terminate()
        app.wait(30)


def benchmark(
    students: int, seconds: float, directory: Path, *, writer: bool = True
) -> tuple[Load, dict, float]:
    load = Load(writer=writer)
    with running_app(directory, students) as served:
        direct = direct_timings(directory, served.settings)
        nightly = None
        try:
            if writer:
                nightly = subprocess.Popen(
                    [sys.executable, "-c", NIGHTLY_RUN, str(served.warehouse)],
                    stdout=subprocess.PIPE,
                    text=True,
                )
                time.sleep(2)  # let the run take the warehouse lock and start writing
            warm_up(served.url, served.tokens[0], load)
            pull(served.url, served.tokens, seconds, load, directory)
        finally:
            if nightly is not None:
                nightly.terminate()
                output, _ = nightly.communicate(timeout=30)
                rounds = [line for line in output.split() if line.isdigit()]
                load.nightly_rounds = int(rounds[-1]) if rounds else 0
    timings = (directory / "handler-timings.log").read_text(encoding="utf-8")
    for endpoint, milliseconds in HANDLER_LINE.findall(timings):
        load.handler[endpoint].append(float(milliseconds))
    return load, direct, served.setup_seconds


def errors_of(result: dict[str, float]) -> int:
    """Bad answers (not a 200 with records) and socket errors, timeouts included."""
    return int(
        result["bad"] + result["connect"] + result["read"] + result["write"] + result["timeout"]
    )


def render(students: int, load: Load, direct: dict, setup: float) -> str:
    # wrk reports percentiles per process, not a merged histogram: the worse of the two p99s
    # stands for both
    p99 = max(result["p99_us"] for result in load.wrk.values()) / 1000
    errors = sum(errors_of(result) for result in load.wrk.values())
    requests = int(sum(result["requests"] for result in load.wrk.values()))
    met_p99 = "yes" if p99 < P99_TARGET_MS else "**no**"
    met_errors = "yes" if errors == 0 else "**no**"
    rows = []
    for name in ("ge", "fd"):
        result, handler = load.wrk[name], load.handler[name]
        built_ms, paged_ms = direct[name]
        rows.append(
            f"| {name.upper()} | {load.totals[name]:,} | {int(result['requests']):,} | "
            f"{errors_of(result)} | {result['p50_us'] / 1000:.1f} | "
            f"{result['p90_us'] / 1000:.1f} | {result['p99_us'] / 1000:.1f} | "
            f"{result['max_us'] / 1000:.1f} | {percentile(handler, 0.5):.1f} | "
            f"{percentile(handler, 0.99):.1f} | {paged_ms:.1f} | {built_ms:.1f} | "
            f"{load.first_ms[name]:.0f} |"
        )
    machine = f"{os.cpu_count()} cores, {platform.system()} {platform.machine()}"
    writer = (
        f"while another process held the warehouse read-write and rebuilt the five record tables "
        f"({load.nightly_rounds} rounds)"
        if load.writer
        else "with no nightly run (baseline, `--no-writer`)"
    )
    return f"""{SECTION_TITLE}

1,000-record pages of GE and FD pulled over loopback by {CLIENTS} concurrent clients from the
app in its own uvicorn process, for {load.seconds:.0f} s, {writer}. The load generator is
wrk (Debian's package, `sg_pipelines_tests/bench/api_wrk.lua`): two processes of one thread,
{CLIENTS // 2} connections each, one on GE and one on FD, paging through the record set with
{CLIENTS} tokens in turn. Latency is wrk's, at the client, from request to the last byte of the
answer; an error is anything but a 200 with records, or a socket error or timeout. The first
request of each record set is timed apart (the published request is read from the snapshot's
own tables; other parameter sets are built from the snapshot). "Handler" is the app's own time
for a request, token check, options, page and audit queueing, from its log; the rest of the
latency is HTTP and queueing. "DuckDB page" is the API's page query on the record set (here the
snapshot's own table), without HTTP or JSON; "DuckDB builder" builds the page from the
snapshot's inputs with no record set, as a request would without the cache. Command:
`make bench-api` (`python -m sg_pipelines_tests.bench.api --students {students} --seconds \
{load.seconds:.0f}`{"" if load.writer else " --no-writer"}).

- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC
- Machine: {machine}, Python {sys.version.split()[0]} (server, load generator and writer share it;
  1-minute load average {load.load_average} at the end of the run)
- District: {students:,} students (seed 7), published snapshot (setup {setup:.0f} s)
- Requests: {requests:,} ({requests / load.seconds:.0f}/s), errors {errors}

| Record | Records | Requests | Errors | p50 ms | p90 ms | p99 ms | max ms | handler p50 ms \
| handler p99 ms | DuckDB page ms | DuckDB builder ms | first request ms |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
{chr(10).join(rows)}

| Target | Measured | Met |
|---|---:|---|
| p99 under {P99_TARGET_MS:.0f} ms | {p99:.1f} ms | {met_p99} |
| zero errors | {errors} | {met_errors} |
"""


def write_section(path: Path, section: str) -> None:
    """Replace this benchmark's section of `path` (or append it); other sections stay."""
    text = path.read_text(encoding="utf-8")
    pattern = re.compile(rf"^{re.escape(SECTION_TITLE)}\n.*?(?=^## |\Z)", re.M | re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: section + "\n", text, count=1).rstrip("\n") + "\n"
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=50_000)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--output", type=Path, default=BENCHMARKS)
    parser.add_argument("--no-writer", action="store_true", help="no nightly-like run (baseline)")
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="sg-bench-api-") as scratch:
        load, direct, setup = benchmark(
            args.students, args.seconds, Path(scratch), writer=not args.no_writer
        )
    section = render(args.students, load, direct, setup)
    write_section(args.output, section)
    sys.stdout.write(section)


if __name__ == "__main__":
    main()
