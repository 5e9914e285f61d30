"""Badges-and-flags benchmark: `python -m sg_pipelines_tests.bench.flags`.

One night of program flags for a generated district, all five programs on: the badges of the
newest complete day, then the flag deltas against the Campus sandbox. Night 1 meets an empty
Campus; after the push, night 2 should find nothing to change. Every step runs in a fresh
process (as Dagster's multiprocess executor runs each step) so that its peak resident memory is
its own; the parent reaps it with `os.wait4`, as `measure.py` does. The sandbox (OAuth and the
flags endpoint) runs in its own process for the whole benchmark, so Campus keeps its state from
one step to the next. Wall time is measured inside each step, so start-up and imports are not
counted; they do count toward peak memory, as in a Dagster step process. Writes the "Program
badges and flags" section of `docs/benchmarks.md`.

    python -m sg_pipelines_tests.bench.flags                        # 50,000 students
    python -m sg_pipelines_tests.bench.flags --students 300 --output /tmp/b.md
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from importlib import metadata
from importlib.resources import files
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from sg_pipelines.appdb import AppDatabase
from sg_pipelines.appdb.seed import roster_rows_from_oneroster_users, seed_demo
from sg_pipelines.identity.run import link_roster_students
from sg_pipelines.programs.badges import write_badges
from sg_pipelines.programs.documents import write_plan_documents_snapshot
from sg_pipelines.programs.flag_deltas import compute_flag_deltas
from sg_pipelines.programs.gateways.base import CampusFlag, FlagProgram, FlagsGateway
from sg_pipelines.programs.gateways.campus_rest import CampusRestGateway
from sg_pipelines.programs.partitions import newest_complete_day
from sg_pipelines.programs.push import push_flags
from sg_pipelines.sandbox.flags import FLAGS_ROOT
from sg_pipelines.sandbox.generator import generate_district
from sg_pipelines.sandbox.plans import generate_plan_documents
from sg_pipelines.sandbox.runner import start_subprocess
from sg_pipelines.settings import PROGRAM_KEYS, PROGRAM_NAMES, SANDBOX_VENDOR_SECRET, Settings
from sg_pipelines.warehouse import connect
from sg_pipelines_tests.bench.report import FILE_HEADER, machine

logger = logging.getLogger(__name__)

MODULE = "sg_pipelines_tests.bench.flags"
SECTION_TITLE = "## Program badges and flags"
DEFAULT_OUTPUT = Path("docs/benchmarks.md")
TARGET_SECONDS = 10.0
# Campus keeps students who left as inactive: every 20th roster student, so that the deltas'
# "linked and active" rule has students to leave out.
INACTIVE_EVERY = 20
WAREHOUSE_FILE = "warehouse.duckdb"
APP_DB_FILE = "app.sqlite"

# (step, what it does, whether it counts toward the target)
STEPS = (
    ("setup", "district, roster tables, app db students and links, plans, snapshot", False),
    ("night1_badges", "night 1: badges, 5 programs x 1 day", True),
    ("night1_deltas", "night 1: flag deltas, Campus empty", True),
    ("push", "push night 1's deltas to the sandbox (HTTP)", False),
    ("night2_badges", "night 2: badges, 5 programs x 1 day", True),
    ("night2_deltas", "night 2: flag deltas after the push", True),
)


@dataclass(frozen=True)
class StepContext:
    """What a step process needs: where the stores are and which sandbox and day to use."""

    workdir: Path
    students: int
    seed: int
    day: date
    sandbox_url: str
    client_id: str
    client_secret: str

    def cutovers(self) -> dict[str, date]:
        programs = Settings().programs
        return {key: programs[key].cutover_date for key in PROGRAM_KEYS}


# the steps, each run in its own process


def run_setup(ctx: StepContext) -> dict[str, Any]:
    """Everything the night reads: roster tables, linked plan students, plans, the snapshot."""
    parts: dict[str, float] = {}
    timed = _stopwatch(parts)

    with timed("district"):
        district = generate_district(ctx.students, ctx.seed)
        rows = roster_rows_from_oneroster_users(
            district.collection("users"),
            district.collection("orgs"),
            district.collection("demographics"),
        )

    with timed("roster tables"), connect(ctx.workdir / WAREHOUSE_FILE) as conn:
        write_roster_tables(conn, rows, district.collection("users"))

    app_db_url = f"sqlite:///{ctx.workdir / APP_DB_FILE}"
    with AppDatabase(app_db_url) as app_db, connect(ctx.workdir / WAREHOUSE_FILE) as conn:
        with timed("app db students"):
            seeded = seed_demo(app_db, rows, seed=ctx.seed)
        with timed("linking"):
            links = link_roster_students(conn, app_db, run_id="bench-flags").summary
        with timed("plan documents"):
            plans = generate_plan_documents(app_db, seed=ctx.seed, today=ctx.day)
        with timed("plan_documents snapshot"):
            sourced_ids = {s.id: s.internal_sis_student_id for s in app_db.students()}
            documents = app_db.documents.iter_all(with_sections=False)
            snapshot = write_plan_documents_snapshot(conn, documents, sourced_ids)

    return {
        "parts": parts,
        "counts": {
            "roster_students": len(rows),
            "seeded_plan_students": seeded.plan_students,
            "created_by_linking": links.created,
            "plan_documents": plans.documents,
            "linked_documents": snapshot["linked_documents"],
        },
    }


def write_roster_tables(
    conn: duckdb.DuckDBPyConnection, rows: list[dict[str, Any]], users: list[dict]
) -> None:
    """`roster_students` and `roster_guardians` as the roster sync leaves them, from the district.

    Contacts are the students' `agents`; parents and guardians are guardians, other contacts
    (relatives) are 'other', as the sync's default roles have it.
    """
    derived = files("sg_pipelines.roster").joinpath("sql", "derived_schema.sql")
    conn.execute(derived.read_text(encoding="utf-8"))

    ordered = sorted(rows, key=lambda row: row["sourced_id"])
    students = pd.DataFrame(ordered)
    students["is_active"] = [number % INACTIVE_EVERY != 0 for number in range(1, len(ordered) + 1)]

    by_id = {user["sourcedId"]: user for user in users}
    guardians = []
    for row in ordered:
        for agent in by_id[row["sourced_id"]].get("agents") or []:
            contact = by_id.get(agent["sourcedId"])
            if contact is None:
                continue
            role = contact["roles"][0]["role"]
            relationship = "guardian" if role in ("parent", "guardian") else "other"
            guardians.append(
                (row["sourced_id"], contact["sourcedId"], relationship, role,
                 contact.get("givenName"), contact.get("familyName"), contact.get("email"),
                 contact.get("phone"), True)
            )  # fmt: skip
    contacts = pd.DataFrame(
        guardians,
        columns=["student_sourced_id", "contact_sourced_id", "relationship", "role", "given_name",
                 "family_name", "email", "phone", "is_active"],
    )  # fmt: skip

    conn.register("bench_students", students)
    conn.register("bench_contacts", contacts)
    conn.execute(
        "INSERT INTO roster_students (sourced_id, is_active, given_name, family_name, birth_date, "
        "emis_student_id, state_id, local_id, building_irn, grade) SELECT sourced_id, is_active, "
        "given_name, family_name, birth_date::DATE, emis_student_id, state_id, local_id, "
        "building_irn, grade FROM bench_students"
    )
    conn.execute("INSERT INTO roster_guardians SELECT * FROM bench_contacts")
    conn.unregister("bench_students")
    conn.unregister("bench_contacts")


def run_badges(ctx: StepContext) -> dict[str, Any]:
    """`write_badges` for the day, every program, as one single-run partition range would."""
    with connect(ctx.workdir / WAREHOUSE_FILE) as conn:
        counts = write_badges(conn, {key: [ctx.day] for key in PROGRAM_KEYS}, ctx.cutovers())
    return {
        "counts": {
            count.program: {
                "badges": count.badges,
                "active": count.badges_active,
                "unflaggable": count.unflaggable,
            }
            for count in counts
            if count.as_of_date == ctx.day
        }
    }


class _TimedCampusReads:
    """The gateway, counting the seconds spent reading Campus apart from the warehouse work."""

    def __init__(self, gateway: FlagsGateway) -> None:
        self.gateway = gateway
        self.owner = gateway.owner
        self.name = gateway.name
        self.seconds = 0.0

    def current_flags(self, program: FlagProgram) -> list[CampusFlag]:
        started = time.perf_counter()
        try:
            return self.gateway.current_flags(program)
        finally:
            self.seconds += time.perf_counter() - started


def run_deltas(ctx: StepContext) -> dict[str, Any]:
    """`compute_flag_deltas` for the day, every program, against the sandbox's Campus."""
    cutovers = ctx.cutovers()
    counts = {}
    with _gateway(ctx) as gateway, connect(ctx.workdir / WAREHOUSE_FILE) as conn:
        reads = _TimedCampusReads(gateway)
        for program in _programs():
            summary = compute_flag_deltas(
                conn, program, ctx.day, cutovers[program.key], reads, current=True
            )
            counts[program.key] = {
                "campus_flags": summary.campus_flags,
                "set": summary.set_count,
                "end": summary.end_count,
                "update": summary.update_count,
                "hold": summary.held_count,
            }
    return {"parts": {"campus reads": reads.seconds}, "counts": counts}


