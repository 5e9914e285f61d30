"""Shared pieces of the reporting-API tests: a generated district published as a real report
snapshot, the app served by uvicorn on loopback, and API accounts made the way a district
makes them (the admin function, then the contact's acceptance page)."""

from __future__ import annotations

import base64
import contextlib
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette

from sg_pipelines.emis.ranges import default_request
from sg_pipelines.emis.reconciliation import build_reconciliation
from sg_pipelines.emis.records import BUILDERS
from sg_pipelines.emis.snapshot import publish_snapshot
from sg_pipelines.emis.tables import replace_table
from sg_pipelines.settings import ApiSettings, Settings
from sg_pipelines.warehouse import connect
from sg_pipelines.web import create_app
from sg_pipelines.web.exports.admin import add_export
from sg_pipelines_tests.emis.district import BuiltDistrict, build_district

STUDENTS = 300
SECRET_PATTERN = re.compile(r'id="client-secret">([^<]+)<')
CLIENT_ID_PATTERN = re.compile(r'id="client-id">([^<]+)<')


def publish_district(home: Path, students: int = STUDENTS) -> BuiltDistrict:
    """Build a generated district's warehouse and publish its report snapshot under `home`."""
    built = build_district(home, students, today=date.today())
    request = default_request(date.today())
    with connect(built.warehouse) as conn:
        for table, builder in BUILDERS.items():
            replace_table(conn, table, builder(conn, request))
        replace_table(conn, "emis_reconciliation", build_reconciliation(conn, request))
        publish_snapshot(conn, home, request_summary=request.summary())
    return built


def api_settings(home: Path, url: str, app_database_url: str, **api: Any) -> Settings:
    return Settings(
        home=home,
        app_database_url=app_database_url,
        api=ApiSettings(public_url=url, **api),
    )


@contextlib.contextmanager
def serve(app_for_url: Callable[[str], Starlette]) -> Iterator[str]:
    """Serve the app `app_for_url(url)` builds, from a thread, on a free loopback port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = uvicorn.Server(
        uvicorn.Config(app_for_url(url), log_level="warning", access_log=False, lifespan="off")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the app did not start"
        time.sleep(0.01)
    try:
        yield url
    finally:
        server.should_exit = server.force_exit = True
        thread.join(10)


@dataclass
class Account:
    name: str
    client_id: str
    secret: str

    @property
    def basic(self) -> str:
        raw = f"{self.client_id}:{self.secret}".encode()
        return "Basic " + base64.b64encode(raw).decode()


def accept(client: httpx.Client, link: str) -> tuple[str, str]:
    """Open an acceptance link, accept the terms, and read the credentials off the page."""
    assert client.get(link).status_code == 200
    page = client.post(link, data={"accept": "yes"})
    assert page.status_code == 200, page.text
    return CLIENT_ID_PATTERN.search(page.text)[1], SECRET_PATTERN.search(page.text)[1]


def make_account(
    settings: Settings,
    client: httpx.Client,
    name: str,
    endpoints: Sequence[str],
    **rules: Any,
) -> Account:
    """An accepted API account, made with the admin function and the acceptance page."""
    link = add_export(
        settings,
        name=name,
        contact_first_name="Pat",
        contact_last_name="Lee",
        contact_email="pat.lee@district.test",
        endpoints=endpoints,
        send=False,
        **rules,
    )
    client_id, secret = accept(client, link.url)
    return Account(name, client_id, secret)


def token_for(client: httpx.Client, account: Account, **form: str) -> str:
    response = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", **form},
        headers={"Authorization": account.basic},
    )
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def app_factory(home: Path, app_database_url: str, **api: Any) -> Callable[[str], Starlette]:
    def build(url: str) -> Starlette:
        return create_app(api_settings(home, url, app_database_url, **api))

    return build
