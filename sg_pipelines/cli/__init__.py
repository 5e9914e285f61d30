"""The `sg-pipelines` command."""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from sg_pipelines.cli.demo import demo
from sg_pipelines.cli.exports import exports_app
from sg_pipelines.cli.lti import lti_app
from sg_pipelines.cli.options import CommandGroup, SettingsFile, bind_or_exit, demo_hint
from sg_pipelines.cli.sandbox import sandbox_app
from sg_pipelines.cli.ui import ui

app = CommandGroup(
    help="sg-pipelines: the Infinite Campus integration of a plan system.",
    pretty_exceptions_enable=False,
)
app.add_typer(sandbox_app, name="sandbox")
app.add_typer(lti_app, name="lti")
app.add_typer(exports_app, name="exports")
app.command()(ui)
app.command()(demo)


@app.callback()
def main(
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log what each step does (counts only).")
    ] = False,
) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
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

    # both reads before the first line, so that a busy warehouse never leaves half a report
    report = roster_status(settings.warehouse)
    programs = program_status(settings.warehouse)
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
    """Serve the web side-app: LTI 1.3 launch, the plan viewer, health, moved outline links.

    It holds its home while it serves, so a demo never clears the files it has open.
    """
    import uvicorn

    from sg_pipelines.demo_home import DemoHomeBusy, hold_home
    from sg_pipelines.settings import load_settings
    from sg_pipelines.web import create_app

    settings = load_settings()
    try:
        with hold_home(settings.home.expanduser().resolve()):
            web_app = create_app(settings)
            sock = bind_or_exit(host, port, "--port")
            typer.echo(
                f"Serving the web side-app on http://{host}:{port}/ (health: /healthz); "
                "Ctrl-C stops"
            )
            config = uvicorn.Config(
                web_app, host=host, port=port, log_level="warning", access_log=False
            )
            uvicorn.Server(config).run(sockets=[sock])
    except DemoHomeBusy as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(code=2) from None


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
    except RuntimeError as error:
        # a read-only command that met a sync writing the warehouse, past its wait
        if type(error).__name__ != "WarehouseBusy":
            raise
        typer.echo(f"error: {error}", err=True)
        raise SystemExit(1) from None
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
