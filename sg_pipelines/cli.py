"""The `sg-pipelines` command."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from sg_pipelines.settings import SANDBOX_DEFAULT_PORT, default_home

app = typer.Typer(
    help="sg-pipelines: the Infinite Campus integration of a plan system.",
    pretty_exceptions_enable=False,
)
sandbox_app = typer.Typer(help="The Campus sandbox: a OneRoster 1.2 provider for demos and tests.")
app.add_typer(sandbox_app, name="sandbox")
lti_app = typer.Typer(help="LTI 1.3 registrations of a district's Campus (see docs/lti.md).")
app.add_typer(lti_app, name="lti")
exports_app = typer.Typer(
    help="Data exports: reporting-API accounts, their permissions and options "
    "(see docs/reporting-api.md)."
)
app.add_typer(exports_app, name="exports")

REPO_ROOT = Path(__file__).resolve().parent.parent

Students = Annotated[int, typer.Option(min=1, help="Students in the generated district.")]
Seed = Annotated[int, typer.Option(help="Seed of the district generator (same seed, same data).")]
CsvSample = Annotated[
    bool, typer.Option("--csv-sample", help="Serve the public OneRoster CSV sample instead.")
]


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
def demo(
    students: Students = 2000,
    seed: Seed = 7,
    csv_sample: CsvSample = False,
    home: Annotated[Path | None, typer.Option(help="Where the demo keeps its files.")] = None,
) -> None:
    """Run the nightly job on a generated district served by the sandbox, and summarise it.

    The demo starts its own sandbox and points its own settings at it, so `SG_` settings for
    Campus do not apply here; `--csv-sample` runs one night on the public sample (no plans).
    """
    from sg_pipelines.demo import NotADemoHome, run_demo

    home = home or default_home() / "demo"
    typer.echo(f"Starting the Campus sandbox and syncing into {home} ...")
    try:
        report = run_demo(home, students=students, seed=seed, csv_sample=csv_sample)
    except NotADemoHome as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(code=2) from None

    typer.echo(f"\nDistrict: {report.district}, {report.students_served} students served")
    seeded = report.seeded
    typer.echo(
        f"Plan system before the first sync: {seeded.plan_students} students from an older "
        f"integration ({seeded.with_sourced_id} already keyed to Campus, "
        f"{seeded.older_by_emis_student_id} findable by EMIS id, {seeded.older_by_state_id} by "
        f"state id, {seeded.older_by_local_id} by local id; planted conflicts: "
        f"{seeded.shared_emis_student_id} shared EMIS ids, {seeded.stale_sourced_id} stale "
        f"Campus ids, {seeded.name_and_birth_date_only} name-and-birth-date-only look-alikes)"
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
    typer.echo(f"  DAGSTER_HOME={report.dagster_home} SG_HOME={report.home} \\")
    flags = " --csv-sample" if csv_sample else f" --students {students} --seed {seed}"
    typer.echo(f"    .venv/bin/sg-pipelines ui{flags}")
    typer.echo("and read what the syncs and pushes did:")
    typer.echo(f"  SG_HOME={report.home} .venv/bin/sg-pipelines status")
    if not all(run.success for run in report.runs):
        raise typer.Exit(code=1)


def _print_run(run) -> None:
    status = "succeeded" if run.success else "FAILED"
    sync = run.sync
    typer.echo(f"\n== {run.label}: {status} in {run.seconds:.1f} s")
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
    status = "succeeded" if flags.success else "FAILED"
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
def ui(
    students: Students = 2000,
    seed: Seed = 7,
    csv_sample: CsvSample = False,
    port: Annotated[int, typer.Option(help="Port of the Dagster UI.")] = 3000,
) -> None:
    """Serve the sandbox district on its default port and open `dagster dev` beside it."""
    from sg_pipelines.demo import build_district
    from sg_pipelines.sandbox.runner import SandboxServer

    district, description = build_district(students, seed, csv_sample)
    with SandboxServer(district, port=SANDBOX_DEFAULT_PORT) as sandbox:
        typer.echo(f"Sandbox serving {description} at {sandbox.base_url}")
        env = dict(os.environ)
        env.setdefault("SG_HOME", str(default_home() / "demo"))
        env.setdefault("DAGSTER_HOME", str(Path(env["SG_HOME"]) / "dagster"))
        Path(env["DAGSTER_HOME"]).mkdir(parents=True, exist_ok=True)
        command = [
            str(Path(sys.executable).parent / "dagster"),
            "dev",
            "-w",
            str(REPO_ROOT / "workspace.yaml"),
            "-p",
            str(port),
        ]
        subprocess.run(command, env=env, cwd=REPO_ROOT, check=False)


@app.command()
def status(
    settings_file: Annotated[
        Path | None, typer.Option("--settings", help="Settings file (default: $SG_SETTINGS_FILE).")
    ] = None,
) -> None:
    """What the last syncs did and what waits for a person: counts only, never names."""
    from sg_pipelines.programs.status import program_status
    from sg_pipelines.settings import load_settings
    from sg_pipelines.status import roster_status

    settings = load_settings(settings_file)
    if not settings.warehouse.exists():
        typer.echo(f"No warehouse at {settings.warehouse} yet: run a sync first.")
        raise typer.Exit(code=1)

    report = roster_status(settings.warehouse)
    typer.echo(f"Warehouse: {settings.warehouse}")
    typer.echo("\nLast roster syncs:")
    for sync in report.syncs:
        typer.echo(
            f"  {sync.started_at:%Y-%m-%d %H:%M} UTC  {sync.mode:<6}{sync.status:<10}"
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
    port: Annotated[int, typer.Option(help="Port of the web side-app.")] = 8780,
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
) -> None:
    """Serve the web side-app: LTI 1.3 launch, the plan viewer, health, moved outline links."""
    import uvicorn

    from sg_pipelines.web import create_app

    uvicorn.run(create_app(), host=host, port=port, log_level="warning", access_log=False)


SettingsFile = Annotated[
    Path | None, typer.Option("--settings", help="Settings file (default: $SG_SETTINGS_FILE).")
]
Issuer = Annotated[str, typer.Option(help="The platform's issuer (`iss`), exactly.")]
ClientId = Annotated[str, typer.Option(help="The client id Campus gave the tool.")]
Buildings = Annotated[
    list[str] | None,
    typer.Option("--building", help="Building IRN the deployment covers (repeat); none: all."),
]


def _app_database(settings_file: Path | None) -> str:
    from sg_pipelines.settings import load_settings

    return load_settings(settings_file).app_database


def _print_registration(registration) -> None:
    typer.echo(
        f"{registration.id}: {registration.district}  issuer {registration.issuer}  "
        f"client {registration.client_id}"
    )
    typer.echo(f"   login {registration.auth_login_url}  keys {registration.key_set_url}")
    typer.echo(f"   launch {registration.launch_url}  framed by {registration.frame_origin}")
    for deployment in registration.deployments:
        scope = ", ".join(deployment.buildings) if deployment.buildings else "whole district"
        typer.echo(f"   deployment {deployment.deployment_id} ({scope})")


def _refuse(error: Exception) -> None:
    typer.echo(f"error: {error}", err=True)
    raise typer.Exit(code=2)


@lti_app.command("register")
def lti_register(
    district: Annotated[str, typer.Option(help="The district this registration serves.")],
    issuer: Issuer,
    client_id: ClientId,
    auth_login_url: Annotated[str, typer.Option(help="The platform's OIDC authentication URL.")],
    key_set_url: Annotated[str, typer.Option(help="The platform's key set (JWKS) URL.")],
    deployment: Annotated[list[str], typer.Option(help="Deployment id to accept (repeat).")],
    building: Buildings = None,
    frame_origin: Annotated[
        str | None, typer.Option(help="The only origin allowed to frame the viewer.")
    ] = None,
    settings_file: SettingsFile = None,
) -> None:
    """Register a district's Campus as an LTI 1.3 platform."""
    from sg_pipelines.web.lti.registrations import register

    try:
        registration = register(
            _app_database(settings_file),
            district=district,
            issuer=issuer,
            client_id=client_id,
            auth_login_url=auth_login_url,
            key_set_url=key_set_url,
            deployments=deployment,
            buildings=building,
            frame_origin=frame_origin,
        )
    except ValueError as error:
        _refuse(error)
    _print_registration(registration)


