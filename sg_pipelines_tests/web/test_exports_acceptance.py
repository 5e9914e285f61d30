"""The acceptance flow end to end with a real SMTP server on loopback: the admin adds a data
export, the contact's mail carries only the link, the page shows the terms, accepting shows the
client id and secret once, the credentials work, and a second visit shows no secret."""

from __future__ import annotations

import re

import httpx
import pytest

from sg_pipelines.appdb.exports import ExportStore
from sg_pipelines.web.exports.admin import InvitationLink, add_export, rotate_secret
from sg_pipelines_tests.smtp_server import LoopbackSmtpServer
from sg_pipelines_tests.web.api_support import (
    CLIENT_ID_PATTERN,
    SECRET_PATTERN,
    api_settings,
    app_factory,
    publish_district,
    serve,
)

LINK = re.compile(r"https?://\S+/exports/accept/\S+")


@pytest.fixture
def district(tmp_path):
    built = publish_district(tmp_path, students=40)
    with LoopbackSmtpServer() as smtp, serve(app_factory(tmp_path, built.app_database_url)) as url:
        settings = api_settings(tmp_path, url, built.app_database_url)
        settings.smtp = smtp.settings()
        with httpx.Client(base_url=url) as client:
            yield settings, smtp, client


def add(settings) -> InvitationLink:
    return add_export(
        settings,
        name="Campus state reporting",
        contact_first_name="Robin",
        contact_last_name="Hale",
        contact_email="robin.hale@district.test",
        endpoints=["ge", "fd"],
        replace_unknown=True,
    )


def test_the_contact_accepts_the_terms_and_sees_the_secret_once(district):
    settings, smtp, client = district

    invitation = add(settings)
    [mail] = smtp.wait_for(1)
    text = mail.get_content()
    link = LINK.search(text)[0]

    # the mail: to the contact, the link only
    assert invitation.mailed
    assert mail["To"] == "robin.hale@district.test"
    assert "Campus state reporting" in mail["Subject"]
    assert "sgs_" not in text and invitation.export.client_id not in text
    assert link == invitation.url

    # opening the link shows the terms and does not use it (mail scanners open links)
    terms = client.get(link)
    again = client.get(link)
    assert terms.status_code == again.status_code == 200
    assert "Terms of use" in terms.text and "sgs_" not in terms.text
    assert terms.headers["cache-control"] == "no-store"
    assert terms.headers["referrer-policy"] == "no-referrer"

    # posting without the box ticked changes nothing
    refused = client.post(link, data={})
    assert refused.status_code == 400
    assert "sgs_" not in refused.text

    # accepting shows the credentials, once
    shown = client.post(link, data={"accept": "yes"})
    assert shown.status_code == 200
    client_id = CLIENT_ID_PATTERN.search(shown.text)[1]
    secret = SECRET_PATTERN.search(shown.text)[1]
    assert client_id == invitation.export.client_id
    assert secret.startswith("sgs_") and len(secret) > 40
    assert shown.headers["cache-control"] == "no-store"

    # the credentials work
    token = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, secret),
    )
    assert token.status_code == 200

    # a second view shows no secret, by GET or POST
    for second in (client.get(link), client.post(link, data={"accept": "yes"})):
        assert second.status_code == 410
        assert secret not in second.text and "sgs_" not in second.text
        assert "rotate" in second.text

    with ExportStore(settings.app_database) as store:
        export = store.export_by_client_id(client_id)
        assert export.active and export.accepted_at
        assert [row.result for row in store.audit(export_id=export.id)] == ["accept", "issued"]


def test_an_unknown_link_is_404_and_names_nothing(district):
    _, _, client = district

    response = client.get("/exports/accept/not-a-real-link")

    assert response.status_code == 404
    assert "not-a-real-link" not in response.text


def test_a_rotation_mails_a_new_link_and_the_old_link_stays_used(district):
    settings, smtp, client = district
    add(settings)
    [first] = smtp.wait_for(1)
    first_link = LINK.search(first.get_content())[0]
    client.post(first_link, data={"accept": "yes"})

    rotated = rotate_secret(settings, "Campus state reporting")
    second = smtp.wait_for(2)[1]
    second_link = LINK.search(second.get_content())[0]

    assert rotated.mailed and second_link != first_link
    assert "new client secret" in second["Subject"]
    assert client.get(first_link).status_code == 410
    assert client.get(second_link).status_code == 200


def test_an_unreachable_relay_leaves_the_account_and_reports_the_link(tmp_path):
    built = publish_district(tmp_path, students=20)
    settings = api_settings(tmp_path, "http://127.0.0.1:9", built.app_database_url)
    settings.smtp.port = 9
    settings.smtp.timeout_seconds = 1

    invitation = add(settings)

    assert not invitation.mailed
    assert invitation.mail_error and "robin" not in invitation.mail_error
    assert invitation.url.startswith("http://127.0.0.1:9/exports/accept/")
