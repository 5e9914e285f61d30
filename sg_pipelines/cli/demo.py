"""`sg-pipelines demo`: the demo, printed step by step as it runs."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from sg_pipelines.cli.options import (
    DEFAULT_STUDENTS,
    CsvSample,
    DemoHome,
    Seed,
    StudentsIfGiven,
    demo_home,
)

if TYPE_CHECKING:
    # the demo module loads Dagster, which every other command can do without
    from sg_pipelines.appdb.seed import SeedSummary
    from sg_pipelines.demo import DemoReport, FlagsReport, RunReport
    from sg_pipelines.sandbox.plans import PlanPopulationSummary


def demo(
    students: StudentsIfGiven = None,
    seed: Seed = 7,
    csv_sample: CsvSample = False,
    home: DemoHome = None,
) -> None:
    """Run the nightly job on a generated district served by the sandbox, and summarise it.

    The demo starts its own sandbox and points its own settings at it, so `SG_` settings for
    Campus do not apply here; `--csv-sample` runs one night on the public sample (no plans).
    """
    from sg_pipelines.demo import run_demo
    from sg_pipelines.demo_home import DemoHomeBusy, NotADemoHome

    if csv_sample and students is not None:
        typer.echo(
            "error: --csv-sample serves the sample's own 8 students; drop --students", err=True
        )
        raise typer.Exit(code=2)
    # `$SG_HOME` itself when set: the folder `status`, `ui` and `serve` read too
    home = demo_home(home)
    typer.echo(f"Starting the Campus sandbox and syncing into {home} ...")
    try:
        report = run_demo(
            home,
            students=students or DEFAULT_STUDENTS,
            seed=seed,
            csv_sample=csv_sample,
            progress=PrintedProgress(),
        )
    except (NotADemoHome, DemoHomeBusy) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(code=2) from None
    except KeyboardInterrupt:
        typer.echo(f"interrupted: the demo stopped; what it made so far is in {home}", err=True)
        raise typer.Exit(code=130) from None

    typer.echo("\nOpen the Dagster UI on the same data (runs, assets, checks, metadata):")
    typer.echo(f"  SG_HOME={report.home} .venv/bin/sg-pipelines ui")
    typer.echo("and read what the syncs and pushes did:")
    typer.echo(f"  SG_HOME={report.home} .venv/bin/sg-pipelines status")
    if not all(run.success for run in report.runs):
        raise typer.Exit(code=1)


class PrintedProgress:
    """The demo's `DemoProgress`: a line as each step begins, its summary as soon as it ends.

    The district's line heads the first night's summary, so a demo stopped during that night
    prints no summary at all. Counts and the demo's own ids only, never a student's name.
    """

    def __init__(self) -> None:
        self.report: DemoReport | None = None
        self.after_summary = False

    def started(self, report: DemoReport) -> None:
        self.report = report
        if report.left_alone:
            typer.echo(
                f"Left in {report.home}, as the demo did not make them: "
                + ", ".join(report.left_alone)
            )

    def step(self, description: str) -> None:
        typer.echo(("\n" if self.after_summary else "") + f"{description} ...")
        self.after_summary = False

    def seeded(self, seeded: SeedSummary) -> None:
        typer.echo(
            f"Plan system before the first sync: {_count(seeded.plan_students, 'student')} from "
            f"an older integration ({seeded.with_sourced_id} already keyed to Campus, "
            f"{seeded.older_by_emis_student_id} findable by EMIS id, {seeded.older_by_state_id} "
            f"by state id, {seeded.older_by_local_id} by local id; planted conflicts: "
            f"{_count(seeded.shared_emis_student_id, 'shared EMIS id')}, "
            f"{_count(seeded.stale_sourced_id, 'stale Campus id')}, "
            f"{_count(seeded.name_and_birth_date_only, 'name-and-birth-date-only look-alike')})"
        )

    def night_finished(self, run: RunReport) -> None:
        if self.report is not None and run is self.report.runs[0]:
            _print_district(self.report)
        _print_run(run)
        self.after_summary = True

    def plans_written(self, plans: PlanPopulationSummary) -> None:
        typer.echo(
            f"Plan documents written by staff before the second night: {plans.documents} "
            f"({plans.completed} completed, {plans.drafts} drafts); students per program: "
            + ", ".join(f"{name} {count}" for name, count in plans.students_by_program.items())
        )

    def flags_finished(self, flags: FlagsReport) -> None:
        _print_flags(flags)
        self.after_summary = True


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def _print_district(report: DemoReport) -> None:
    served = f"{_count(report.students_served, 'student')} served"
    if report.broken_students:
        # the demo adds a broken student record; the roster tables never hold it
        kept = report.students_served - report.broken_students
        served += (
            f" ({report.broken_students} broken on purpose, so quarantined: the tables hold {kept})"
        )
    typer.echo(f"\nDistrict: {report.district}, {served}")


def _print_run(run: RunReport) -> None:
    status = "succeeded" if run.success else f"FAILED at {run.failure}"
    sync = run.sync
    typer.echo(f"\n== {run.label}: {status} in {run.seconds:.1f} s")
    if not run.collections and not run.success:
        typer.echo("   nothing reached the warehouse; the Dagster UI shows the step's error")
        return
    if sync:
        typer.echo(
            f"   sync {sync['mode']} ({sync['status']}), window "
            f"{sync['window_start'] or 'everything'} .. {sync['window_end']}"
        )
    typer.echo(
        f"   {'collection':<18}{'status':<11}{'fetched':>9}{'upserted':>10}"
        f"{'rejected':>10}{'warnings':>10}{'deactivated':>13}{'withheld':>10}"
    )
    for row in run.collections:
        collection, state, fetched, upserted, rejected, warnings, deactivated, withheld = row
        typer.echo(
            f"   {collection:<18}{state:<11}{fetched:>9}{upserted:>10}{rejected:>10}"
            f"{warnings:>10}{deactivated:>13}{withheld:>10}"
        )
    if run.quarantine:
        typer.echo("   quarantined:")
        for collection, reason, count in run.quarantine:
            typer.echo(f"     {count:>5}  {collection}: {reason}")
    else:
        typer.echo("   quarantined: none")
    if run.links_this_run:
        this_run = run.links_this_run
        typer.echo(
            "   linking this run: "
            + ", ".join(
                f"{name.replace('_', ' ')} {count}" for name, count in this_run.items() if count
            )
        )
    if run.emis:
        typer.echo(
            "   EMIS records: " + ", ".join(f"{name} {count}" for name, count in run.emis.items())
        )
    if run.snapshot:
        typer.echo(f"   report snapshot served to Campus: {run.snapshot.name}")
    if run.links:
        typer.echo(
            "   links in total, by how they were made: "
            + ", ".join(f"{name.replace('_', ' ')} {count}" for name, count in run.links.items())
        )


def _print_flags(flags: FlagsReport) -> None:
    status = "succeeded" if flags.success else f"FAILED at {flags.failure}"
    typer.echo(f"\n== flags for {flags.day}: {status} in {flags.seconds:.1f} s")
    typer.echo(
        f"   {'program':<20}{'badges':>8}{'unlinked':>10}{'set':>6}{'ended':>7}"
        f"{'updated':>9}{'failed':>8}  last push"
    )
    for program in flags.programs:
        badges = flags.badges.get(program.program, {})
        typer.echo(
            f"   {program.program:<20}{badges.get('active badges', 0):>8}"
            f"{badges.get('not linked', 0):>10}{program.flags_set:>6}{program.flags_ended:>7}"
            f"{program.flags_updated:>9}{program.changes_failed:>8}  "
            f"{program.last_attempt_status or 'never'}"
        )
    typer.echo(
        "   (badges: students in the program on that day; set: every flag written, including "
        "flags for badges that opened and closed since the cutover, written already ended)"
    )
    if flags.campus_flags:
        typer.echo(
            "   open flags in Campus: "
            + ", ".join(f"{name} {count}" for name, count in flags.campus_flags.items())
        )
