"""`send_mail` against a real SMTP server on loopback."""

from __future__ import annotations

import pytest

from sg_pipelines.notify import MailError, send_mail
from sg_pipelines.settings import SmtpSettings
from sg_pipelines_tests.smtp_server import SMTP_PASSWORD, SMTP_USERNAME, LoopbackSmtpServer


def test_send_mail_delivers_a_plain_text_message(
    smtp_server: LoopbackSmtpServer, smtp_settings: SmtpSettings
) -> None:
    send_mail(smtp_settings, "contact@vendor.test", "Hello", "Body line\nsecond line")

    [message] = smtp_server.wait_for(1)
    assert message["To"] == "contact@vendor.test"
    assert message["From"] == "sg-pipelines@district.test"
    assert message["Subject"] == "Hello"
    assert message["Message-ID"]
    assert message.get_content().strip() == "Body line\nsecond line"


def test_send_mail_logs_in_when_a_username_is_set(smtp_server: LoopbackSmtpServer) -> None:
    settings = smtp_server.settings(username=SMTP_USERNAME)

    send_mail(settings, "a@b.test", "s", "t", password=SMTP_PASSWORD)

    assert len(smtp_server.wait_for(1)) == 1


def test_send_mail_reads_the_password_from_the_environment(
    smtp_server: LoopbackSmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SG_SMTP_PASSWORD", SMTP_PASSWORD)

    send_mail(smtp_server.settings(username=SMTP_USERNAME), "a@b.test", "s", "t")

    assert len(smtp_server.wait_for(1)) == 1


def test_a_wrong_password_is_a_mail_error_without_the_secret(
    smtp_server: LoopbackSmtpServer,
) -> None:
    with pytest.raises(MailError) as raised:
        send_mail(smtp_server.settings(username=SMTP_USERNAME), "a@b.test", "s", "t", password="x")

    assert "SMTPAuthenticationError" in str(raised.value)
    assert "a@b.test" not in str(raised.value)
    assert smtp_server.messages == []


def test_starttls_on_a_relay_without_it_fails_rather_than_sending_in_clear(
    smtp_server: LoopbackSmtpServer,
) -> None:
    with pytest.raises(MailError):
        send_mail(smtp_server.settings(starttls=True), "a@b.test", "s", "t")

    assert smtp_server.messages == []


def test_an_unreachable_relay_is_a_mail_error() -> None:
    settings = SmtpSettings(host="127.0.0.1", port=1, timeout_seconds=2)

    with pytest.raises(MailError, match=r"127\.0\.0\.1:1"):
        send_mail(settings, "a@b.test", "s", "t")
