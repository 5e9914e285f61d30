"""Turn records into staging rows, quarantined records and row warnings, by the models.

`PageParser` validates a whole response body in one call (fast, in Rust); only when that fails
is the page read again record by record, so that one bad record is quarantined with its reason
and the rest of the page still imports. `parse_records` is that record-by-record reading; the
staging SQL hands it the records its rules are not certain of. A body without the collection's
envelope key is an error, never an empty roster.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError, create_model

from sg_pipelines.roster.collections import Collection
from sg_pipelines.roster.errors import EnvelopeError
from sg_pipelines.roster.models import OneRosterRecord


@dataclass(frozen=True)
class Quarantined:
    sourced_id: str | None
    reason: str
    record: str


@dataclass(frozen=True)
class RowWarning:
    sourced_id: str
    field: str
    reason: str


@dataclass
class ParsedPage:
    """One page, ready for staging. `record_count` counts every record the provider sent."""

    record_count: int
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    quarantined: list[Quarantined] = field(default_factory=list)
    warnings: list[RowWarning] = field(default_factory=list)


class PageParser:
    """Parses response bodies of one collection."""

    def __init__(self, collection: Collection) -> None:
        self.collection = collection
        self._envelope: type[BaseModel] = create_model(
            f"{collection.model.__name__}Page",
            **{collection.envelope: (list[collection.model], ...)},
        )

    def __call__(self, content: bytes) -> ParsedPage:
        try:
            page = self._envelope.model_validate_json(content)
        except ValidationError:
            return self._parse_each(content)

        parsed = ParsedPage(record_count=0)
        for record in getattr(page, self.collection.envelope):
            _add(parsed, record)
        parsed.record_count = len(parsed.rows)
        return parsed

    def _parse_each(self, content: bytes) -> ParsedPage:
        return parse_records(self.collection, envelope_records(content, self.collection.envelope))


def parse_records(collection: Collection, records: list[Any]) -> ParsedPage:
    """Validate records one by one: each bad record is quarantined with its reason."""
    parsed = ParsedPage(record_count=len(records))
    for item in records:
        if not isinstance(item, dict):
            parsed.quarantined.append(Quarantined(None, "not a JSON object", json.dumps(item)))
            continue
        try:
            record = collection.model.model_validate(item)
        except ValidationError as error:
            sourced_id = item.get("sourcedId")
            parsed.quarantined.append(
                Quarantined(
                    sourced_id if isinstance(sourced_id, str) and sourced_id else None,
                    describe(error),
                    json.dumps(item),
                )
            )
            continue
        _add(parsed, record)
    return parsed


def _add(parsed: ParsedPage, record: OneRosterRecord) -> None:
    sourced_id = record.sourcedId

    def warn(field_name: str, reason: str) -> None:
        parsed.warnings.append(RowWarning(sourced_id, field_name, reason))

    parsed.rows.append(record.row(warn))


def envelope_records(content: bytes, key: str) -> list[Any]:
    """The records of a response body: its `key` list, or EnvelopeError when there is none."""
    try:
        body = json.loads(content)
    except ValueError as error:
        raise EnvelopeError(f"/{key} answered 200 with a body that is not JSON") from error
    if not isinstance(body, dict):
        raise EnvelopeError(f"/{key} answered 200 with a JSON {type(body).__name__}, not an object")
    if not isinstance(body.get(key), list):
        keys = ", ".join(sorted(body)[:5]) or "none"
        raise EnvelopeError(
            f"/{key} answered 200 without a '{key}' list (keys: {keys}); "
            "refusing to treat it as an empty roster"
        )
    return body[key]


def describe(error: ValidationError) -> str:
    """Validation errors as `field: message`, without the offending values (they may be PII)."""
    return "; ".join(
        f"{'.'.join(str(part) for part in item['loc']) or 'record'}: {item['msg']}"
        for item in error.errors(include_input=False, include_url=False)
    )
