"""The demo: a generated district served by the Campus sandbox, synced by the real job.

It seeds the plan system with the students an older integration left behind, starts the sandbox
on a free loopback port, runs the nightly job twice through the real Dagster definitions (the
first run has no earlier full sync, so it runs as a full sync; the second is a true delta after
some changes in Campus), and summarises what happened from the warehouse, each step as it ends.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Protocol

import duckdb
from dagster import DagsterInstance, ExecuteInProcessResult

from sg_pipelines.appdb.gateway import AppDatabase
from sg_pipelines.appdb.seed import SeedSummary, roster_rows_from_oneroster_users, seed_demo
from sg_pipelines.definitions import FLAGS_JOB, NIGHTLY_JOB, build_definitions
from sg_pipelines.demo_home import (
    DEMO_DISTRICT,
    DEMO_MARKER,
    check_demo_home,
    clear_demo_home,
    hold_demo_home,
)
from sg_pipelines.emis.snapshot import current_snapshot
from sg_pipelines.programs.partitions import newest_complete_day, partition_key
from sg_pipelines.programs.status import ProgramStatus, program_status
from sg_pipelines.roster.sync import mark_interrupted
from sg_pipelines.sandbox.csv_bundle import load_bundle
from sg_pipelines.sandbox.district import District
from sg_pipelines.sandbox.generator import generate_district
from sg_pipelines.sandbox.plans import PlanPopulationSummary, generate_plan_documents
from sg_pipelines.sandbox.runner import SandboxServer
from sg_pipelines.settings import Settings, load_settings
from sg_pipelines.warehouse import connect, connect_read_only

logger = logging.getLogger(__name__)

PUBLIC_SAMPLE = Path(__file__).parent / "sandbox" / "data" / "grand-bend-1.1"

DAGSTER_YAML = """\
# Written by `sg-pipelines demo`. Every warehouse writer is in the `duckdb_write` pool;
# a limit of 1 keeps DuckDB to one writer across runs and backfills.
concurrency:
  pools:
    default_limit: 1
telemetry:
  enabled: false
# The assets log through Dagster, not stdout; capturing stdout would start `tail` helper
# processes that print their own tracebacks when Ctrl-C reaches the process group.
compute_logs:
  module: dagster._core.storage.noop_compute_log_manager
  class: NoOpComputeLogManager
"""

EMIS_TABLES = {
    "GE": "emis_ge",
    "FD": "emis_fd",
    "FE": "emis_fe",
    "GQ": "emis_gq",
    "Pre-ID": "ohio_pre_id",
}

# The demo prints its own summary, a failed step in one line; the Dagster UI keeps the rest.
QUIET_CONSOLE = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}

INTERRUPTED_ERROR = "DagsterExecutionInterruptedError"
# Dagster's wrappers around the error an asset raised; the summary names the asset's own
WRAPPERS = {"DagsterExecutionStepExecutionError", "DagsterUserCodeExecutionError"}
# Errors whose messages the summary shows: ours, written to carry no record values, and DuckDB's
# and the system's about files, locks and memory. Any other error (a conversion or constraint
# error quoting the value it met, a KeyError naming an id) is shown by its class alone.
ERRORS_WITH_SAFE_MESSAGES = frozenset(
    {
        "RosterError",
        "AuthError",
        "ForbiddenError",
        "EnvelopeError",
        "RetriesExhausted",
        "ProviderError",
        "GatewayError",
        "CampusAuthError",
        "FlagSetupError",
        "MailError",
        "Failure",
        "IOException",
        "OutOfMemoryException",
        "ConnectionException",
        "OSError",
        "PermissionError",
        "FileNotFoundError",
        "MemoryError",
    }
)
ERROR_MESSAGE_LIMIT = 200


@dataclass
class RunReport:
    """What one run of the nightly job did, read back from the warehouse."""

    label: str
    success: bool
    seconds: float
    sync: dict[str, object] = field(default_factory=dict)
    collections: list[tuple] = field(default_factory=list)
    quarantine: list[tuple] = field(default_factory=list)
    links: dict[str, int] = field(default_factory=dict)
    links_this_run: dict[str, int] = field(default_factory=dict)
    emis: dict[str, int] = field(default_factory=dict)
    snapshot: Path | None = None
    failure: str | None = None


@dataclass
class FlagsReport:
    """One night's flags per program, read back from the warehouse and the sandbox."""

    day: date
    success: bool
    seconds: float
    failure: str | None = None
    badges: dict[str, dict[str, int]] = field(default_factory=dict)
    programs: list[ProgramStatus] = field(default_factory=list)
    campus_flags: dict[str, int] = field(default_factory=dict)


