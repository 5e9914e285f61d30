"""The roster's blocking checks, run directly on a warehouse file."""

import duckdb
import pytest

from sg_pipelines.roster.checks import sourced_id_unique
from sg_pipelines.roster.derived import build_students
from sg_pipelines.roster.staging import ensure_schema
from sg_pipelines.warehouse import warehouse_resource


@pytest.fixture
def warehouse(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as conn:
        ensure_schema(conn)
        build_students(conn)
        conn.execute(
            "INSERT INTO oneroster_enrollments (sourced_id, status) "
            "VALUES ('e-1', 'active'), ('e-2', 'active')"
        )
    return path


def test_one_row_per_sourced_id_passes(warehouse):
    result = sourced_id_unique(warehouse=warehouse_resource(warehouse))

    assert result.passed
    assert result.metadata["oneroster_enrollments_duplicated"].value == 0


def test_a_sourced_id_on_two_rows_of_a_collection_table_fails_the_check(warehouse):
    # the tables have no primary-key index: the merge alone keeps them one row per sourcedId
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute("INSERT INTO oneroster_enrollments (sourced_id, status) VALUES ('e-1', 'x')")

    result = sourced_id_unique(warehouse=warehouse_resource(warehouse))

    assert not result.passed
    assert result.metadata["oneroster_enrollments_duplicated"].value == 1
    assert result.metadata["oneroster_users_duplicated"].value == 0
    assert "oneroster_enrollments 1" in result.description
