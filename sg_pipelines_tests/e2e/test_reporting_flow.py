"""The reporting flow end to end: the real nightly job publishes a snapshot, a data export is
created (its invitation mailed through a real SMTP server) and its terms accepted, and Campus's
report client pulls every endpoint through the reporting API and applies Campus's drops
against the same sandbox district."""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from dagster import DagsterInstance
from starlette.testclient import TestClient

from sg_pipelines.appdb.gateway import AppDatabase
from sg_pipelines.appdb.seed import roster_rows_from_oneroster_users, seed_demo
from sg_pipelines.demo import demo_environment, prepare_home, run_nightly
from sg_pipelines.emis.snapshot import current_snapshot, open_snapshot
from sg_pipelines.programs.partitions import newest_complete_day
from sg_pipelines.sandbox import SandboxServer, generate_district
from sg_pipelines.sandbox.plans import generate_plan_documents
from sg_pipelines.sandbox.report_client import (
    ENDPOINTS,
    CampusParameters,
    CampusReportClient,
    CampusRoster,
)
from sg_pipelines.web.app import create_app
from sg_pipelines.web.exports.admin import add_export
from sg_pipelines_tests.smtp_server import LoopbackSmtpServer, smtp_server

__all__ = ["smtp_server"]

STUDENTS, SEED = 60, 7
TABLES = {"ge": "emis_ge", "fd": "emis_fd", "fe": "emis_fe", "gq": "emis_gq",
          "ohioPreId": "ohio_pre_id"}  # fmt: skip
KNOWN_DROPS = {
    "student not linked",
    "state-excluded student",
    "state-excluded grade",
    "state-excluded school",
    "state-excluded calendar",
    "record outside an enrollment",
    "student inactive",
    "duplicate GQ program code",
}


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """Two real nightly runs (the second after plan documents exist) against the sandbox."""
    home = tmp_path_factory.mktemp("reporting-flow").resolve()
    dagster_home, _ = prepare_home(home)
    district = generate_district(STUDENTS, seed=SEED)
    with (
        SandboxServer(district) as sandbox,
        demo_environment(home, dagster_home, sandbox) as settings,
    ):
        rows = roster_rows_from_oneroster_users(
            district.collection("users"),
            district.collection("orgs"),
            district.collection("demographics"),
        )
        with AppDatabase(settings.app_database) as app_db:
            seed_demo(app_db, rows, seed=SEED)
        instance = DagsterInstance.get()
        first = run_nightly(settings, instance, "first night")
        with AppDatabase(settings.app_database) as app_db:
            generate_plan_documents(app_db, seed=SEED, today=newest_complete_day(datetime.now(UTC)))
        second = run_nightly(settings, instance, "second night")
    assert first.success and second.success
    return settings, district


def accepted_export(settings, http: TestClient, smtp_server: LoopbackSmtpServer) -> tuple[str, str]:
    """The district adds a data export for every endpoint; its contact follows the mailed link,
    accepts the terms, and reads the client credentials off the page shown once."""
    link = add_export(
        settings,
        name="Campus state reporting",
        contact_first_name="Emis",
        contact_last_name="Coordinator",
        contact_email="emis@district.test",
        endpoints=list(ENDPOINTS),
    )
    assert link.mailed
    [invitation] = smtp_server.wait_for(1)
    assert link.url in invitation.get_content()

    page = http.post(link.url, data={"accept": "yes"})
    assert page.status_code == 200
    client_id = re.search(r'id="client-id">([^<]+)<', page.text).group(1)
    secret = re.search(r'id="client-secret">([^<]+)<', page.text).group(1)
    return html.unescape(client_id), html.unescape(secret)


def test_campus_pulls_every_endpoint_and_keeps_what_the_pipeline_published(
    published, smtp_server: LoopbackSmtpServer
):
    settings, district = published
    settings = settings.model_copy(update={"smtp": smtp_server.settings()})
    app = create_app(settings)
    http = TestClient(app, base_url=settings.api.public_url)
    client_id, secret = accepted_export(settings, http, smtp_server)

    snapshot: Path = current_snapshot(settings.home)
    with open_snapshot(snapshot) as conn:
        [(request,)] = conn.execute("SELECT request FROM emis_report_request").fetchall()
        request = json.loads(request)
        counts = {
            name: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for name, table in TABLES.items()
        }
    parameters = CampusParameters(
        fiscal_year=request["fiscal_year"],
        reporting_period=request["reporting_period"],
        start_date=date.fromisoformat(request["start_date"]),
        end_date=date.fromisoformat(request["end_date"]),
    )

    with CampusReportClient(settings.api.public_url, client_id, secret, http=http,
                            page_size=7) as campus:  # fmt: skip
        report = campus.report(CampusRoster.from_district(district), parameters)

    summary = report.summary()
    for name in ("ge", "fd", "fe", "gq"):
        # the API builds for Campus's parameters what the nightly run built for the same ones
        assert summary[name]["served"] == counts[name], name
    assert set(summary) == {*ENDPOINTS, "reasons"}
    assert sum(summary[name]["served"] for name in ENDPOINTS) > 0
    assert summary["ge"]["pages"] >= 2 or counts["ge"] <= 7
    for name in ENDPOINTS:
        assert summary[name]["kept"] + summary[name]["dropped"] == summary[name]["served"]
    assert set(summary["reasons"]) <= KNOWN_DROPS
    # every record the pipeline publishes names a student Campus knows by EMIS Student ID
    assert "student not linked" not in summary["reasons"]
    assert summary["ge"]["kept"] > 0