@dataclass
class DemoReport:
    home: Path
    dagster_home: Path
    district: str
    students_served: int
    broken_students: int
    seeded: SeedSummary | None = None
    runs: list[RunReport] = field(default_factory=list)
    plans: PlanPopulationSummary | None = None
    flags: FlagsReport | None = None
    # paths in the home (from it) of what the demo did not make, so did not clear
    left_alone: list[str] = field(default_factory=list)


class DemoProgress(Protocol):
    """Told of each step as the demo takes it, so that the demo command prints as it goes.

    `step` names a step as it begins; the other methods hand over what a step made as it ends.
    """

    def started(self, report: DemoReport) -> None:
        """The sandbox serves the district `report` names; nothing is seeded or synced yet."""

    def step(self, description: str) -> None:
        """A step begins: seeding the plan system, a night, the plan documents, the flags."""

    def seeded(self, seeded: SeedSummary) -> None:
        """The plan system holds the students an older integration left behind."""

    def night_finished(self, run: RunReport) -> None:
        """A night's job ended, whether it succeeded or not."""

    def plans_written(self, plans: PlanPopulationSummary) -> None:
        """Staff's plan documents are in the plan system."""

    def flags_finished(self, flags: FlagsReport) -> None:
        """Every enabled program's flags job ended."""


class _Silent(DemoProgress):
    """The demo run from code, as the tests run it: it tells nobody."""


def build_district(students: int, seed: int, csv_sample: bool) -> tuple[District, str]:
    if csv_sample:
        return load_bundle(PUBLIC_SAMPLE), "public OneRoster 1.1 CSV sample (Grand Bend ISD)"
    return generate_district(students=students, seed=seed), f"generated district, seed {seed}"


@dataclass(frozen=True)
class DemoDistrict:
    """Which district a demo ran on, so `ui` serves the same one."""

    students: int = 2000
    seed: int = 7
    csv_sample: bool = False


