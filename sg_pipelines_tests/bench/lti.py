"""LTI launch benchmark: time from the platform's form post of the id_token to the rendered plan.

The tool is served by uvicorn on loopback over a district app database with one IEP. Each
iteration runs a login initiation (untimed), signs a token for its nonce (untimed), then times
`POST /lti/launch` (state cookie, signature with a cached key set, single-use nonce, who may
see what, view token) plus `GET /view/{token}` (plan read, HTML render, audit row), measured
at the client, so loopback HTTP is included. Writes the "LTI launch" section of
docs/benchmarks.md.

Run: `python -m sg_pipelines_tests.bench.lti [--launches 300]`.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import re
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx

from sg_pipelines.settings import Settings
from sg_pipelines.web import create_app
from sg_pipelines.web.lti.config import LtiSettings
from sg_pipelines_tests.web.lti_support import (
    CLIENT_ID,
    DEPLOYMENT_ID,
    ISSUER,
    TestPlatform,
    make_district,
    register_platform,
    serve_tool,
    valid_claims,
)

SECTION_TITLE = "## LTI launch"
BENCHMARKS = Path(__file__).resolve().parents[2] / "docs" / "benchmarks.md"
P95_TARGET_MS = 100.0
WARMUP = 20

logger = logging.getLogger(__name__)


def one_launch(
    client: httpx.Client, tool_url: str, signer: TestPlatform, tool: LtiSettings
) -> float:
    """Milliseconds from the launch post to the rendered view, for one fresh launch."""
    login = client.get(
        f"{tool_url}/lti/login",
        params={
            "iss": ISSUER,
            "login_hint": "hint",
            "target_link_uri": tool.launch_url,
            "client_id": CLIENT_ID,
            "lti_deployment_id": DEPLOYMENT_ID,
        },
    )
    query = parse_qs(urlsplit(login.headers["location"]).query)
    state, nonce = query["state"][0], query["nonce"][0]
    cookie = login.headers["set-cookie"].split(";")[0]
    claims = valid_claims(
        nonce, **{"https://purl.imsglobal.org/spec/lti/claim/target_link_uri": tool.launch_url}
    )
    token = signer.sign(claims)

    started = time.perf_counter()
    launched = client.post(
        f"{tool_url}/lti/launch",
        data={"id_token": token, "state": state},
        headers={"Cookie": cookie},
    )
    view = client.get(tool_url + launched.headers["location"])
    elapsed = (time.perf_counter() - started) * 1000
    if view.status_code != 200 or "Rowan Abernathy" not in view.text:
        raise RuntimeError(f"the launch did not render the plan (HTTP {view.status_code})")
    return elapsed


def benchmark(launches: int, directory: Path) -> list[float]:
    district = make_district(directory)
    signer = TestPlatform()
    timings: list[float] = []

    def build(tool_url: str):
        lti = LtiSettings(tool_url=tool_url)
        register_platform(district, lti)
        settings = Settings(home=directory, app_database_url=district.url)
        build.lti = lti
        return create_app(settings, lti, http=signer.http())

    with serve_tool(build) as tool_url, httpx.Client(timeout=30) as client:
        for index in range(WARMUP + launches):
            elapsed = one_launch(client, tool_url, signer, build.lti)
            if index >= WARMUP:
                timings.append(elapsed)
    return timings


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def render(timings: list[float]) -> str:
    p50, p95 = percentile(timings, 0.50), percentile(timings, 0.95)
    machine = f"{os.cpu_count()} cores, {platform.system()} {platform.machine()}"
    python = sys.version.split()[0]
    met = "yes" if p95 < P95_TARGET_MS else "**no**"
    return f"""{SECTION_TITLE}

Launch to rendered view: `POST /lti/launch` (state cookie, RS256 signature with the key set
cached, single-use nonce, who may see what, view token) then `GET /view/{{token}}` (latest
completed plan, HTML, audit row), timed at the client over loopback against uvicorn, after
{WARMUP} warm-up launches. Login initiation and token signing are outside the timing. Command:
`python -m sg_pipelines_tests.bench.lti --launches {len(timings)}`.

- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC
- Machine: {machine}, Python {python}
- App database: SQLite (WAL), one district with four students and one IEP

| Launches | p50 ms | p95 ms | max ms | mean ms |
|---:|---:|---:|---:|---:|
| {len(timings)} | {p50:.1f} | {p95:.1f} | {max(timings):.1f} | {statistics.fmean(timings):.1f} |

| Target | Measured | Met |
|---|---:|---|
| p95 under {P95_TARGET_MS:.0f} ms | {p95:.1f} ms | {met} |
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
    parser.add_argument("--launches", type=int, default=300)
    parser.add_argument("--output", type=Path, default=BENCHMARKS)
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="sg-bench-lti-") as scratch:
        timings = benchmark(args.launches, Path(scratch))
    section = render(timings)
    write_section(args.output, section)
    sys.stdout.write(section)


if __name__ == "__main__":
    main()
