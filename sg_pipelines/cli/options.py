"""Options and helpers the `sg-pipelines` command groups share."""

import socket
from pathlib import Path
from typing import Annotated

import typer

Students = Annotated[int, typer.Option(min=1, help="Students in the generated district.")]
DEFAULT_STUDENTS = 2000
DEFAULT_SEED = 7
# None when not given, so a command can tell "not given" from the default
StudentsIfGiven = Annotated[
    int | None,
    typer.Option(
        "--students",
        min=1,
        help=f"Students in the generated district [default: {DEFAULT_STUDENTS}].",
    ),
]
Seed = Annotated[int, typer.Option(help="Seed of the district generator (same seed, same data).")]
CsvSample = Annotated[
    bool, typer.Option("--csv-sample", help="Serve the public OneRoster CSV sample instead.")
]
SettingsFile = Annotated[
    Path | None, typer.Option("--settings", help="Settings file (default: $SG_SETTINGS_FILE).")
]


def bind_or_exit(host: str, port: int, option: str) -> socket.socket:
    """Bind `host:port` before anything says it serves there; a taken port is one line."""
    from sg_pipelines.sandbox.runner import bind_socket

    try:
        return bind_socket(host, port)
    except OSError as error:
        typer.echo(
            f"error: cannot listen on {host}:{port} ({error.strerror or error}); "
            f"choose another port with {option}",
            err=True,
        )
        raise typer.Exit(code=2) from None