@lti_app.command("deploy")
def lti_deploy(
    issuer: Issuer,
    client_id: ClientId,
    deployment: Annotated[str, typer.Option(help="The deployment id to accept.")],
    building: Buildings = None,
    settings_file: SettingsFile = None,
) -> None:
    """Accept one more deployment id of a registered platform."""
    from sg_pipelines.web.lti.registrations import add_deployment

    try:
        registration = add_deployment(
            _app_database(settings_file), issuer, client_id, deployment, building
        )
    except (LookupError, ValueError) as error:
        _refuse(error)
    _print_registration(registration)


@lti_app.command("list")
def lti_list(settings_file: SettingsFile = None) -> None:
    """Every registration and its deployments."""
    from sg_pipelines.web.lti.registrations import list_registrations

    registrations = list_registrations(_app_database(settings_file))
    if not registrations:
        typer.echo("No LTI registrations yet: see `sg-pipelines lti register --help`.")
    for registration in registrations:
        _print_registration(registration)


@lti_app.command("remove")
def lti_remove(issuer: Issuer, client_id: ClientId, settings_file: SettingsFile = None) -> None:
    """Remove a registration; its pending launches and open views end."""
    from sg_pipelines.web.lti.registrations import remove_registration

    if not remove_registration(_app_database(settings_file), issuer, client_id):
        _refuse(LookupError("no registration for that issuer and client id"))
    typer.echo("removed")


