"""Plain-text mail through the district's SMTP relay (stdlib `smtplib`).

The relay, sender and STARTTLS choice come from `SmtpSettings`; the password, when the relay
wants one, comes from `SG_SMTP_PASSWORD` unless the caller passes it. Callers build the text:
it must never carry student data, tokens or secrets, and this module never logs it.
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from sg_pipelines.settings import SMTP_PASSWORD_ENV, SmtpSettings

logger = logging.getLogger(__name__)


class MailError(RuntimeError):
    """The relay refused the message or could not be reached."""


def build_message(smtp: SmtpSettings, to: str, subject: str, text: str) -> EmailMessage:
    """A UTF-8 plain-text message from the configured sender, with a date and message id."""
    message = EmailMessage()
    message["From"] = smtp.from_address
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain=smtp.from_address.rpartition("@")[2] or None)
    message.set_content(text)
    return message


def send_mail(
    smtp: SmtpSettings, to: str, subject: str, text: str, *, password: str | None = None
) -> None:
    """Send one plain-text message to `to` through the relay in `smtp`.

    Args:
        smtp: relay host, port, sender, STARTTLS switch, optional username and timeout.
        to: one recipient address.
        subject: the subject line.
        text: the plain-text body.
        password: the relay password; defaults to `$SG_SMTP_PASSWORD`. Only used with a username.

    Raises:
        MailError: the relay could not be reached, STARTTLS failed, or the relay refused.
    """
    message = build_message(smtp, to, subject, text)
    secret = password if password is not None else os.environ.get(SMTP_PASSWORD_ENV)

    try:
        with smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout_seconds) as client:
            client.ehlo()
            if smtp.starttls:
                client.starttls(context=ssl.create_default_context())
                client.ehlo()
            if smtp.username:
                client.login(smtp.username, secret or "")
            client.send_message(message)
    except (OSError, smtplib.SMTPException) as error:
        # The class and relay are enough to diagnose; the recipient is a person's address.
        raise MailError(
            f"mail to the relay {smtp.host}:{smtp.port} failed: {type(error).__name__}"
        ) from error

    logger.info("sent one message through %s:%s", smtp.host, smtp.port)
