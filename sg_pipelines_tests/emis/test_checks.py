"""The blocking checks' SQL fails on the faults it guards against."""

from __future__ import annotations

from datetime import date

from sg_pipelines.emis.checks import DOCUMENT_COLUMNS, _sql
from sg_pipelines.emis.ranges import ReportRequest
from sg_pipelines.emis.records import BUILDERS
from sg_pipelines.emis.tables import replace_table
from sg_pipelines_tests.emis.warehouse_rows import Warehouse

REQUEST = ReportRequest(fiscal_year=2026, effective_date=date(2025, 11, 1))


def built(warehouse: Warehouse):
    conn = warehouse.connect()
    for table, builder in BUILDERS.items():
        replace_table(conn, table, builder(conn, REQUEST))
    return conn


def one(conn, sql: str) -> dict:
    cursor = conn.execute(sql)
    names = [column[0] for column in cursor.description]
    return dict(zip(names, cursor.fetchall()[0], strict=True))


def test_a_record_on_a_draft_or_an_unlinked_student_fails_e7():
    warehouse = Warehouse()
    student = warehouse.student(1)
    warehouse.document(student, "iep_initial", date(2025, 9, 1), program_codes=["210013"])
    conn = built(warehouse)
    sql = _sql("check_completed_linked.sql", table="emis_gq", document_columns="document_id")
    assert one(conn, sql)["drafts"] == 0

    conn.execute("UPDATE plan_documents SET status = 'draft'")
    conn.execute("DELETE FROM student_links")
    found = one(conn, sql)
    assert (found["drafts"], found["unlinked_students"]) == (1, 1)


def test_fd_gaps_overlaps_and_duplicate_gq_codes_are_counted():
    warehouse = Warehouse()
    student = warehouse.student(1)
    warehouse.document(student, "etr_initial", date(2025, 9, 10), disability_condition="10")
    warehouse.document(student, "iep_initial", date(2025, 9, 30), program_codes=["210013"])
    conn = built(warehouse)
    assert one(conn, _sql("check_fd_continuity.sql"))["gaps"] == 0

    conn.execute("UPDATE emis_fd SET effective_end_date = effective_end_date - 3")
    conn.execute("INSERT INTO emis_gq SELECT * FROM emis_gq")
    assert one(conn, _sql("check_fd_continuity.sql"))["gaps"] == 1
    assert one(conn, _sql("check_gq_one_per_code.sql"))["duplicates"] == 1


def test_malformed_ids_and_fe_without_ge_are_counted():
    warehouse = Warehouse()
    warehouse.document(
        warehouse.student(1), "iep_initial", date(2025, 9, 30), graduation_test_exemptions=["ela"]
    )
    conn = built(warehouse)
    for table in DOCUMENT_COLUMNS:
        assert one(conn, _sql("check_emis_student_id.sql", table=table))["malformed"] == 0
    assert one(conn, _sql("check_fe_has_ge.sql"))["without_ge"] == 0

    conn.execute("UPDATE emis_fe SET emis_student_id = '1'")
    assert one(conn, _sql("check_emis_student_id.sql", table="emis_fe"))["malformed"] == 1
    assert one(conn, _sql("check_fe_has_ge.sql"))["without_ge"] == 1