@lti_app.command("rotate-key")
def lti_rotate_key(settings_file: SettingsFile = None) -> None:
    """Rotate the tool's signing key; the previous key stays published for the overlap."""
    from sg_pipelines.web.lti.registrations import rotate_key

    typer.echo(f"new key id: {rotate_key(_app_database(settings_file))}")


ExportName = Annotated[str, typer.Argument(help="The data export's name.")]
Endpoints = Annotated[
    list[str] | None,
    typer.Option("--endpoint", help="Permitted endpoint: ge, fd, fe, gq or ohioPreId (repeat)."),
]
Options = Annotated[
    list[str] | None,
    typer.Option("--option", help="A district default, `endpoint.option=value` or `option=value`."),
]
Locks = Annotated[
    list[str] | None,
    typer.Option("--lock", help="An option the caller may not override (`endpoint.option`)."),
]
PageSizes = Annotated[
    list[str] | None,
    typer.Option(
        "--max-page-size", help="Largest page, `N` or `endpoint=N`; no override exceeds it."
    ),
]
SftpHost = Annotated[str | None, typer.Option(help="Push each record set to this SFTP host.")]
SftpPort = Annotated[int | None, typer.Option(help="SFTP port.")]
SftpUser = Annotated[str | None, typer.Option("--sftp-username", help="SFTP user.")]
SftpDir = Annotated[str | None, typer.Option(help="SFTP folder the files go to.")]
NoEmail = Annotated[
    bool, typer.Option("--no-email", help="Do not mail the link; print it to hand over.")
]


def _sftp_target(host, port, username, remote_dir) -> dict | None:
    given = {"host": host, "port": port, "username": username, "remote_dir": remote_dir}
    given = {key: value for key, value in given.items() if value is not None}
    return given or None


def _exports_call(function, *args, **kwargs):
    from sg_pipelines.settings import load_settings
    from sg_pipelines.web.exports.admin import ExportError

    try:
        return function(load_settings(), *args, **kwargs)
    except ExportError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(code=1) from None


def _print_invitation(link) -> None:
    if link.mailed:
        typer.echo(f"Mailed the acceptance link to the contact of {link.export.name}.")
    else:
        reason = f" ({link.mail_error})" if link.mail_error else ""
        typer.echo(f"The link was not mailed{reason}; hand it to the contact:")
        typer.echo(f"  {link.url}")
    typer.echo(f"The link works for {link.expires_in_days} days; the secret shows once.")


