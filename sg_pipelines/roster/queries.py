"""SQL kept in `sql/*.sql` next to this module."""

from __future__ import annotations

from functools import cache
from importlib.resources import files


@cache
def query(name: str) -> str:
    """The text of `sql/{name}.sql`."""
    return files("sg_pipelines.roster").joinpath("sql", f"{name}.sql").read_text(encoding="utf-8")


def statements(name: str) -> list[str]:
    """The statements of `sql/{name}.sql`, split on `;` at line ends (no `;` inside strings)."""
    return [text.strip() for text in query(name).split(";\n") if text.strip()]
