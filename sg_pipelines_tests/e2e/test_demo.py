"""The README's first command, end to end: seed, serve, sync twice through Dagster, summarise."""

import duckdb
import pytest

from sg_pipelines.appdb.gateway import AppDatabase
from sg_pipelines.demo import run_demo
from sg_pipelines.sandbox.generator import generate_district


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return run_demo(tmp_path_factory.mktemp("demo"), students=150, seed=3)


def test_both_nights_succeed_first_full_then_delta(demo):
    first, second = demo.runs

    assert first.success and second.success
    assert (first.sync["mode"], first.sync["status"]) == ("full", "complete")
    assert (second.sync["mode"], second.sync["status"]) == ("delta", "complete")
    assert second.sync["window_start"] is not None


def test_first_night_imports_every_record_the_sandbox_serves(demo):
    served = generate_district(students=150, seed=3)
    fetched = {row[0]: row[2] for row in demo.runs[0].collections}

    # the demo adds one broken user and one broken enrollment to the generated district
    assert fetched == {
        "academicSessions": served.count("academicSessions"),
        "classes": served.count("classes"),
        "demographics": served.count("demographics"),
        "enrollments": served.count("enrollments") + 1,
        "orgs": served.count("orgs"),
        "users": served.count("users") + 1,
    }
    with duckdb.connect(str(demo.home / "warehouse.duckdb"), read_only=True) as conn:
        students = conn.execute("SELECT count(*) FROM roster_students").fetchone()[0]
        emis_ids = conn.execute(
            "SELECT count(*) FROM roster_students WHERE length(emis_student_id) = 9"
        ).fetchone()[0]
    assert students == len(served.students()) == 150
    assert emis_ids == 150


def test_bad_records_are_quarantined_with_reasons_and_loose_dates_only_warn(demo):
    first = demo.runs[0]
    rejected = {row[0]: row[4] for row in first.collections}
    warnings = {row[0]: row[5] for row in first.collections}

    assert rejected["users"] == rejected["enrollments"] == 1
    assert warnings["demographics"] == 2
    reasons = {(collection, reason) for collection, reason, _ in first.quarantine}
    assert {collection for collection, _ in reasons} == {"users", "enrollments"}
    assert all("last Tuesday" not in reason for _, reason in reasons), "no values in reasons"


def test_second_night_is_a_small_delta_that_deactivates_the_withdrawn_student(demo):
    second = demo.runs[1]
    users = {row[0]: row for row in second.collections}["users"]

    assert 0 < users[2] < 60, "a delta fetches the changes, not the whole roster"
    assert second.links_this_run["deactivated"] == 1
    assert second.links_this_run["created"] == 0


def test_every_roster_student_is_linked_or_sent_to_review(demo):
    first = demo.runs[0]
    linked = sum(count for key, count in first.links.items() if key in LINK_KEYS)

    assert first.links["sent to review"] >= 1
    assert linked + first.links["sent to review"] == 150
    assert first.links["re-keyed (all time)"] == demo.seeded.stale_sourced_id

    with AppDatabase(f"sqlite:///{demo.home / 'app.sqlite'}") as app_db:
        keyed = [s for s in app_db.students() if s.internal_sis_student_id]
    assert len(keyed) == linked


LINK_KEYS = {"created", "internal_sis_id", "emis_student_id", "state_id", "local_id"}


def test_public_csv_sample_imports_its_expected_counts(tmp_path):
    report = run_demo(tmp_path / "sample", csv_sample=True)

    assert [run.success for run in report.runs] == [True]
    with duckdb.connect(str(report.home / "warehouse.duckdb"), read_only=True) as conn:
        roles = dict(
            conn.execute("SELECT primary_role, count(*) FROM oneroster_users GROUP BY 1").fetchall()
        )
        orgs = conn.execute("SELECT count(*) FROM oneroster_orgs").fetchone()[0]
        students = conn.execute("SELECT count(*) FROM roster_students").fetchone()[0]
    assert roles == {"student": 8, "teacher": 2}
    assert orgs == 2
    assert students == 8


def test_status_command_reports_the_syncs_and_links_in_counts(demo, monkeypatch):
    from typer.testing import CliRunner

    from sg_pipelines.cli import app

    monkeypatch.setenv("SG_HOME", str(demo.home))
    result = CliRunner().invoke(app, ["status"])

    assert result.exit_code == 0, result.output
    assert "delta complete" in result.output
    assert "full  complete" in result.output
    linked = demo.runs[-1].links
    assert f"waiting for review {linked['sent to review']}" in result.output
    assert "Students: 149 active, 1 inactive" in result.output
    assert "special_education" in result.output and "section_504" in result.output
    assert "ATTENTION" not in result.output


def test_plans_become_badges_and_badges_become_campus_flags(demo):
    flags = demo.flags

    assert demo.plans.completed > 0 and demo.plans.drafts > 0
    assert flags.success
    assert set(flags.badges) == {"special_education", "section_504"}
    names = {"special_education": "Special Education", "section_504": "Section 504"}
    for program, badges in flags.badges.items():
        assert badges["active badges"] > 0
        assert badges["not linked"] == 0
        assert flags.campus_flags[names[program]] == badges["active badges"]
    assert all(status.healthy and status.changes_failed == 0 for status in flags.programs)


def test_the_second_night_publishes_emis_records_to_a_new_snapshot(demo):
    first, second = demo.runs

    assert sum(first.emis.values()) == 0, "no plans yet on the first night"
    assert second.emis["GE"] > 0 and second.emis["FD"] > 0 and second.emis["Pre-ID"] > 0
    assert second.snapshot is not None and second.snapshot.exists()
    assert second.snapshot != first.snapshot


def test_the_demo_refuses_a_folder_it_did_not_make(tmp_path):
    from sg_pipelines.demo_home import NotADemoHome

    home = tmp_path / "district-home"
    home.mkdir()
    (home / "app.sqlite").write_bytes(b"a district's own data")

    with pytest.raises(NotADemoHome, match="did not make"):
        run_demo(home, students=20)
    assert (home / "app.sqlite").read_bytes() == b"a district's own data"
