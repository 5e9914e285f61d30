"""Benchmark: all five EMIS record sets for a generated district, wall time and peak memory.

`python -m sg_pipelines_tests.bench.emis --students 50000` builds the district's warehouse
(roster, links, plan documents; not timed), then times building GE, FD, FE, GQ and Pre-ID into
warehouse tables for the nightly request, and writes the "EMIS records" section of
`docs/benchmarks.md` (replacing it on a rerun, leaving the other sections alone).
"""

from __future__ import annotations

import argparse
import re
import resource
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

from sg_pipelines.emis.ranges import default_request
from sg_pipelines.emis.records import BUILDERS
from sg_pipelines.emis.tables import replace_table
from sg_pipelines.warehouse import connect
from sg_pipelines_tests.bench.report import FILE_HEADER, machine
from sg_pipelines_tests.emis.district import build_district

SECTION_TITLE = "## EMIS records"
TARGET_SECONDS = 10.0
BENCHMARKS = Path(__file__).resolve().parents[2] / "docs" / "benchmarks.md"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(students: int, seed: int, workdir: Path) -> dict[str, object]:
    today = date.today()
    built = build_district(workdir, students, seed=seed, today=today)
    before = peak_rss_mb()
    request = default_request(today)

    timings: dict[str, tuple[int, float]] = {}
    started = time.perf_counter()
    with connect(built.warehouse) as conn:
        [(with_plans,)] = conn.execute(
            "SELECT count(DISTINCT student_id) FROM plan_documents "
            "WHERE program IN ('special_education', 'section_504', 'english_learners')"
        ).fetchall()
        for table, builder in BUILDERS.items():
            step = time.perf_counter()
            rows = replace_table(conn, table, builder(conn, request))
            timings[table] = (rows, time.perf_counter() - step)
    total = time.perf_counter() - started
    return {
        "students": built.students,
        "plan_documents": built.plan_documents,
        "with_plans": with_plans,
        "setup_seconds": built.seconds,
        "request": request.summary(),
        "timings": timings,
        "total": total,
        "peak_before_mb": before,
        "peak_mb": peak_rss_mb(),
    }


def render(result: dict[str, object], seed: int) -> str:
    request = result["request"]
    timings: dict[str, tuple[int, float]] = result["timings"]  # type: ignore[assignment]
    total: float = result["total"]  # type: ignore[assignment]
    lines = [
        SECTION_TITLE,
        "",
        "GE, FD, FE, GQ and Pre-ID built with the `build_*` functions and written to warehouse "
        "tables, one after the other on one connection, for the nightly request. The "
        "district (sandbox generator, demo seed, real linking, plan generator) is built first "
        "and not timed. Peak memory is the process's peak resident set size, setup included. "
        f"Command: `python -m sg_pipelines_tests.bench.emis --students {result['students']}`.",
        "",
        f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- Machine: {machine()}",
        f"- District: {result['students']:,} students (seed {seed}), "
        f"{result['with_plans']:,} with special-education, 504 or EL plans, "
        f"{result['plan_documents']:,} plan documents (setup {result['setup_seconds']:.0f} s)",
        f"- Request: FY{request['fiscal_year']} {request['reporting_period']}, "
        f"{request['start_date']} to {request['end_date']}",
        "",
        "| Record set | Rows | Wall s |",
        "|---|---:|---:|",
        *(
            f"| `{table}` | {rows:,} | {seconds:.2f} |"
            for table, (rows, seconds) in timings.items()
        ),
        f"| **all five** | {sum(rows for rows, _ in timings.values()):,} | **{total:.2f}** |",
        "",
        "| Target | Measured | Met |",
        "|---|---:|---|",
        f"| all five under {TARGET_SECONDS:.0f} s | {total:.2f} s "
        f"| {'yes' if total < TARGET_SECONDS else '**no**'} |",
        f"| peak memory (setup included) | {result['peak_mb']:.0f} MB | n/a |",
        "",
        f"- Peak resident memory was {result['peak_before_mb']:.0f} MB before the builds "
        f"(generating and linking the district) and {result['peak_mb']:.0f} MB after: "
        "building the five record sets in DuckDB "
        + (
            "did not raise the process's peak."
            if result["peak_mb"] <= result["peak_before_mb"]
            else "raised it by the difference."
        ),
    ]
    return "\n".join(lines) + "\n"


def write_section(path: Path, section: str) -> None:
    """Replace this benchmark's section of `path` (or add it), keeping every other section."""
    text = path.read_text(encoding="utf-8") if path.exists() else FILE_HEADER
    pattern = re.compile(rf"^{re.escape(SECTION_TITLE)}\n.*?(?=^## |\Z)", re.M | re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: section + "\n", text, count=1).rstrip("\n") + "\n"
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--output", type=Path, default=BENCHMARKS)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as workdir:
        result = run(args.students, args.seed, Path(workdir))
    section = render(result, args.seed)
    write_section(args.output, section)
    print(section)


if __name__ == "__main__":
    main()
