"""The roster-sync results as a Markdown section of `docs/benchmarks.md`.

The file keeps one `## ` section per benchmark; a rerun replaces its own section in place and
leaves the others alone.
"""

from __future__ import annotations

import os
import platform
import re
import sys
import textwrap
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from sg_pipelines_tests.bench.measure import Measurement

SECTION_TITLE = "## Roster sync"
FILE_HEADER = """\
# Benchmarks

Each section is written by its benchmark and replaced when it is rerun. Numbers are only
comparable within a section: they come from one run on one machine.
"""

FLOOR_RATIO_TARGET = 1.5
PEAK_MB_TARGET = 500
DELTA_SHARE_TARGET = 0.10

NOTES = [
    "- Wall s is the fastest of the runs in brackets (range over all runs): the machine is "
    "shared, and slower runs measure the neighbours.",
    "- Floor: one pool of `concurrency` requests shared by every page of every collection; "
    "bodies read and discarded unparsed, records counted from `X-Total-Count`.",
    "- Roster sync: `begin_sync`, `sync_collection` per collection, `finish_sync`, as the "
    "collection assets run them, without Dagster around it.",
    "- dlt: `rest_api_source(..., parallelized=True)` (in dlt 1.31 `parallelized` in "
    "`resource_defaults` leaves every request on the main thread), offset paginator with "
    "`total_path: null` (one extra empty page per collection), a pre-fetched bearer token "
    "(dlt's client-credentials helper posts the secret in the body; Campus wants HTTP Basic), "
    '`loader_file_format="jsonl"` (the default `insert_values` took 544 s and 12 GB at '
    "50,000 students).",
    "- Delta: 1% of each collection's records changed in the running sandbox (users get a new "
    "`middleName`, others a new `dateLastModified`); the delta also re-reads records inside "
    "the sync's one-hour lookback.",
    "- Requests, most in flight and server ms/page are what the sandbox logged: collection "
    "GETs only, mean time from request to last byte.",
    "- Sandbox: every record is serialised once before the first contender runs, and a "
    "`dateLastModified>` filter is answered from an index of the records by that instant, as a "
    "database would, rather than by scanning the collection.",
]

LABELS = {
    "floor": "floor: httpx, pages discarded",
    "sync": "**roster sync** (full)",
    "dlt": "dlt `rest_api` → DuckDB",
    "delta": "**roster sync** (delta)",
}


@dataclass(frozen=True)
class Run:
    """One benchmark run: what was pulled and what each contender measured."""

    students: int
    seed: int
    page_size: int
    concurrency: int
    collections: tuple[str, ...]
    changed: int
    measurements: dict[str, Measurement]
    load_average: tuple[float, float] = (0.0, 0.0)


def machine() -> str:
    """Cores, memory and the versions that matter, in one line."""
    memory_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    versions = ", ".join(
        f"{name} {_version(name)}" for name in ("duckdb", "dlt", "httpx", "uvicorn")
    )
    return (
        f"{os.cpu_count()} cores, {memory_gib:.0f} GiB RAM, {platform.system()} "
        f"{platform.machine()}, Python {sys.version.split()[0]}, {versions}"
    )


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def targets(run: Run) -> list[tuple[str, str, bool | None]]:
    """Each target: what it asks, what was measured, and whether it was met (None: not run)."""
    found = run.measurements
    floor, sync, dlt, delta = (found.get(key) for key in ("floor", "sync", "dlt", "delta"))
    rows: list[tuple[str, str, bool | None]] = []

    if sync and floor:
        ratio = sync.seconds / floor.seconds
        rows.append(
            (
                f"full sync within {FLOOR_RATIO_TARGET}x of the floor",
                f"{ratio:.2f}x",
                ratio <= FLOOR_RATIO_TARGET,
            )
        )
    if sync:
        if dlt:
            rows.append(
                (
                    "full sync faster than dlt",
                    f"{sync.seconds:.1f} s vs {dlt.seconds:.1f} s",
                    sync.seconds < dlt.seconds,
                )
            )
        else:
            rows.append(("full sync faster than dlt", "dlt skipped", None))
        peak = max(m.peak_rss_mb for m in (sync, delta) if m)
        rows.append(
            (f"sync peak memory under {PEAK_MB_TARGET} MB", f"{peak:.0f} MB", peak < PEAK_MB_TARGET)
        )
    if sync and delta:
        share = delta.seconds / sync.seconds
        rows.append(
            (
                f"delta sync under {DELTA_SHARE_TARGET:.0%} of the full sync's time",
                f"{share:.1%}",
                share < DELTA_SHARE_TARGET,
            )
        )
    return rows


