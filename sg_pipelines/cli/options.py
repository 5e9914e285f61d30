"""Options and helpers the `sg-pipelines` command groups share."""

from pathlib import Path
from typing import Annotated

import typer

Students = Annotated[int, typer.Option(min=1, help="Students in the generated district.")]
Seed = Annotated[int, typer.Option(help="Seed of the district generator (same seed, same data).")]
CsvSample = Annotated[
    bool, typer.Option("--csv-sample", help="Serve the public OneRoster CSV sample instead.")
]
SettingsFile = Annotated[
    Path | None, typer.Option("--settings", help="Settings file (default: $SG_SETTINGS_FILE).")
]
