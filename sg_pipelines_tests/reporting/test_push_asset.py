"""The push asset: active exports with an SFTP target receive the published record sets."""

import dagster as dg
from starlette.testclient import TestClient

from sg_pipelines.reporting.assets import KNOWN_HOSTS_ENV, export_sftp_push, password_env
from sg_pipelines.resources import SettingsResource
from sg_pipelines.settings import load_settings
from sg_pipelines.web.app import create_app
from sg_pipelines.web.exports.admin import add_export
from sg_pipelines_tests.reporting.conftest import PASSWORD, USERNAME


def accept(settings, url):
    with TestClient(create_app(settings)) as http:
        page = http.post(url, data={"accept": "yes"})
    assert page.status_code == 200


def test_only_active_exports_with_a_target_are_pushed(snapshot, drop, monkeypatch):
    home = snapshot.parent.parent
    monkeypatch.setenv("SG_HOME", str(home))
    monkeypatch.setenv(KNOWN_HOSTS_ENV, str(drop.known_hosts))
    monkeypatch.setenv(password_env("Campus drop"), PASSWORD)
    settings = load_settings()
    target = {"host": "127.0.0.1", "port": drop.port, "username": USERNAME, "remote_dir": "/"}
    pushed = add_export(
        settings,
        name="Campus drop",
        contact_first_name="Pat",
        contact_last_name="Lee",
        contact_email="pat@district.test",
        endpoints=["ge", "gq"],
        sftp=target,
        send=False,
    )
    accept(settings, pushed.url)
    # an export that never accepted its terms gets nothing
    add_export(
        settings,
        name="Not yet accepted",
        contact_first_name="Sam",
        contact_last_name="Roe",
        contact_email="sam@district.test",
        endpoints=["fd"],
        sftp=target,
        send=False,
    )

    result = dg.materialize(
        [export_sftp_push], resources={"settings": SettingsResource()}, selection=[export_sftp_push]
    )

    metadata = result.asset_materializations_for_node("export_sftp_push")[0].metadata
    assert metadata["pushed"].value == 1 and metadata["failed"].value == 0
    assert sorted(path.name for path in drop.root.iterdir()) == ["COMPLETE", "GE.txt", "GQ.txt"]


def test_password_variables_are_named_after_the_export():
    assert password_env("Campus EMIS (FY26)") == "SG_EXPORT_SFTP_PASSWORD_CAMPUS_EMIS_FY26"