def recorded_district(home: Path) -> DemoDistrict | None:
    """The district the last demo in `home` ran on, or None when no demo ran there."""
    try:
        return DemoDistrict(**json.loads((home / DEMO_DISTRICT).read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None


def prepare_home(home: Path, district: DemoDistrict | None = None) -> tuple[Path, list[str]]:
    """A fresh demo home with a Dagster instance whose pools allow one warehouse writer.

    The demo starts from nothing each time, so it clears what it made before (the warehouse,
    the plan system, report snapshots, Dagster's runs) and leaves anything else, in its own
    folders too, whose paths it returns; then it records `district` for `ui`. Call it holding
    the home (`hold_demo_home` with `clearing`).
    """
    check_demo_home(home)
    home.mkdir(parents=True, exist_ok=True)
    left = clear_demo_home(home)
    (home / DEMO_MARKER).write_text("made by `sg-pipelines demo`; safe to delete\n")
    if district is not None:
        (home / DEMO_DISTRICT).write_text(json.dumps(asdict(district)) + "\n", encoding="utf-8")
    dagster_home = home / "dagster"
    dagster_home.mkdir(parents=True, exist_ok=True)
    (dagster_home / "dagster.yaml").write_text(DAGSTER_YAML, encoding="utf-8")
    return dagster_home, left


@contextmanager
def demo_environment(home: Path, dagster_home: Path, sandbox: SandboxServer) -> Iterator[Settings]:
    """Point settings and Dagster at the demo home and the running sandbox."""
    values = {
        "SG_HOME": str(home),
        "SG_ONEROSTER__BASE_URL": sandbox.base_url,
        "SG_ONEROSTER__TOKEN_URL": sandbox.token_url,
        "SG_ONEROSTER__CLIENT_ID": sandbox.client_id,
        "SG_ONEROSTER_CLIENT_SECRET": sandbox.client_secret,
        "SG_FLAGS__CAMPUS__BASE_URL": sandbox.flags_url,
        "DAGSTER_HOME": str(dagster_home),
    }
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield load_settings()
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def add_data_defects(district: District) -> int:
    """What real Campus data looks like on a bad day: a few records our rules must catch.

    Two birth dates in US order (kept as unknown, with a warning), an enrollment naming no
    user, and a student whose modification time is not a date-time (both quarantined).
    """
    students = district.students()
    enrollments = district.collection("enrollments")
    if len(students) < 10 or not enrollments:
        return 0

    for student in students[2:4]:
        district.update("demographics", student["sourcedId"], {"birthDate": "03/14/2012"})
    orphan = {key: value for key, value in enrollments[0].items() if key != "user"}
    orphan["sourcedId"] = f"{orphan['sourcedId'][:-4]}dead"
    broken = dict(students[5], sourcedId=f"{students[5]['sourcedId'][:-4]}beef")
    broken["dateLastModified"] = "last Tuesday"
    district.load("enrollments", [orphan])
    district.load("users", [broken])
    return 4


def change_some_records(district: District, seed: int) -> int:
    """What a day in Campus looks like: a few students edited, one withdrawn for good."""
    students = district.students()
    changed = 0
    for student in students[seed % 7 :: max(len(students) // 20, 1)][:20]:
        district.update("users", student["sourcedId"], {"middleName": "Q"})
        changed += 1
    if len(students) > 40:
        district.mark_tobedeleted("users", students[-1]["sourcedId"])
        changed += 1
    return changed


def demo_district_as_left(parameters: DemoDistrict) -> tuple[District, str]:
    """The district a demo ran on, with its defects and the second night's changes."""
    district, description = build_district(
        parameters.students, parameters.seed, parameters.csv_sample
    )
    if not parameters.csv_sample:
        add_data_defects(district)
        change_some_records(district, parameters.seed)
    return district, description


@contextmanager
def interrupts_noticed() -> Iterator[Callable[[], bool]]:
    """Yields a test of whether Ctrl-C (SIGINT) arrived meanwhile, whoever handled it.

    Dagster swaps in its own SIGINT handler while a run executes, and a step interrupted inside
    DuckDB or a worker thread fails with whatever error that code raised; the signal itself is
    seen here through the interpreter's wakeup file descriptor, which every handler shares.
    """
    reader, writer = socket.socketpair()
    reader.setblocking(False)
    writer.setblocking(False)
    previous = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
    seen: list[int] = []

    def arrived() -> bool:
        try:
            while chunk := reader.recv(64):
                seen.extend(chunk)
        except BlockingIOError:
            pass
        return signal.SIGINT in seen

    try:
        yield arrived
    finally:
        signal.set_wakeup_fd(previous)
        reader.close()
        writer.close()


def run_nightly(settings: Settings, instance: DagsterInstance, label: str) -> RunReport:
    defs = build_definitions(settings)
    job = defs.resolve_job_def(NIGHTLY_JOB)

    started = time.perf_counter()
    try:
        with interrupts_noticed() as interrupted:
            result = job.execute_in_process(
                instance=instance, raise_on_error=False, run_config=QUIET_CONSOLE
            )
            if interrupted():
                raise KeyboardInterrupt
        failure = failed_step(result)
    except KeyboardInterrupt:
        mark_syncs_interrupted(settings.warehouse)
        raise
    seconds = time.perf_counter() - started

    report = RunReport(label=label, success=result.success, seconds=seconds, failure=failure)
    for materialization in result.asset_materializations_for_node("student_links"):
        if materialization.asset_key.to_user_string() == "student_links":
            report.links_this_run = {
                name: value.value for name, value in materialization.metadata.items()
            }
    read_warehouse(settings, report)
    return report


def mark_syncs_interrupted(warehouse: Path) -> None:
    """A sync stopped by Ctrl-C is not left 'running' in the sync log.

    Best effort: an interrupted step may still hold the warehouse open in this process, and then
    the next sync's `begin_sync` marks the row instead.
    """
    if not warehouse.exists():
        return
    try:
        with connect(warehouse) as conn:
            if "roster_sync_log" not in _tables(conn):
                return
            mark_interrupted(conn, datetime.now(UTC))
    except duckdb.Error:
        logger.debug("sync log left for the next sync to mark interrupted")


def failed_step(result: ExecuteInProcessResult) -> str | None:
    """`step: ErrorClass: message` of the first failed step, or None; Ctrl-C re-raised.

    Dagster turns Ctrl-C during a run into a failed run; the demo stops there instead of
    going on to the next night as if the run had failed on its own.
    """
    failures = [event for event in result.all_events if event.is_step_failure]
    errors = [_asset_error(event.step_failure_data.error) for event in failures]
    errors += [
        _asset_error(event.event_specific_data.error)
        for event in result.all_events
        if event.is_run_failure and event.event_specific_data is not None
    ]
    if any(error is not None and error.cls_name == INTERRUPTED_ERROR for error in errors):
        raise KeyboardInterrupt
    if failures:
        return f"{failures[0].step_key}: {_error_text(errors[0])}"
    if result.success:
        return None
    return f"the run itself: {_error_text(errors[0]) if errors else 'unknown error'}"


def _asset_error(error):
    while error is not None and error.cause is not None and error.cls_name in WRAPPERS:
        error = error.cause
    return error


def _error_text(error) -> str:
    """The error's class, and for one whose messages carry no record values its first line."""
    name = (error.cls_name if error is not None else None) or "unknown error"
    if name not in ERRORS_WITH_SAFE_MESSAGES:
        return name

    # Dagster keeps the message as Python prints it: the qualified class name, then the text
    qualified, _, text = (error.message or "").partition(": ")
    if qualified.rsplit(".", 1)[-1] != name:
        text = error.message or ""
    line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if len(line) > ERROR_MESSAGE_LIMIT:
        line = line[: ERROR_MESSAGE_LIMIT - 1].rstrip() + "…"
    return f"{name}: {line}" if line else name


def run_flags(
    settings: Settings, instance: DagsterInstance, sandbox: SandboxServer, day: date
) -> FlagsReport:
    """The flags job for each enabled program on `day`, as the sensor would run it."""
    job = build_definitions(settings).resolve_job_def(FLAGS_JOB)

    started = time.perf_counter()
    failures = []
    for program, program_settings in settings.enabled_programs.items():
        if day < program_settings.cutover_date:
            continue
        with interrupts_noticed() as interrupted:
            result = job.execute_in_process(
                instance=instance,
                partition_key=partition_key(program, day),
                raise_on_error=False,
                run_config=QUIET_CONSOLE,
            )
            if interrupted():
                raise KeyboardInterrupt
        if not result.success:
            failures.append(f"{program}: {failed_step(result)}")
    report = FlagsReport(
        day=day,
        success=not failures,
        seconds=time.perf_counter() - started,
        failure="; ".join(failures) or None,
    )

    with connect_read_only(settings.warehouse) as conn:
        if "program_participation_badges" not in _tables(conn):
            report.campus_flags = open_flags_in_campus(sandbox)
            return report
        rows = conn.execute(
            "SELECT program, count(*) FILTER (active_on_day), "
            "count(*) FILTER (active_on_day AND sourced_id IS NULL) "
            "FROM program_participation_badges WHERE as_of_date = ? GROUP BY ALL",
            [day],
        ).fetchall()
    report.badges = {
        program: {"active badges": active, "not linked": unlinked}
        for program, active, unlinked in rows
    }
    report.programs = program_status(settings.warehouse)
    report.campus_flags = open_flags_in_campus(sandbox)
    return report


def open_flags_in_campus(sandbox: SandboxServer) -> dict[str, int]:
    """What a Campus user would see: open flags per program flag name."""
    state = sandbox.flags
    return {
        program.name: sum(1 for p in state.participations_of(program.sourced_id) if not p.end_date)
        for program in list(state.programs.values())
    }


def _tables(conn) -> set[str]:
    return {row[0] for row in conn.execute("SHOW TABLES").fetchall()}


def read_warehouse(settings: Settings, report: RunReport) -> None:
    """Counts only: the summary never prints a name or an id of a student.

    A run that failed early leaves some tables unmade; the summary reads only those it finds.
    """
    if not settings.warehouse.exists():
        return
    with connect_read_only(settings.warehouse) as conn:
        tables = _tables(conn)
        if "roster_sync_log" in tables:
            _read_sync(conn, tables, report)
        if "student_links" in tables:
            report.links = dict(
                conn.execute(
                    "SELECT matched_by, count(*) FROM student_links GROUP BY ALL ORDER BY 1"
                ).fetchall()
            )
        for label, table in (
            ("re-keyed (all time)", "student_rekeys"),
            ("sent to review", "link_review"),
        ):
            if table in tables:
                report.links[label] = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        report.emis = {
            label: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for label, table in EMIS_TABLES.items()
            if table in tables
        }
    report.snapshot = current_snapshot(settings.home)


def _read_sync(conn, tables: set[str], report: RunReport) -> None:
    row = conn.execute(
        "SELECT sync_id, mode, status, window_start, window_end FROM roster_sync_log "
        "ORDER BY started_at DESC LIMIT 1"
    ).fetchone()
    if row is None:
        return
    sync_id = row[0]
    names = ("sync_id", "mode", "status", "window_start", "window_end")
    report.sync = dict(zip(names, row, strict=True))
    if "roster_sync_collections" in tables:
        report.collections = conn.execute(
            "SELECT collection, status, fetched, upserted, rejected, warnings, deactivated, "
            "deactivations_withheld FROM roster_sync_collections WHERE sync_id = ? "
            "ORDER BY collection",
            [sync_id],
        ).fetchall()
    if "roster_quarantine" in tables:
        report.quarantine = conn.execute(
            "SELECT collection, reason, count(*) FROM roster_quarantine WHERE sync_id = ? "
            "GROUP BY ALL ORDER BY 3 DESC, 1, 2",
            [sync_id],
        ).fetchall()


def run_demo(
    home: Path,
    students: int = 2000,
    seed: int = 7,
    csv_sample: bool = False,
    progress: DemoProgress | None = None,
) -> DemoReport:
    """Seed, serve, sync twice, and report, holding the demo home all along."""
    home = home.resolve()
    check_demo_home(home)
    with hold_demo_home(home, clearing=True):
        return _run_demo(home, DemoDistrict(students, seed, csv_sample), progress or _Silent())


def _run_demo(home: Path, parameters: DemoDistrict, progress: DemoProgress) -> DemoReport:
    students, seed, csv_sample = parameters.students, parameters.seed, parameters.csv_sample
    dagster_home, left_alone = prepare_home(home, parameters)
    district, description = build_district(students, seed, csv_sample)
    # the broken user among the defects is served but quarantined, never a roster student
    broken_students = 1 if not csv_sample and add_data_defects(district) else 0
    report = DemoReport(
        home=home,
        dagster_home=dagster_home,
        district=description,
        students_served=len(district.students()),
        broken_students=broken_students,
        left_alone=left_alone,
    )

    with (
        SandboxServer(district) as sandbox,
        demo_environment(home, dagster_home, sandbox) as settings,
    ):
        progress.started(report)
        progress.step("Seeding the plan system with the students an older integration left behind")
        rows = roster_rows_from_oneroster_users(
            district.collection("users"),
            district.collection("orgs"),
            district.collection("demographics"),
        )
        with AppDatabase(settings.app_database) as app_db:
            report.seeded = seed_demo(app_db, rows, seed=seed)
        progress.seeded(report.seeded)

        instance = DagsterInstance.get()
        first = "first night (no earlier sync, so a full sync)"
        succeeded = _run_night(settings, instance, first, report, progress)
        if not succeeded or csv_sample:
            # the sample has no plans, so one night is all it has to show
            return report

        # the plan system's history, written by staff long before tonight
        day = newest_complete_day(datetime.now(UTC))
        progress.step("Writing plan documents, as staff would, before the second night")
        with AppDatabase(settings.app_database) as app_db:
            report.plans = generate_plan_documents(app_db, seed=seed, today=day)
        progress.plans_written(report.plans)

        changed = change_some_records(district, seed)
        if _run_night(settings, instance, f"second night ({changed} changes)", report, progress):
            progress.step(f"Pushing the flags for {day}")
            report.flags = run_flags(settings, instance, sandbox, day)
            progress.flags_finished(report.flags)
    return report


def _run_night(
    settings: Settings,
    instance: DagsterInstance,
    label: str,
    report: DemoReport,
    progress: DemoProgress,
) -> bool:
    """Run one night into `report`, telling `progress`; whether it succeeded."""
    progress.step(f"Running the {label}")
    run = run_nightly(settings, instance, label)
    report.runs.append(run)
    progress.night_finished(run)
    return run.success