def render(run: Run, when: datetime | None = None) -> str:
    """The whole `## Roster sync` section."""
    when = when or datetime.now(UTC)
    floor = run.measurements.get("floor")
    sizes = ", ".join(
        f"{count:,} {name}" for name, count in _largest(run.measurements).records.items()
    )
    lines = [
        SECTION_TITLE,
        "",
        "Full sync of a generated district served by the Campus sandbox in a separate process on "
        "loopback, next to the floor (the same pages fetched with httpx and discarded) and dlt's "
        "`rest_api` source loading the same collections into DuckDB; then a delta sync after "
        "1% of the records changed. Each contender runs in its own fresh process; peak memory "
        "is that process's peak resident set size. Command: "
        f'`make bench ARGS="--students {run.students}"`.',
        "",
        f"- Date: {when:%Y-%m-%d %H:%M} UTC",
        f"- Machine: {machine()}",
        f"- Load average (1 min) before and after the run: {run.load_average[0]:.1f} and "
        f"{run.load_average[1]:.1f}; anything above 0 is other work competing for the cores",
        f"- District: {run.students:,} students (seed {run.seed}): {sizes}",
        f"- Paging: {run.page_size:,} records a page, {run.concurrency} requests at a time",
        f"- Delta: {run.changed:,} records changed before the delta sync",
        "",
        "| Contender | Records | Wall s | Records/s | Peak MB | Ratio to floor | CPU s "
        "| Sandbox CPU s | Requests | Most in flight | Server ms/page |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for key, label in LABELS.items():
        found = run.measurements.get(key)
        if found is None:
            continue
        ratio = f"{found.seconds / floor.seconds:.2f}x" if floor and key != "delta" else "n/a"
        page_ms = 1000 * found.server_seconds / found.requests if found.requests else 0
        runs: list[float] = found.details.get("runs", [found.seconds])  # type: ignore[assignment]
        spread = f" (of {len(runs)}: {min(runs):.1f} to {max(runs):.1f})" if len(runs) > 1 else ""
        lines.append(
            f"| {label} | {found.total_records:,} | {found.seconds:.2f}{spread} "
            f"| {found.records_per_second:,.0f} | {found.peak_rss_mb:.0f} | {ratio} "
            f"| {found.cpu_seconds:.1f} | {found.server_cpu_seconds:.1f} "
            f"| {found.requests:,} | {found.max_in_flight} | {page_ms:.0f} |"
        )

    lines += ["", "| Target | Measured | Met |", "|---|---:|---|"]
    for wanted, measured, met in targets(run):
        verdict = {True: "yes", False: "**no**", None: "not run"}[met]
        lines.append(f"| {wanted} | {measured} | {verdict} |")

    lines += ["", *NOTES]
    budget = cpu_budget(run)
    if budget:
        lines.append(budget)
    sync = run.measurements.get("sync")
    if sync and "pull_seconds" in sync.details:
        pulls: dict[str, float] = sync.details["pull_seconds"]  # type: ignore[assignment]
        by_collection = ", ".join(f"{name} {seconds:.1f}" for name, seconds in pulls.items())
        rest = sync.seconds - sum(pulls.values())
        lines.append(
            f"- Where the full sync's time went (s): pulling and staging {by_collection}; "
            f"merging and bookkeeping {rest:.1f}."
        )
    return "\n".join(lines) + "\n"


def cpu_budget(run: Run) -> str | None:
    """What the floor leaves of the machine for the sync's own work, within the floor target."""
    floor, sync = run.measurements.get("floor"), run.measurements.get("sync")
    if not (floor and sync and floor.seconds):
        return None
    cores = os.cpu_count() or 1
    offered = cores * FLOOR_RATIO_TARGET * floor.seconds
    busy = (floor.cpu_seconds + floor.server_cpu_seconds) / (cores * floor.seconds)
    return (
        f"- CPU s is the contender's own process (every thread), Sandbox CPU s the sandbox's "
        f"over the same run. The floor kept {busy:.0%} of the {cores} cores busy. Within "
        f"{FLOOR_RATIO_TARGET}x of the floor the machine offers {offered:.1f} CPU-seconds; "
        f"serving the pages takes the sandbox about {floor.server_cpu_seconds:.1f} of them, "
        f"which leaves {offered - floor.server_cpu_seconds:.1f} for all the sync does: fetching "
        f"({floor.cpu_seconds:.1f} s in the floor's client), then parsing, validating, staging "
        f"and writing {sync.total_records:,} records. The full sync's process used "
        f"{sync.cpu_seconds:.1f}."
    )


def _largest(measurements: dict[str, Measurement]) -> Measurement:
    full = [m for key, m in measurements.items() if key != "delta"]
    return max(full, key=lambda m: m.total_records)


def wrap_prose(section: str, width: int = 100) -> str:
    """Wrap paragraphs and list items to `width`; tables and headings stay on one line."""
    lines = []
    for line in section.splitlines():
        if len(line) <= width or line.startswith(("|", "#")):
            lines.append(line)
        else:
            indent = "  " if line.startswith("- ") else ""
            lines.extend(
                textwrap.wrap(line, width, subsequent_indent=indent, break_on_hyphens=False)
            )
    return "\n".join(lines) + "\n"


def write_section(path: Path, section: str) -> None:
    """Replace the roster-sync section of `path` (or add it), keeping every other section."""
    section = wrap_prose(section)
    text = path.read_text(encoding="utf-8") if path.exists() else FILE_HEADER
    pattern = re.compile(rf"^{re.escape(SECTION_TITLE)}\n.*?(?=^## |\Z)", re.M | re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: section + "\n", text, count=1).rstrip("\n") + "\n"
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
