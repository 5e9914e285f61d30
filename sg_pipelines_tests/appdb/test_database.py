"""The app-database gateway against a real SQLite file."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

import pytest

from sg_pipelines.appdb import (
    AppDatabase,
    AppDatabaseResource,
    Contact,
    NewStudent,
    UnsupportedDatabaseUrl,
    parse_url,
)
from sg_pipelines.appdb.migrate import available_migrations, statements


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'app.sqlite'}"


def test_migrations_apply_once_and_record_their_version(url):
    latest = available_migrations()[-1].version

    with AppDatabase(url, migrate=False) as app_db:
        assert app_db.migrate() == [m.version for m in available_migrations()]
        assert app_db.migrate() == []
        assert app_db.schema_version() == latest

    with AppDatabase(url) as reopened:
        assert reopened.schema_version() == latest


def test_migration_files_split_into_whole_statements():
    sql = (
        "-- a comment; with a semicolon\n"
        "CREATE TABLE a (x TEXT DEFAULT ';');\n"
        "CREATE TABLE b (y);\n"
    )

    assert statements(sql) == [
        "-- a comment; with a semicolon\nCREATE TABLE a (x TEXT DEFAULT ';');",
        "CREATE TABLE b (y);",
    ]


def test_database_runs_in_wal_mode_with_foreign_keys_on(url):
    with AppDatabase(url) as app_db:
        app_db.create_student(NewStudent("Ada", "Byron"), actor="test")

    conn = sqlite3.connect(url.removeprefix("sqlite:///"))
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    conn.close()
    with AppDatabase(url) as app_db, pytest.raises(sqlite3.IntegrityError):
        app_db.upsert_contacts(999, [Contact("g-1", "guardian")], actor="test")


@pytest.mark.parametrize(
    "bad_url",
    [
        "postgresql://user@localhost/plans",
        "mysql://localhost/plans",
        "/var/lib/app.sqlite",
        "sqlite://relative.sqlite",
        "sqlite:///app.sqlite?mode=ro",
        "sqlite:///",
    ],
)
def test_unknown_or_malformed_url_is_refused_with_the_forms_it_accepts(bad_url):
    with pytest.raises(UnsupportedDatabaseUrl, match=r"sqlite:///"):
        parse_url(bad_url)


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite:///relative/app.sqlite", "relative/app.sqlite"),
        ("sqlite:////abs/app.sqlite", "/abs/app.sqlite"),
        ("sqlite:///:memory:", ":memory:"),
    ],
)
def test_sqlite_urls_name_relative_and_absolute_files(url, path):
    assert parse_url(url).path == path


def test_relative_url_opens_below_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    with AppDatabase("sqlite:///state/app.sqlite") as app_db:
        assert app_db.schema_version() >= 1
    assert (tmp_path / "state" / "app.sqlite").exists()


def test_created_student_round_trips_and_is_audited_without_names(url):
    student = NewStudent(
        "Ada",
        "Byron",
        internal_sis_student_id="sourced-1",
        emis_student_id="000001234",
        birth_date=date(2012, 12, 10),
        grade="05",
    )

    with AppDatabase(url) as app_db:
        student_id = app_db.create_student(student, [Contact("g-1", "guardian", "Pat")], actor="t")

        found = app_db.find_by_internal_sis_id("sourced-1")
        assert found == app_db.find_by_emis_student_id("000001234")[0]
        assert (found.id, found.birth_date, found.active) == (student_id, date(2012, 12, 10), True)
        assert app_db.find_by_name_and_birth_date("ADA", "byron", date(2012, 12, 10)) == [found]
        [entry] = app_db.audit_entries()
        assert (entry.action, entry.subject_id, entry.detail) == (
            "student.created",
            str(student_id),
            {"contacts": 1},
        )
        assert "Ada" not in repr(entry) and "Pat" not in repr(entry)


def test_internal_sis_student_id_is_unique(url):
    with AppDatabase(url) as app_db:
        app_db.create_student(NewStudent("A", "B", internal_sis_student_id="s-1"), actor="t")
        with pytest.raises(sqlite3.IntegrityError):
            app_db.create_student(NewStudent("C", "D", internal_sis_student_id="s-1"), actor="t")


def test_upserting_contacts_updates_changed_ones_and_keeps_missing_ones(url):
    with AppDatabase(url) as app_db:
        student_id = app_db.create_student(
            NewStudent("A", "B"),
            [Contact("g-1", "guardian", email="a@x"), Contact("g-2", "other")],
            actor="t",
        )

        written = app_db.upsert_contacts(
            student_id,
            [Contact("g-1", "guardian", email="b@x"), Contact("g-2", "other")],
            actor="t",
        )

        assert written == 1
        assert [(c.external_id, c.email) for c in app_db.contacts(student_id)] == [
            ("g-1", "b@x"),
            ("g-2", None),
        ]


def test_a_failed_transaction_rolls_back_every_write_in_it(url):
    with AppDatabase(url) as app_db:
        with pytest.raises(RuntimeError), app_db.transaction():
            student_id = app_db.create_student(NewStudent("A", "B"), actor="t")
            app_db.set_internal_sis_id(student_id, "s-1", actor="t")
            raise RuntimeError("boom")

        assert (app_db.student_count(), app_db.audit_entries()) == (0, [])


def test_update_student_refuses_fields_with_their_own_methods(url):
    with AppDatabase(url) as app_db:
        student_id = app_db.create_student(NewStudent("A", "B"), actor="t")
        with pytest.raises(ValueError, match="internal_sis_student_id"):
            app_db.update_student(student_id, {"internal_sis_student_id": "x"}, actor="t")


def test_resource_opens_a_migrated_database(url):
    with AppDatabaseResource(url=url).open() as app_db:
        assert app_db.schema_version() == available_migrations()[-1].version
