"""`--help` of every command and group: each option's help in full, and a type only where the
option takes a value (never `<bool>` beside a flag, nor a Python type such as `<list[str]>`)."""

import pytest
import typer.main
from typer.testing import CliRunner

from sg_pipelines.cli import app


def command_paths(command, path=()):
    yield path, command
    for name, subcommand in getattr(command, "commands", {}).items():
        yield from command_paths(subcommand, (*path, name))


COMMANDS = list(command_paths(typer.main.get_command(app)))


def test_every_command_and_group_is_checked():
    names = {" ".join(path) for path, _ in COMMANDS}

    assert {"", "demo", "ui", "status", "sandbox report", "lti list", "exports update"} <= names


@pytest.mark.parametrize(
    ("path", "command"), COMMANDS, ids=[" ".join(path) or "sg-pipelines" for path, _ in COMMANDS]
)
def test_help_shows_each_option_whole_and_a_type_only_beside_a_value(path, command):
    # wide enough that no help text wraps
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "240"})

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "<bool>" not in result.output
    assert "<list[" not in result.output
    options = [param for param in command.params if param.param_type_name == "option"]
    for flag in [*(param for param in options if param.is_flag), "--help"]:
        name = flag if isinstance(flag, str) else flag.opts[0]
        [row] = [line for line in lines if f" {name} " in line]
        assert "<" not in row, row
    for param in options:
        if param.help:
            # rich markup would drop a `[...]` in the text; the whole help must show
            assert param.help in result.output, param.help