def run_push(ctx: StepContext) -> dict[str, Any]:
    """`push_flags` for every program: one PUT per change, one after another."""
    counts = {}
    with _gateway(ctx) as gateway, connect(ctx.workdir / WAREHOUSE_FILE) as conn:
        for program in _programs():
            outcome = push_flags(conn, gateway, program, ctx.day, "bench-flags")
            counts[program.key] = {
                "pushed": outcome.set_count + outcome.ended_count + outcome.updated_count,
                "failed": outcome.failed_count + outcome.skipped_count,
            }
    return {"counts": counts}


STEP_RUNNERS: dict[str, Callable[[StepContext], dict[str, Any]]] = {
    "setup": run_setup,
    "night1_badges": run_badges,
    "night1_deltas": run_deltas,
    "push": run_push,
    "night2_badges": run_badges,
    "night2_deltas": run_deltas,
}


def _programs() -> list[FlagProgram]:
    return [FlagProgram(key, PROGRAM_NAMES[key]) for key in PROGRAM_KEYS]


def _gateway(ctx: StepContext) -> CampusRestGateway:
    return CampusRestGateway(
        ctx.sandbox_url + FLAGS_ROOT,
        ctx.sandbox_url + "/oauth2/token",
        ctx.client_id,
        ctx.client_secret,
        Settings().flags.campus.vendor_key,
        SANDBOX_VENDOR_SECRET,
    )


