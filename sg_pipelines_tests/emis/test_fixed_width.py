"""Fixed-width rendering: widths and fills per layout, the EMIS Student ID, and dates that no
time zone can shift."""

from __future__ import annotations

import os
import time
from datetime import UTC, date, datetime

import duckdb
import pytest

from sg_pipelines.emis.fixed_width import (
    format_date,
    json_row,
    relation_rows,
    render,
    render_record,
)
from sg_pipelines.emis.layouts import GE, LAYOUTS
from sg_pipelines.emis.ranges import ReportRequest
from sg_pipelines.emis.records import BUILDERS, build_ge
from sg_pipelines_tests.emis.warehouse_rows import Warehouse


@pytest.mark.parametrize("name", list(LAYOUTS))
def test_every_layout_renders_records_of_its_width_with_fills(name):
    layout = LAYOUTS[name]
    line = render_record(layout, {})

    assert len(line) == layout.width
    position = 0
    for element in layout.elements:
        text = line[position : position + element.width]
        position += element.width
        if element.kind == "date":
            assert text == "00000000"
        elif element.kind == "code":
            assert text == ("@" if element.owner == "sis" else "*") * element.width


def test_ge_layout_is_the_crosswalk_order_padded_to_300():
    assert [element.element_id for element in GE.elements] == [
        "GE010", "GE020", "GE030", "GE040", "GE050", "GE100", "GE110", "GE120", "GE130",
        "GE140", "GE150", "GE160", "GE170", "GE180",
    ]  # fmt: skip
    assert GE.width == 300


def generated_rows(name: str) -> list[dict]:
    warehouse = Warehouse()
    student = warehouse.student(7, emis_student_id="7")
    warehouse.document(
        student,
        "etr_initial",
        date(2025, 9, 2),
        disability_condition="10",
        outcome="ET10",
        consent_date="2025-08-01",
    )
    warehouse.document(
        student,
        "iep_initial",
        date(2025, 9, 30),
        effective_end=date(2026, 9, 29),
        placement="IE14",
        test_type="alternate",
        graduation_test_exemptions=["ela"],
        program_codes=["210013"],
        state_test_accommodations=["scribe"],
    )
    request = ReportRequest(fiscal_year=2026, effective_date=date(2025, 11, 1))
    return relation_rows(BUILDERS[name](warehouse.connect(), request))


@pytest.mark.parametrize("name", list(LAYOUTS))
def test_built_records_fit_their_layout_and_carry_a_nine_character_id(name):
    layout = LAYOUTS[name]
    records = generated_rows(name)
    lines = render(layout, records).split("\r\n")[:-1]

    assert records and len(lines) == len(records)
    assert {len(line) for line in lines} == {layout.width}
    assert all("000000007" in line for line in lines)
    assert {record["emis_student_id"] for record in records} == {"000000007"}


def test_a_value_wider_than_its_field_is_refused():
    with pytest.raises(ValueError, match="GE100"):
        render_record(GE, {"date_type": "IETRX"})


def test_json_rows_mark_unknown_fd_fields_with_at_only_when_asked():
    [first, *_] = generated_rows("emis_fd")
    assert json_row(LAYOUTS["emis_fd"], first)["disadvantagement"] is None
    marked = json_row(LAYOUTS["emis_fd"], first, mark_unknown=True)
    assert marked["disadvantagement"] == "@"
    assert marked["effective_start_date"] == "20250820"
    assert marked["effective_end_date"] == "20250901"


def test_dates_are_rendered_from_date_values_never_from_instants():
    assert format_date(date(2025, 3, 9)) == "20250309"
    assert format_date(None) == "00000000"
    with pytest.raises(TypeError):
        format_date(datetime(2025, 3, 9, 1, tzinfo=UTC))


@pytest.mark.parametrize("zone", ["America/New_York", "Pacific/Kiritimati", "Pacific/Pago_Pago"])
@pytest.mark.parametrize("day", [date(2025, 3, 9), date(2025, 11, 2)])
def test_event_dates_do_not_move_across_a_dst_change_in_any_time_zone(zone, day, monkeypatch):
    """An IEP met on a DST change day, completed late that evening Eastern (next day in UTC),
    read through a connection in another time zone and a process in another TZ."""
    monkeypatch.setenv("TZ", zone)
    time.tzset()
    try:
        warehouse = Warehouse()
        completed = datetime(day.year, day.month, day.day, 23, 30, tzinfo=UTC)
        student = warehouse.student(1, enrolled=(date(2024, 8, 1), None))
        warehouse.document(student, "iep_annual", day, completed=completed)
        conn: duckdb.DuckDBPyConnection = warehouse.connect()
        conn.execute(f"SET TimeZone = '{zone}'")

        [record] = relation_rows(
            build_ge(conn, ReportRequest(fiscal_year=2026 if day.month > 6 else 2025))
        )
        assert render_record(GE, record)[26:34] == day.strftime("%Y%m%d")
    finally:
        monkeypatch.delenv("TZ")
        os.environ.pop("TZ", None)
        time.tzset()
