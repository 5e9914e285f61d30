"""Options and helpers the `sg-pipelines` command groups share."""

import os
import socket
from pathlib import Path
from typing import Annotated, Any, get_args

import typer
from typer.core import TyperCommand, TyperGroup


def _value_types_only(params: list) -> list:
    """Help shows the type of the value an option takes, and none beside a flag.

    Typer would print `<bool>` beside every flag (`--help` too) and `<list[str]>` beside an
    option given once per value.
    """
    for param in params:
        if param.param_type_name != "option" or param.metavar is not None:
            continue
        if param.is_flag:
            param.metavar = ""
        elif param.multiple and (value_types := get_args(param.type_descriptor.annotation)):
            param.metavar = f"<{value_types[0].__name__}>"
    return params


class _Group(TyperGroup):
    def get_params(self, ctx: typer.Context) -> list:
        return _value_types_only(super().get_params(ctx))


class _Command(TyperCommand):
    def get_params(self, ctx: typer.Context) -> list:
        return _value_types_only(super().get_params(ctx))


class CommandGroup(typer.Typer):
    """A group of `sg-pipelines` commands whose help shows only the types a user types."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cls=_Group, **kwargs)

    def command(self, *args: Any, **kwargs: Any) -> Any:
        return super().command(*args, cls=_Command, **kwargs)


Students = Annotated[int, typer.Option(min=1, help="Students in the generated district.")]
DEFAULT_STUDENTS = 2000
DEFAULT_SEED = 7
# None when not given, so a command can tell "not given" from the default
StudentsIfGiven = Annotated[
    int | None,
    typer.Option(
        "--students",
        min=1,
        help=f"Students in the generated district (default {DEFAULT_STUDENTS}).",
    ),
]
Seed = Annotated[int, typer.Option(help="Seed of the district generator (same seed, same data).")]
SeedIfGiven = Annotated[
    int | None,
    typer.Option(
        "--seed",
        help=f"Seed of the district generator (default {DEFAULT_SEED}; same seed, same data).",
    ),
]
DemoHome = Annotated[
    Path | None,
    # parentheses, not brackets: help text is rich markup, where `[...]` is a style and vanishes
    typer.Option(help="The demo's home (default: $SG_HOME, or .sg-pipelines/demo)."),
]
CsvSample = Annotated[
    bool,
    typer.Option("--csv-sample", help="Serve the public OneRoster CSV sample instead."),
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


def demo_home(home: Path | None = None) -> Path:
    """`home` when given, else `$SG_HOME`, else the demo's default home."""
    from sg_pipelines.settings import HOME_ENV, default_home

    if home is not None:
        return home.resolve()
    if os.environ.get(HOME_ENV):
        return Path(os.environ[HOME_ENV]).resolve()
    return (default_home() / "demo").resolve()


def demo_hint(command: str) -> str:
    """Where the demo's data is and how to point `command` at it, when `$SG_HOME` is not set."""
    from sg_pipelines.demo_home import DEMO_MARKER
    from sg_pipelines.settings import HOME_ENV, default_home

    demo_home = default_home() / "demo"
    if os.environ.get(HOME_ENV) or not (demo_home / DEMO_MARKER).exists():
        return ""
    try:
        shown = demo_home.relative_to(Path.cwd())
    except ValueError:
        shown = demo_home
    return f" The demo's data is in {shown}: SG_HOME={shown} sg-pipelines {command}"


def missing_sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL when it does not exist yet (a read should not create it)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite") or parsed.database in (None, "", ":memory:"):
        return None
    path = Path(parsed.database)
    return None if path.exists() else path