def _stopwatch(parts: dict[str, float]) -> Callable[[str], Any]:
    """`with timed("name"):` adds the block's wall seconds to `parts["name"]`."""

    @contextmanager
    def timed(name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            parts[name] = parts.get(name, 0.0) + time.perf_counter() - started

    return timed


# the parent: the sandbox, one process per step, the report


@dataclass(frozen=True)
class StepResult:
    """One step's wall seconds and peak RSS, its timed parts, and what it counted."""

    step: str
    seconds: float
    peak_rss_mb: float
    load_before: float
    parts: dict[str, float]
    counts: dict[str, Any]


@dataclass(frozen=True)
class FlagsRun:
    """Every step of one benchmark run, for one district and day."""

    students: int
    seed: int
    day: date
    cutovers: dict[str, date]
    steps: dict[str, StepResult]

    def night_seconds(self, night: int) -> float:
        return sum(self.steps[f"night{night}_{step}"].seconds for step in ("badges", "deltas"))

    def night_peak_mb(self, night: int) -> float:
        return max(self.steps[f"night{night}_{step}"].peak_rss_mb for step in ("badges", "deltas"))


def run_step(step: str, ctx: StepContext) -> StepResult:
    """Run one step in a fresh interpreter; wall time from inside, peak RSS from `wait4`."""
    result_path = ctx.workdir / f"{step}.json"
    command = [
        sys.executable, "-m", MODULE, "--step", step, "--workdir", str(ctx.workdir),
        "--students", str(ctx.students), "--seed", str(ctx.seed), "--day", ctx.day.isoformat(),
        "--sandbox-url", ctx.sandbox_url, "--client-id", ctx.client_id,
        "--client-secret", ctx.client_secret,
    ]  # fmt: skip
    # the machine may be shared: its load when the step started goes into the table
    load_before = os.getloadavg()[0]
    child = subprocess.Popen(command)
    _, status, usage = os.wait4(child.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"step {step} exited with {os.waitstatus_to_exitcode(status)}")

    found = json.loads(result_path.read_text(encoding="utf-8"))
    measured = StepResult(
        step,
        found["seconds"],
        usage.ru_maxrss / 1024,
        load_before,
        found.get("parts", {}),
        found["counts"],
    )
    logger.info("%s: %.2f s, peak %.0f MB", step, measured.seconds, measured.peak_rss_mb)
    return measured


def benchmark(students: int, seed: int, workdir: Path, day: date | None = None) -> FlagsRun:
    """Start the sandbox and run every step once, in order, in `workdir`."""
    day = day or newest_complete_day(datetime.now(UTC))
    logger.info("serving %d students from the sandbox (seed %d); day %s", students, seed, day)
    with start_subprocess(students, seed, warm=False) as sandbox:
        ctx = StepContext(
            workdir, students, seed, day, sandbox.root_url, sandbox.client_id,
            sandbox.client_secret,
        )  # fmt: skip
        steps = {step: run_step(step, ctx) for step, _, _ in STEPS}
    return FlagsRun(students, seed, day, ctx.cutovers(), steps)


def render(run: FlagsRun, when: datetime | None = None) -> str:
    """The whole `## Program badges and flags` section."""
    when = when or datetime.now(UTC)
    setup = run.steps["setup"]
    cutovers = sorted({cutover.isoformat() for cutover in run.cutovers.values()})
    lines = [
        SECTION_TITLE,
        "",
        "One night of program flags for a generated district with all five programs on: "
        "`write_badges` for the newest complete day, then `compute_flag_deltas` per program "
        "against the Campus sandbox's flags endpoint (a separate process on loopback). Night 1 "
        "meets an empty Campus; night 2 runs after night 1's deltas were pushed. Each step runs "
        "in its own fresh process; peak memory is that process's peak resident set size. "
        f"Command: `python -m {MODULE} --students {run.students}`.",
        "",
        f"- Date: {when:%Y-%m-%d %H:%M} UTC",
        f"- Machine: {machine()}, {_versions()}",
        f"- District: {run.students:,} students (seed {run.seed}), "
        f"{setup.counts['plan_documents']:,} plan documents; day {run.day}, "
        f"cutover {', '.join(cutovers)}",
        "",
        "| Step | In target | Wall s | Peak MB | Load (1 min) at start |",
        "|---|---|---:|---:|---:|",
    ]
    for step, label, in_target in STEPS:
        found = run.steps[step]
        parts = "; ".join(f"{name} {seconds:.2f} s" for name, seconds in found.parts.items())
        detail = f" ({parts})" if parts and step != "setup" else ""
        lines.append(
            f"| {label}{detail} | {'yes' if in_target else 'no'} "
            f"| {found.seconds:.2f} | {found.peak_rss_mb:.0f} | {found.load_before:.1f} |"
        )
    for night in (1, 2):
        lines.append(
            f"| **night {night} total** (badges + deltas) | yes "
            f"| **{run.night_seconds(night):.2f}** | {run.night_peak_mb(night):.0f} | |"
        )

    lines += [
        "",
        "| Program | Badge rows | Active on day | Unflaggable | Night 1 set | Night 1 held "
        "| Pushed | Night 2 Campus flags | Night 2 changes |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for key in PROGRAM_KEYS:
        badges = run.steps["night1_badges"].counts.get(key, {})
        first = run.steps["night1_deltas"].counts[key]
        second = run.steps["night2_deltas"].counts[key]
        pushed = run.steps["push"].counts[key]
        changes = second["set"] + second["end"] + second["update"]
        lines.append(
            f"| {key} | {badges.get('badges', 0):,} | {badges.get('active', 0):,} "
            f"| {badges.get('unflaggable', 0):,} | {first['set']:,} | {first['hold']:,} "
            f"| {pushed['pushed']:,} | {second['campus_flags']:,} | {changes:,} |"
        )

    lines += ["", "| Target | Measured | Met |", "|---|---:|---|"]
    for night in (1, 2):
        seconds = run.night_seconds(night)
        met = "yes" if seconds < TARGET_SECONDS else "**no**"
        lines.append(
            f"| night {night}: badges and deltas, one day, all programs, under "
            f"{TARGET_SECONDS:.0f} s | {seconds:.2f} s | {met} |"
        )

    setup_parts = ", ".join(f"{name} {seconds:.1f}" for name, seconds in setup.parts.items())
    lines += [
        "",
        f"- Setup (not in the target), seconds: {setup_parts}. The roster tables are built "
        "from the district directly (the roster sync has its own section); every "
        f"{INACTIVE_EVERY}th student is inactive in Campus.",
        "- Badge rows are the day's intervals that reach the cutover, ended ones included; "
        "active on day counts students. Night 1 sets one flag per interval of a linked, active "
        "student (an ended interval with its end date); unflaggable are active badges of "
        "unlinked or inactive students.",
        "- Campus reads (`current_flags`, paged GETs of 1,000) are inside the deltas step and "
        "the target; the push (one PUT per change, sequential) is HTTP-bound and timed apart. "
        "The sandbox rebuilds a program's whole participation list for every page it serves "
        "(`sandbox/flags.py` `list_participations`), so night 2's Campus reads grow with pages x "
        "flags: 6,881 flags read in 1.4 s at 1,000 a page, 0.3 s at 10,000 (measured apart).",
    ]
    return "\n".join(lines) + "\n"


def _versions() -> str:
    """The versions `report.machine()` leaves out, and the commit measured."""
    names = ("pandas", "dagster")
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    versions = [f"{name} {metadata.version(name)}" for name in names]
    return ", ".join([*versions, f"commit {commit or 'unknown'}"])


def write_section(path: Path, section: str) -> None:
    """Replace this benchmark's section of `path` (or add it), keeping every other section."""
    text = path.read_text(encoding="utf-8") if path.exists() else FILE_HEADER
    pattern = re.compile(rf"^{re.escape(SECTION_TITLE)}\n.*?(?=^## |\Z)", re.M | re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: section + "\n", text, count=1).rstrip("\n") + "\n"
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog=f"python -m {MODULE}",
        description="Benchmark one night of program badges and flag deltas.",
    )
    parser.add_argument("--students", type=int, default=50_000, help="district size")
    parser.add_argument("--seed", type=int, default=7, help="district and plans generator seed")
    parser.add_argument(
        "--output", type=Path, default=DEFAULT_OUTPUT, help="Markdown file to write the section to"
    )
    parser.add_argument("--workdir", type=Path, help="keep the stores here (default: a temp dir)")
    # what the parent passes to each step's process
    step = parser.add_argument_group("one step, in this process (used by the benchmark itself)")
    step.add_argument("--step", choices=list(STEP_RUNNERS))
    step.add_argument("--day", type=date.fromisoformat)
    step.add_argument("--sandbox-url")
    step.add_argument("--client-id")
    step.add_argument("--client-secret")
    return parser.parse_args(argv)


def run_step_here(args: argparse.Namespace) -> None:
    ctx = StepContext(
        args.workdir, args.students, args.seed, args.day, args.sandbox_url, args.client_id,
        args.client_secret,
    )  # fmt: skip
    started = time.perf_counter()
    result = STEP_RUNNERS[args.step](ctx)
    result["seconds"] = time.perf_counter() - started
    (args.workdir / f"{args.step}.json").write_text(json.dumps(result), encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if args.step:
        run_step_here(args)
        return

    with tempfile.TemporaryDirectory(prefix="sg-bench-flags-") as scratch:
        workdir = args.workdir or Path(scratch)
        workdir.mkdir(parents=True, exist_ok=True)
        run = benchmark(args.students, args.seed, workdir)

    section = render(run)
    write_section(args.output, section)
    print(section)
    print(f"Written to {args.output}")


if __name__ == "__main__":
    main()
