"""The `sg-pipelines` command."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from sg_pipelines.cli.exports import exports_app
from sg_pipelines.cli.lti import lti_app
from sg_pipelines.cli.options import (
    DEFAULT_STUDENTS,
    FLAG,
    CsvSample,
    Seed,
    SettingsFile,
    StudentsIfGiven,
    bind_or_exit,
    demo_hint,
)
from sg_pipelines.cli.sandbox import sandbox_app
from sg_pipelines.cli.ui import ui
from sg_pipelines.settings import default_home

app = typer.Typer(
    help="sg-pipelines: the Infinite Campus integration of a plan system.",
    pretty_exceptions_enable=False,
)
app.add_typer(sandbox_app, name="sandbox")
app.add_typer(lti_app, name="lti")
app.add_typer(exports_app, name="exports")
app.command()(ui)


@app.callback()
def main(
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose", "-v", metavar=FLAG, help="Log what each step does (counts only)."
        ),
    ] = False,
) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


@app.command()
def demo(
    students: StudentsIfGiven = None,
    seed: Seed = 7,
    csv_sample: CsvSample = False,
    home: Annotated[Path | None, typer.Option(help="Where the demo keeps its files.")] = None,
) -> None:
    """Run the nightly job on a generated district served by the sandbox, and summarise it.

    The demo starts its own sandbox and points its own settings at it, so `SG_` settings for
    Campus do not apply here; `--csv-sample` runs one night on the public sample (no plans).
    """
    from sg_pipelines.demo import DemoHomeBusy, NotADemoHome, run_demo

    if csv_sample and students is not None:
        typer.echo(
            "error: --csv-sample serves the sample's own 8 students; drop --students", err=True
        )
        raise typer.Exit(code=2)
    home = (home or default_home() / "demo").resolve()
    typer.echo(f"Starting the Campus sandbox and syncing into {home} ...")
    try:
        report = run_demo(
            home, students=students or DEFAULT_STUDENTS, seed=seed, csv_sample=csv_sample
        )
    except (NotADemoHome, DemoHomeBusy) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(code=2) from None
    except KeyboardInterrupt:
        typer.echo(f"interrupted: the demo stopped; what it made so far is in {home}", err=True)
        raise typer.Exit(code=130) from None

    if report.left_alone:
        typer.echo(
            f"Left in {home}, as the demo did not make them: " + ", ".join(report.left_alone)
        )
    served = f"{_count(report.students_served, 'student')} served"
    if report.broken_students:
        # the demo adds a broken student record; the roster tables never hold it
        kept = report.students_served - report.broken_students
        served += (
            f" ({report.broken_students} broken on purpose, so quarantined: the tables hold {kept})"
        )
    typer.echo(f"\nDistrict: {report.district}, {served}")
    seeded = report.seeded
    typer.echo(
        f"Plan system before the first sync: {_count(seeded.plan_students, 'student')} from an "
        f"older integration ({seeded.with_sourced_id} already keyed to Campus, "
        f"{seeded.older_by_emis_student_id} findable by EMIS id, {seeded.older_by_state_id} by "
        f"state id, {seeded.older_by_local_id} by local id; planted conflicts: "
        f"{_count(seeded.shared_emis_student_id, 'shared EMIS id')}, "
        f"{_count(seeded.stale_sourced_id, 'stale Campus id')}, "
        f"{_count(seeded.name_and_birth_date_only, 'name-and-birth-date-only look-alike')})"
    )
    for run in report.runs:
        _print_run(run)

    if report.plans is not None:
        plans = report.plans
        typer.echo(
            f"\nPlan documents written by staff before the second night: {plans.documents} "
            f"({plans.completed} completed, {plans.drafts} drafts); students per program: "
            + ", ".join(f"{name} {count}" for name, count in plans.students_by_program.items())
        )
    if report.flags is not None:
        _print_flags(report.flags)

    typer.echo("\nOpen the Dagster UI on the same data (runs, assets, checks, metadata):")
    typer.echo(f"  SG_HOME={report.home} .venv/bin/sg-pipelines ui")
    typer.echo("and read what the syncs and pushes did:")
    typer.echo(f"  SG_HOME={report.home} .venv/bin/sg-pipelines status")
    if not all(run.success for run in report.runs):
        raise typer.Exit(code=1)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def _print_run(run) -> None:
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


def _print_flags(flags) -> None:
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


@app.command()
def status(
    settings_file: SettingsFile = None,
) -> None:
    """What the last syncs did and what waits for a person: counts only, never names."""
    from sg_pipelines.programs.status import program_status
    from sg_pipelines.settings import load_settings
    from sg_pipelines.status import roster_status

    settings = load_settings(settings_file)
    if not settings.warehouse.exists():
        typer.echo(
            f"No warehouse at {settings.warehouse} yet: run a sync first." + demo_hint("status")
        )
        raise typer.Exit(code=1)

    report = roster_status(settings.warehouse)
    typer.echo(f"Warehouse: {settings.warehouse}")
    typer.echo("\nLast roster syncs:")
    for sync in report.syncs:
        typer.echo(
            f"  {sync.started_at:%Y-%m-%d %H:%M} UTC  {sync.mode:<6}{sync.status:<12}"
            f"fetched {sync.fetched}, rejected {sync.rejected}, warnings {sync.warnings}"
            + (f"  ({sync.message})" if sync.message else "")
        )
    typer.echo(
        f"\nStudents: {report.active_students} active, {report.inactive_students} inactive; "
        f"linked {report.linked}, waiting for review {report.pending_reviews}, "
        f"re-keyed so far {report.rekeyed}"
    )

    programs = program_status(settings.warehouse)
    typer.echo("\nProgram flags:")
    if not programs:
        typer.echo("  no push yet")
    for program in programs:
        health = "ok" if program.healthy else "ATTENTION: last attempt did not succeed"
        unflaggable = ", ".join(f"{n} {reason}" for reason, n in program.unflaggable.items())
        typer.echo(
            f"  {program.program:<18} last attempt {_when(program.last_attempted_at)} "
            f"({program.last_attempt_status or 'never'}), last success "
            f"{_when(program.last_success_at)}; set {program.flags_set}, ended "
            f"{program.flags_ended}, updated {program.flags_updated}, failed "
            f"{program.changes_failed}; {health}"
            + (f"; cannot be flagged: {unflaggable}" if unflaggable else "")
        )


def _when(moment) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment else "never"


@app.command()
def serve(
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port of the web side-app.")] = 8780,
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
) -> None:
    """Serve the web side-app: LTI 1.3 launch, the plan viewer, health, moved outline links."""
    import uvicorn

    from sg_pipelines.web import create_app

    web_app = create_app()
    sock = bind_or_exit(host, port, "--port")
    typer.echo(
        f"Serving the web side-app on http://{host}:{port}/ (health: /healthz); Ctrl-C stops"
    )
    config = uvicorn.Config(web_app, host=host, port=port, log_level="warning", access_log=False)
    uvicorn.Server(config).run(sockets=[sock])


def run() -> None:
    """The `sg-pipelines` entry point: a user sees one line per problem, never a traceback."""
    import yaml
    from pydantic import ValidationError

    try:
        app()
    except KeyboardInterrupt:
        typer.echo("interrupted; nothing half-written is kept, run the command again", err=True)
        raise SystemExit(130) from None
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in item['loc'])}: {item['msg']}"
            for item in error.errors(include_url=False, include_input=False)
        )
        typer.echo(f"error: invalid settings: {problems}", err=True)
        raise SystemExit(2) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or error.__class__.__name__
        typer.echo(f"error: the settings file is not valid YAML{where}: {problem}", err=True)
        raise SystemExit(2) from None
    except ValueError as error:
        # the CSV bundle loader, the demo and the settings file refuse bad input in one line
        if type(error).__name__ not in {"BundleError", "NotADemoHome", "SettingsFileError"}:
            raise
        typer.echo(f"error: {error}", err=True)
        raise SystemExit(2) from None
    except OSError as error:
        typer.echo(
            f"error: {error.strerror or error}: {error.filename or ''}".rstrip(": "), err=True
        )
        raise SystemExit(2) from None


if __name__ == "__main__":
    run()
