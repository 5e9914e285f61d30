"""Rendering records: the state's fixed-width format from `layouts.py`, and JSON-ready rows.

Dates are rendered `YYYYMMDD` from `date` values only: a `datetime` is refused, so nothing can
be shifted by a time zone on its way to a record. A null date is the state's `00000000`; a
null code is `*` to the element's width; a null field Campus owns (FD) is `@` to its width,
the partner-side "unknown" marker, never a state value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from sg_pipelines.emis.code_lists import NOT_APPLICABLE_DATE, UNKNOWN_CHAR
from sg_pipelines.emis.layouts import Element, Layout

RECORD_SEPARATOR = "\r\n"


def format_date(value: date | None) -> str:
    """`YYYYMMDD`, or the state's `00000000` for no date."""
    if value is None:
        return NOT_APPLICABLE_DATE
    if isinstance(value, datetime) or not isinstance(value, date):
        raise TypeError("EMIS dates are rendered from DATE values only, never from instants")
    return f"{value.year:04d}{value.month:02d}{value.day:02d}"


def render_element(element: Element, row: Mapping[str, Any]) -> str:
    """One element's characters; ValueError when a value does not fit its width."""
    if element.kind == "constant":
        text = element.column
    elif element.kind == "flags":
        chosen = set(row.get(element.column) or ())
        text = "".join("Y" if option in chosen else "N" for option in element.options)
    else:
        value = row.get(element.column)
        if element.kind == "date":
            text = format_date(value)
        elif value is None:
            text = UNKNOWN_CHAR * element.width if element.owner == "sis" else element.fill
        elif element.kind == "number":
            text = str(value).zfill(element.width)
        else:
            text = str(value).ljust(element.width)
    if len(text) != element.width:
        raise ValueError(
            f"{element.element_id or element.name}: {len(text)} characters for a field of "
            f"{element.width}"
        )
    return text


def render_record(layout: Layout, row: Mapping[str, Any]) -> str:
    """One record line (without its separator), padded to the layout's record length."""
    line = "".join(render_element(element, row) for element in layout.elements)
    return line.ljust(layout.width)


def render(layout: Layout, rows: Iterable[Mapping[str, Any]]) -> str:
    """A fixed-width file: one record a line, CRLF-separated."""
    return "".join(render_record(layout, row) + RECORD_SEPARATOR for row in rows)


def json_row(
    layout: Layout, row: Mapping[str, Any], *, mark_unknown: bool = False
) -> dict[str, Any]:
    """A record as JSON values: dates as `YYYYMMDD` strings (or `00000000`), codes as they
    are, and fields Campus owns as null, or `@` when `mark_unknown` (the API's `@` option)."""
    rendered: dict[str, Any] = {}
    for element in layout.elements:
        if element.kind == "constant":
            continue
        value = row.get(element.column)
        if element.kind == "date":
            value = format_date(value)
        elif element.kind == "flags":
            value = sorted(value or ())
        elif value is None and element.owner == "sis" and mark_unknown:
            value = UNKNOWN_CHAR
        rendered[element.column] = value
    return rendered


def relation_rows(relation: Any) -> list[dict[str, Any]]:
    """A DuckDB relation's rows as dicts, for the renderers."""
    columns = relation.columns
    return [dict(zip(columns, values, strict=True)) for values in relation.fetchall()]