@exports_app.command("add")
def exports_add(
    name: Annotated[str, typer.Option(help="A name for the account, e.g. 'Campus EMIS'.")],
    first_name: Annotated[str, typer.Option(help="Contact's first name.")],
    last_name: Annotated[str, typer.Option(help="Contact's last name.")],
    email: Annotated[str, typer.Option(help="Contact's email: the link goes there.")],
    endpoint: Endpoints = None,
    option: Options = None,
    lock: Locks = None,
    max_page_size: PageSizes = None,
    replace_unknown: Annotated[
        bool, typer.Option("--replace-unknown", help="FD: send unknown fields as `@`.")
    ] = False,
    sftp_host: SftpHost = None,
    sftp_port: SftpPort = None,
    sftp_username: SftpUser = None,
    sftp_remote_dir: SftpDir = None,
    no_email: NoEmail = False,
) -> None:
    """Create an API account and mail its contact the link to accept the terms."""
    from sg_pipelines.web.exports.admin import add_export

    link = _exports_call(
        add_export,
        name=name,
        contact_first_name=first_name,
        contact_last_name=last_name,
        contact_email=email,
        endpoints=endpoint or [],
        options=option or (),
        locked=lock or (),
        max_page_sizes=max_page_size or (),
        replace_unknown=replace_unknown,
        sftp=_sftp_target(sftp_host, sftp_port, sftp_username, sftp_remote_dir),
        send=not no_email,
    )
    _print_invitation(link)


@exports_app.command("list")
def exports_list() -> None:
    """Every data export and its state."""
    from sg_pipelines.web.exports.admin import export_state, list_exports

    exports = _exports_call(list_exports)
    if not exports:
        typer.echo("No data exports yet: see `sg-pipelines exports add --help`.")
    for export in exports:
        endpoints = ", ".join(permission.endpoint for permission in export.permissions)
        typer.echo(f"{export.name:<28}{export.client_id:<28}{export_state(export):<46} {endpoints}")


@exports_app.command("show")
def exports_show(name: ExportName) -> None:
    """One data export: contact, state, permissions and options; never a secret."""
    from sg_pipelines.web.exports.admin import describe_export, show_export

    typer.echo(describe_export(_exports_call(show_export, name)))


@exports_app.command("update")
def exports_update(
    name: ExportName,
    new_name: Annotated[str | None, typer.Option(help="Rename the account.")] = None,
    first_name: Annotated[str | None, typer.Option(help="Contact's first name.")] = None,
    last_name: Annotated[str | None, typer.Option(help="Contact's last name.")] = None,
    email: Annotated[str | None, typer.Option(help="Contact's email.")] = None,
    endpoint: Endpoints = None,
    option: Options = None,
    lock: Locks = None,
    unlock: Annotated[
        list[str] | None, typer.Option("--unlock", help="Let the caller override this option.")
    ] = None,
    max_page_size: PageSizes = None,
    replace_unknown: Annotated[
        bool | None, typer.Option("--replace-unknown/--no-replace-unknown")
    ] = None,
    sftp_host: SftpHost = None,
    sftp_port: SftpPort = None,
    sftp_username: SftpUser = None,
    sftp_remote_dir: SftpDir = None,
    clear_sftp: Annotated[bool, typer.Option("--clear-sftp", help="Stop the SFTP push.")] = False,
) -> None:
    """Change an account; `--endpoint` given means the complete new list of endpoints."""
    from sg_pipelines.web.exports.admin import describe_export, update_export

    export = _exports_call(
        update_export,
        name,
        new_name=new_name,
        contact_first_name=first_name,
        contact_last_name=last_name,
        contact_email=email,
        endpoints=endpoint,
        options=option or (),
        locked=lock or (),
        unlocked=unlock or (),
        max_page_sizes=max_page_size or (),
        replace_unknown=replace_unknown,
        sftp=_sftp_target(sftp_host, sftp_port, sftp_username, sftp_remote_dir),
        clear_sftp=clear_sftp,
    )
    typer.echo(describe_export(export))


@exports_app.command("rotate-secret")
def exports_rotate_secret(
    name: ExportName,
    revoke_now: Annotated[
        bool, typer.Option("--revoke-now", help="End the old secret and its tokens at once.")
    ] = False,
    no_email: NoEmail = False,
) -> None:
    """Issue a new secret through a new acceptance link; the old one is never shown again."""
    from sg_pipelines.web.exports.admin import rotate_secret

    _print_invitation(_exports_call(rotate_secret, name, revoke_now=revoke_now, send=not no_email))


