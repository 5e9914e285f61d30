"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, for tests.

Import the fixture into a conftest (`from sg_pipelines_tests.smtp_server import smtp_server`)
or use `LoopbackSmtpServer` directly. `smtp_settings` points `SmtpSettings` at the server.
"""

from __future__ import annotations

import email
import email.policy
import socket
import threading
import time
from collections.abc import Iterator
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from sg_pipelines.settings import SmtpSettings

SMTP_USERNAME = "relay-user"
SMTP_PASSWORD = "relay-password"


class _Mailbox:
    """The aiosmtpd handler: parses each DATA into an `EmailMessage` and keeps it."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self._arrived = threading.Condition()

    async def handle_DATA(self, server, session, envelope) -> str:
        raw = envelope.original_content.replace(b"\r\n", b"\n")
        message = email.message_from_bytes(raw, policy=email.policy.default)
        with self._arrived:
            self.messages.append(message)  # type: ignore[arg-type]
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self._arrived.notify_all()
        return "250 OK"

    def wait_for(self, count: int, timeout: float = 5.0) -> list[EmailMessage]:
        """Block until at least `count` messages arrived; return them all."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self.messages) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"expected {count} messages, got {len(self.messages)}")
                self._arrived.wait(remaining)
            return list(self.messages)


def _authenticate(server, session, envelope, mechanism, auth_data) -> AuthResult:
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login.decode() == SMTP_USERNAME
        and auth_data.password.decode() == SMTP_PASSWORD
    )
    return AuthResult(success=ok, handled=False)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LoopbackSmtpServer:
    """An SMTP server on 127.0.0.1 accepting AUTH PLAIN/LOGIN without TLS (loopback only)."""

    def __init__(self) -> None:
        self.mailbox = _Mailbox()
        self.port = _free_port()
        self._controller = Controller(
            self.mailbox,
            hostname="127.0.0.1",
            port=self.port,
            authenticator=_authenticate,
            auth_require_tls=False,
        )

    @property
    def messages(self) -> list[EmailMessage]:
        return list(self.mailbox.messages)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[EmailMessage]:
        return self.mailbox.wait_for(count, timeout)

    def settings(self, **overrides: object) -> SmtpSettings:
        """`SmtpSettings` that reach this server."""
        values: dict[str, object] = {
            "host": "127.0.0.1",
            "port": self.port,
            "from_address": "sg-pipelines@district.test",
            "timeout_seconds": 5.0,
        }
        values.update(overrides)
        return SmtpSettings(**values)

    def __enter__(self) -> LoopbackSmtpServer:
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()


@pytest.fixture
def smtp_server() -> Iterator[LoopbackSmtpServer]:
    """A running loopback SMTP server; `.wait_for(n)` returns the parsed messages."""
    with LoopbackSmtpServer() as server:
        yield server


@pytest.fixture
def smtp_settings(smtp_server: LoopbackSmtpServer) -> SmtpSettings:
    """`SmtpSettings` pointed at `smtp_server`."""
    return smtp_server.settings()
