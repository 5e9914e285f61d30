"""`sg-pipelines exports`: the reporting API's accounts."""

from __future__ import annotations

from typing import Annotated

import typer

from sg_pipelines.cli.options import CommandGroup, demo_hint, missing_sqlite_file

exports_app = CommandGroup(
    help="Data exports: reporting-API accounts, their permissions and options "
    "(see docs/reporting-api.md)."
)

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
    bool,
    typer.Option("--no-email", help="Do not mail the link; print it to hand over."),
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
        bool,
        typer.Option("--replace-unknown", help="FD: send unknown fields as `@`."),
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
    from sg_pipelines.settings import load_settings
    from sg_pipelines.web.exports.admin import export_state, list_exports

    missing = missing_sqlite_file(load_settings().app_database)
    if missing is not None:
        typer.echo(f"No data exports yet: no database at {missing}." + demo_hint("exports list"))
        return
    exports = _exports_call(list_exports)
    if not exports:
        typer.echo("No data exports yet: see `sg-pipelines exports add --help`.")
    for export in exports:
        endpoints = ", ".join(permission.endpoint for permission in export.permissions)
        typer.echo(f"{export.name:<28}{export.client_id:<28}{export_state(export):<46} {endpoints}")


@exports_app.command("show")
def exports_show(name: ExportName) -> None:
    """One data export: contact, state, permissions and options; never a secret."""
    from sg_pipelines.settings import load_settings
    from sg_pipelines.web.exports.admin import describe_export, show_export

    missing = missing_sqlite_file(load_settings().app_database)
    if missing is not None:
        typer.echo(f"error: no data exports yet: no database at {missing}", err=True)
        raise typer.Exit(code=1)
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
        bool | None,
        typer.Option(
            "--replace-unknown/--no-replace-unknown",
            help="FD: send unknown fields as `@`, or stop doing so.",
        ),
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
        bool,
        typer.Option("--revoke-now", help="End the old secret and its tokens at once."),
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
