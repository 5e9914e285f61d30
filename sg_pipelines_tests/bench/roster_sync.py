"""Roster-sync benchmark: `make bench` (`python -m sg_pipelines_tests.bench.roster_sync`).

Serves a generated district from the Campus sandbox in its own process on loopback, then runs,
each in a fresh process: the floor (the same pages fetched with httpx and discarded), the full
roster sync into DuckDB, dlt's `rest_api` source into DuckDB, and, after 1% of the records
changed in the sandbox, a delta sync. Writes the "Roster sync" section of `docs/benchmarks.md`.

    make bench ARGS="--students 50000"
    python -m sg_pipelines_tests.bench.roster_sync --students 300 --skip-dlt --output /tmp/b.md
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
from pathlib import Path

from sg_pipelines.roster.collections import COLLECTIONS
from sg_pipelines.sandbox.runner import SandboxProcess
from sg_pipelines_tests.bench import sandbox_launcher
from sg_pipelines_tests.bench.measure import Measurement, Target, run_contender
from sg_pipelines_tests.bench.report import Run, render, write_section

logger = logging.getLogger(__name__)

DEFAULT_OUTPUT = Path("docs/benchmarks.md")
CHANGED_SHARE = 0.01


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m sg_pipelines_tests.bench.roster_sync",
        description="Benchmark the roster sync against the floor and dlt.",
    )
    parser.add_argument("--students", type=int, default=50_000, help="district size")
    parser.add_argument("--seed", type=int, default=7, help="district generator seed")
    parser.add_argument("--page-size", type=int, default=10_000, help="records asked per page")
    parser.add_argument("--concurrency", type=int, default=5, help="requests in flight at most")
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="runs of the floor and the full sync; the fastest counts (dlt and the delta run once)",
    )
    parser.add_argument("--skip-dlt", action="store_true", help="leave dlt out (it is slow)")
    parser.add_argument(
        "--output", type=Path, default=DEFAULT_OUTPUT, help="Markdown file to write the section to"
    )
    parser.add_argument(
        "--profile",
        type=Path,
        help="also profile a full sync with py-spy: a flame graph if FILE ends in .svg, else "
        "collapsed stacks",
        metavar="FILE",
    )
    return parser.parse_args(argv)


def benchmark(args: argparse.Namespace, workdir: Path) -> Run:
    """Start the sandbox, run every contender, change 1%, run the delta."""
    collections = tuple(COLLECTIONS)
    contenders = ["floor", "sync"] if args.skip_dlt else ["floor", "sync", "dlt"]
    measurements: dict[str, Measurement] = {}
    load_before = os.getloadavg()[0]

    logger.info("generating and serving %d students (seed %d)", args.students, args.seed)
    with sandbox_launcher.start(args.students, args.seed) as sandbox:
        target = Target(
            root_url=sandbox.root_url,
            base_url=sandbox.base_url,
            token_url=sandbox.token_url,
            client_id=sandbox.client_id,
            client_secret=sandbox.client_secret,
            collections=collections,
            page_size=args.page_size,
            concurrency=args.concurrency,
        )
        for contender in contenders:
            repeat = 1 if contender == "dlt" else max(args.repeat, 1)
            measurements[contender] = _fastest(contender, target, workdir, repeat, sandbox)

        # the delta runs on the warehouse of the fastest full sync
        changed = sandbox.change(CHANGED_SHARE, list(collections))
        logger.info("changed %d records in the sandbox", sum(changed.values()))
        synced = Path(str(measurements["sync"].details["workdir"]))
        measurements["delta"] = _run("delta", target, synced, sandbox)

        if args.profile:
            logger.info("profiling a second full sync (not measured) into %s", args.profile)
            run_contender("sync", target, _fresh(workdir / "profile"), profile=args.profile)

    return Run(
        students=args.students,
        seed=args.seed,
        page_size=args.page_size,
        concurrency=args.concurrency,
        collections=collections,
        changed=sum(changed.values()),
        measurements=measurements,
        load_average=(load_before, os.getloadavg()[0]),
    )


def _fastest(
    contender: str, target: Target, workdir: Path, repeat: int, sandbox: SandboxProcess
) -> Measurement:
    """Run `repeat` times, each in a fresh process and directory; keep the fastest run.

    On a shared machine the slower runs measure the neighbours; every run's seconds are kept
    in `details["runs"]` so the spread shows in the report.
    """
    runs = [
        _run(contender, target, _fresh(workdir / f"{contender}-{n}"), sandbox)
        for n in range(repeat)
    ]
    fastest = min(runs, key=lambda measured: measured.seconds)
    fastest.details["runs"] = [round(measured.seconds, 2) for measured in runs]
    return fastest


def _run(contender: str, target: Target, where: Path, sandbox: SandboxProcess) -> Measurement:
    measured = run_contender(contender, target, where, server_pid=sandbox.process.pid)
    measured.details["workdir"] = str(where)
    logger.info(
        "%s: %d records in %.2fs, %d requests, peak %.0f MB",
        contender,
        measured.total_records,
        measured.seconds,
        measured.requests,
        measured.peak_rss_mb,
    )
    return measured


def _fresh(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)

    with tempfile.TemporaryDirectory(prefix="sg-bench-") as scratch:
        run = benchmark(args, Path(scratch))

    section = render(run)
    write_section(args.output, section)
    print(section)
    print(f"Written to {args.output}")


if __name__ == "__main__":
    main()
