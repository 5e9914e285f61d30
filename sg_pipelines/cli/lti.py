"""`sg-pipelines lti`: a district's Campus registered as LTI 1.3 platform."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sg_pipelines.cli.options import CommandGroup, SettingsFile, demo_hint, missing_sqlite_file

lti_app = CommandGroup(help="LTI 1.3 registrations of a district's Campus (see docs/lti.md).")

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

    app_database = _app_database(settings_file)
    missing = missing_sqlite_file(app_database)
    if missing is not None:
        typer.echo(f"No LTI registrations yet: no database at {missing}." + demo_hint("lti list"))
        return
    registrations = list_registrations(app_database)
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