@exports_app.command("disable")
def exports_disable(name: ExportName) -> None:
    """Disable an account: its tokens stop working and the token call refuses it."""
    from sg_pipelines.web.exports.admin import disable_export, export_state

    typer.echo(f"{name}: {export_state(_exports_call(disable_export, name))}")


@exports_app.command("enable")
def exports_enable(name: ExportName) -> None:
    """Enable a disabled account again."""
    from sg_pipelines.web.exports.admin import enable_export, export_state

    typer.echo(f"{name}: {export_state(_exports_call(enable_export, name))}")


@sandbox_app.command("report")
def sandbox_report(
    client_id: Annotated[str, typer.Option(help="The data export's client id.")],
    client_secret: Annotated[
        str, typer.Option(envvar="SG_REPORT_CLIENT_SECRET", help="Its secret (or the variable).")
    ],
    api_url: Annotated[str, typer.Option(help="Where the reporting API is served.")] = (
        "http://127.0.0.1:8780"
    ),
    fiscal_year: Annotated[int | None, typer.Option(help="Fiscal year of the calendar.")] = None,
    reporting_period: Annotated[str | None, typer.Option(help="K, N or G.")] = None,
    building_irn: Annotated[str | None, typer.Option(help="Only this building.")] = None,
    students: Students = 2000,
    seed: Seed = 7,
    csv_sample: CsvSample = False,
) -> None:
    """Pull every record set as Campus would and show what its report would contain.

    Campus's own drops (students not linked, records outside an enrollment, ...) are judged
    against the sandbox district of the same size and seed as the demo's.
    """
    import httpx

    from sg_pipelines.demo import build_district
    from sg_pipelines.sandbox.report_client import (
        CampusParameters,
        CampusReportClient,
        CampusRoster,
        ReportClientError,
    )

    district, _ = build_district(students, seed, csv_sample)
    parameters = CampusParameters(
        fiscal_year=fiscal_year, reporting_period=reporting_period, building_irn=building_irn
    )
    try:
        with CampusReportClient(api_url, client_id, client_secret) as client:
            report = client.report(CampusRoster.from_district(district), parameters)
    except ReportClientError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(code=1) from None
    except httpx.HTTPError as error:
        typer.echo(f"error: cannot reach the reporting API at {api_url} ({type(error).__name__})")
        raise typer.Exit(code=1) from None

    summary = report.summary()
    reasons = summary.pop("reasons")
    typer.echo(f"{'record set':<12}{'served':>8}{'pages':>7}{'kept':>7}{'dropped':>9}")
    for endpoint, counts in summary.items():
        typer.echo(
            f"{endpoint:<12}{counts['served']:>8}{counts['pages']:>7}{counts['kept']:>7}"
            f"{counts['dropped']:>9}"
        )
    for reason, count in sorted(reasons.items()):
        typer.echo(f"  dropped by Campus: {count} {reason}")


@sandbox_app.command("serve")
def sandbox_serve(
    port: Annotated[int, typer.Option(help="Loopback port to listen on.")] = SANDBOX_DEFAULT_PORT,
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    students: Students = 2000,
    seed: Seed = 7,
    csv: Annotated[Path | None, typer.Option(help="Serve this OneRoster CSV bundle.")] = None,
    csv_sample: CsvSample = False,
) -> None:
    """Serve a district as a OneRoster 1.2 provider until interrupted."""
    from sg_pipelines.demo import PUBLIC_SAMPLE, build_district
    from sg_pipelines.sandbox.csv_bundle import load_bundle
    from sg_pipelines.sandbox.runner import serve_forever

    if csv is not None:
        district = load_bundle(csv)
        description = f"CSV bundle {csv}"
    else:
        district, description = build_district(students, seed, csv_sample)
        if csv_sample:
            description += f" from {PUBLIC_SAMPLE}"
    typer.echo(f"Serving {description} on http://{host}:{port}/ims/oneroster/rostering/v1p2")
    serve_forever(host, port, district)


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
        typer.echo(
            f"error: the settings file is not valid YAML ({error.__class__.__name__})", err=True
        )
        raise SystemExit(2) from None
    except ValueError as error:
        # the CSV bundle loader and the settings refuse bad input with a message of their own
        if type(error).__name__ not in {"BundleError", "NotADemoHome"}:
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
