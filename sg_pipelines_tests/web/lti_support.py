"""A district, a registered test platform and a launcher for the LTI tests.

`TestPlatform` signs id_tokens with its own keys and serves its key set through an httpx mock
transport, counting fetches. `Launcher` drives the tool in-process (Starlette's TestClient over
`https://tool.test`): login initiation, a token for the issued nonce, the form post.
"""

from __future__ import annotations

import contextlib
import functools
import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import uvicorn
from joserfc import jws
from joserfc.jwk import ECKey, RSAKey
from starlette.testclient import TestClient

from sg_pipelines.appdb import AppDatabase, NewStudent
from sg_pipelines.appdb.records import NewPlanDocument
from sg_pipelines.settings import Settings
from sg_pipelines.web import create_app
from sg_pipelines.web.lti.config import LtiSettings
from sg_pipelines.web.lti.registrations import register

ISSUER = "https://campus.test"
CLIENT_ID = "plans-viewer"
DEPLOYMENT_ID = "district-1"
SCHOOL_DEPLOYMENT_ID = "school-2"
TOOL_URL = "https://tool.test"
AUTH_URL = f"{ISSUER}/campus/oidc/authorize"
JWKS_URL = f"{ISSUER}/campus/oidc/jwks"
CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
LIS = "http://purl.imsglobal.org/vocab/lis/v2"
TEACHER_ROLES = [f"{LIS}/institution/person#Faculty", f"{LIS}/membership#Instructor"]

STUDENT_GUID = "5b0c3e0e-8f8a-4e7b-9d55-0e3c2f6b9a11"
NO_PLAN_GUID = "0f6a1d2c-3b4e-4f5a-8b9c-1d2e3f4a5b6c"
INACTIVE_GUID = "7d8e9f0a-1b2c-4d3e-8f4a-5b6c7d8e9f0a"
OTHER_SCHOOL_GUID = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
UNKNOWN_GUID = "11111111-2222-4333-8444-555555555555"


@dataclass
class District:
    """The app database the tool reads: four students, one with an IEP and a newer draft."""

    url: str
    student_id: int
    no_plan_id: int
    document_id: int


def make_district(directory: Path) -> District:
    url = f"sqlite:///{directory / 'app.sqlite'}"
    with AppDatabase(url) as database:
        student_id = database.create_student(
            NewStudent(
                "Rowan",
                "Abernathy",
                internal_sis_student_id=STUDENT_GUID,
                building_irn="000101",
                grade="04",
            ),
            actor="test",
        )
        no_plan_id = database.create_student(
            NewStudent(
                "Sasha", "Birch", internal_sis_student_id=NO_PLAN_GUID, building_irn="000101"
            ),
            actor="test",
        )
        inactive_id = database.create_student(
            NewStudent(
                "Tobin", "Cole", internal_sis_student_id=INACTIVE_GUID, building_irn="000101"
            ),
            actor="test",
        )
        database.set_active(inactive_id, False, actor="test")
        database.create_student(
            NewStudent(
                "Uma", "Dale", internal_sis_student_id=OTHER_SCHOOL_GUID, building_irn="000202"
            ),
            actor="test",
        )
        document_id = database.documents.add(
            NewPlanDocument(
                student_id=student_id,
                program="special_education",
                document_type="iep_annual",
                status="completed",
                completed_at=datetime(2025, 10, 2, 15, 0, tzinfo=UTC),
                meeting_date=date(2025, 10, 1),
                effective_start=date(2025, 10, 2),
                effective_end=date(2026, 10, 1),
                sections={
                    "present_levels": "Reads at a second-grade level; strong oral vocabulary.",
                    "goals": [{"area": "reading fluency", "goal": "Read 90 words per minute."}],
                    "services": [
                        {"service": "specially designed instruction", "minutes_per_week": 120}
                    ],
                    "accommodations": ["extended_time", "read_aloud"],
                    "team": ["intervention specialist", "parent"],
                },
            ),
            actor="test",
        )
        database.documents.add(
            NewPlanDocument(
                student_id=student_id,
                program="special_education",
                document_type="iep_amendment",
                meeting_date=date(2026, 2, 1),
                sections={"present_levels": "DRAFT TEXT NOT FOR VIEWING"},
            ),
            actor="test",
        )
    return District(url, student_id, no_plan_id, document_id)


@functools.cache
def rsa_key(kid: str) -> RSAKey:
    """An RSA key per kid, made once per test session (making one takes about 0.1 s)."""
    return RSAKey.generate_key(2048, parameters={"kid": kid})


@dataclass
class TestPlatform:
    """The platform's keys, its key set behind a mock transport, and a token signer."""

    __test__ = False

    keys: list[Any] = field(default_factory=lambda: [rsa_key("k1")])
    fetches: int = 0
    failure: str | None = None  # "500", "not-json", "hang"
    published: list[Any] | None = None
    requested: list[str] = field(default_factory=list)

    def key_set(self) -> dict[str, Any]:
        keys = self.keys if self.published is None else self.published
        return {"keys": [{**key.as_dict(private=False), "use": "sig"} for key in keys]}

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.fetches += 1
        self.requested.append(str(request.url))
        if self.failure == "500":
            return httpx.Response(500, text="down")
        if self.failure == "not-json":
            return httpx.Response(200, text="<html>maintenance</html>")
        if self.failure == "hang":
            raise httpx.ReadTimeout("timed out", request=request)
        return httpx.Response(200, json=self.key_set())

    def http(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self.handler))

    def sign(
        self,
        claims: dict[str, Any],
        *,
        header: dict[str, Any] | None = None,
        key: Any = None,
        drop_kid: bool = False,
    ) -> str:
        key = key or self.keys[0]
        algorithm = "ES256" if isinstance(key, ECKey) else "RS256"
        protected = {"alg": algorithm, "typ": "JWT", **({} if drop_kid else {"kid": key.kid})}
        protected.update(header or {})
        return jws.serialize_compact(
            protected, json.dumps(claims), key, algorithms=[protected["alg"]]
        )

    def sign_text(self, payload: str) -> str:
        """A token over a payload written by hand (json.dumps cannot write `1e999`)."""
        key = self.keys[0]
        return jws.serialize_compact({"alg": "RS256", "kid": key.kid}, payload, key, ["RS256"])


def valid_claims(nonce: str, **changes: Any) -> dict[str, Any]:
    """A teacher's resource-link launch for the student with an IEP; `changes` replace claims
    (a value of None removes the claim)."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": CLIENT_ID,
        "azp": CLIENT_ID,
        "sub": "staff-7f3a",
        "iat": now,
        "exp": now + 300,
        "nonce": nonce,
        CLAIM + "message_type": "LtiResourceLinkRequest",
        CLAIM + "version": "1.3.0",
        CLAIM + "deployment_id": DEPLOYMENT_ID,
        CLAIM + "target_link_uri": f"{TOOL_URL}/lti/launch",
        CLAIM + "resource_link": {"id": "flag-sped"},
        CLAIM + "roles": TEACHER_ROLES,
        CLAIM + "custom": {"student_sourced_id": STUDENT_GUID, "program": "Special Education"},
    }
    for name, value in changes.items():
        if value is None:
            claims.pop(name, None)
        else:
            claims[name] = value
    return claims


# cert §6.1.1 Known Bad Payloads: (signing options, claim changes, the refusal's reason code) per
# case. Payload 5, a message that is no JWT, is tested on its own. Payload 1 is refused when the
# platform publishes more than one key (fault B8 tries the single key of a one-key set).
KNOWN_BAD_PAYLOADS = {
    "1 no kid sent in jwt header": ({"drop_kid": True}, {}, "missing_kid"),
    "2 incorrect kid in jwt header": ({"header": {"kid": "imsglobal-unknown"}}, {}, "unknown_kid"),
    "3 wrong lti version": ({}, {CLAIM + "version": "1.2.0"}, "wrong_version"),
    "4 no lti version": ({}, {CLAIM + "version": None}, "wrong_version"),
    "6 missing lti claims": (
        {},
        {
            "aud": None,
            "iss": None,
            "sub": None,
            CLAIM + "deployment_id": None,
            CLAIM + "roles": None,
        },
        "wrong_issuer",
    ),
    "7 timestamps incorrect": ({}, {"iat": 11111, "exp": 22222}, "expired"),
    "8 message_type claim missing": ({}, {CLAIM + "message_type": None}, "wrong_message_type"),
    "9 role claim missing": ({}, {CLAIM + "roles": None}, "missing_roles"),
    "10 deployment_id claim missing": (
        {},
        {CLAIM + "deployment_id": None},
        "missing_deployment_id",
    ),
    "11 resource_link_id claim missing": (
        {},
        {CLAIM + "resource_link": {"title": "flag"}},
        "missing_resource_link_id",
    ),
    "12 user claim missing": ({}, {"sub": None}, "missing_sub"),
}


def lti_settings(**changes: Any) -> LtiSettings:
    return LtiSettings(tool_url=TOOL_URL, allow_http_loopback=False, **changes)


def register_platform(district: District, lti: LtiSettings) -> None:
    register(
        district.url,
        district="Sandbox City Schools",
        issuer=ISSUER,
        client_id=CLIENT_ID,
        auth_login_url=AUTH_URL,
        key_set_url=JWKS_URL,
        deployments=[DEPLOYMENT_ID],
        lti=lti,
    )
    register(
        district.url,
        district="Sandbox City Schools",
        issuer=ISSUER,
        client_id="school-2-viewer",
        auth_login_url=AUTH_URL,
        key_set_url=JWKS_URL,
        deployments=[SCHOOL_DEPLOYMENT_ID],
        buildings=["000202"],
        lti=lti,
    )


@dataclass
class Login:
    state: str
    nonce: str
    cookie_name: str
    response: httpx.Response


class Launcher:
    """Drives the tool in-process, as a browser would."""

    def __init__(self, district: District, platform: TestPlatform, lti: LtiSettings) -> None:
        self.district = district
        self.platform = platform
        settings = Settings(
            home=Path(district.url.removeprefix("sqlite:///")).parent, app_database_url=district.url
        )
        self.app = create_app(settings, lti, http=platform.http())
        self.client = TestClient(self.app, base_url=TOOL_URL, follow_redirects=False)

    def login(self, method: str = "GET", **params: str | None) -> Login:
        query = {
            "iss": ISSUER,
            "login_hint": "opaque-hint",
            "target_link_uri": f"{TOOL_URL}/lti/launch",
            "lti_message_hint": "msg-1",
            "client_id": CLIENT_ID,
            "lti_deployment_id": DEPLOYMENT_ID,
        }
        for name, value in params.items():
            if value is None:
                query.pop(name, None)
            else:
                query[name] = value
        if method == "GET":
            response = self.client.get("/lti/login", params=query)
        else:
            response = self.client.post("/lti/login", data=query)
        location = response.headers.get("location", "")
        redirect = {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}
        cookie_name = next((c.split("=")[0] for c in response.headers.get_list("set-cookie")), "")
        return Login(redirect.get("state", ""), redirect.get("nonce", ""), cookie_name, response)

    def post(self, id_token: str, state: str, *, with_cookie: bool = True) -> httpx.Response:
        cookies = self.client.cookies
        if not with_cookie:
            saved = dict(cookies)
            cookies.clear()
        try:
            return self.client.post("/lti/launch", data={"id_token": id_token, "state": state})
        finally:
            if not with_cookie:
                for name, value in saved.items():
                    cookies.set(name, value)

    def launch(
        self, *, header: dict[str, Any] | None = None, drop_kid: bool = False, **changes: Any
    ) -> httpx.Response:
        """Login, then post a token for the issued nonce with `changes` to the claims."""
        login = self.login()
        token = self.platform.sign(
            valid_claims(login.nonce, **changes), header=header, drop_kid=drop_kid
        )
        return self.post(token, login.state)

    def follow(self, response: httpx.Response) -> httpx.Response:
        assert response.status_code == 303, response.text
        return self.client.get(response.headers["location"])


def new_guid() -> str:
    return str(uuid.uuid4())


# the sandbox platform and the tool, each on its own loopback port


@contextlib.contextmanager
def serve_tool(app_for_url, host: str = "localhost") -> Iterator[str]:
    """Serve the app `app_for_url(tool_url)` builds, from a thread, on a free loopback port.

    The tool answers on `localhost` and the sandbox on `127.0.0.1`: two sites, so the launch's
    form post is cross-site as it is from Campus.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    url = f"http://{host}:{sock.getsockname()[1]}"
    server = uvicorn.Server(
        uvicorn.Config(app_for_url(url), log_level="warning", access_log=False, lifespan="off")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the tool did not start"
        time.sleep(0.01)
    try:
        yield url
    finally:
        server.should_exit = server.force_exit = True
        thread.join(10)


@dataclass
class SandboxLaunch:
    """A sandbox student with a Special Education flag, and the tool registered both ways."""

    tool_url: str
    student_page: str
    student_name: str
    app_database_url: str


@contextlib.contextmanager
def sandbox_and_tool(sandbox, directory: Path) -> Iterator[SandboxLaunch]:
    """Register the tool with the sandbox platform and the platform with the tool, give one
    student a completed IEP in the app database and a Special Education flag in the sandbox."""
    student = sandbox.district.students()[0]
    url = f"sqlite:///{directory / 'app.sqlite'}"
    with AppDatabase(url) as database:
        student_id = database.create_student(
            NewStudent(
                student["givenName"],
                student["familyName"],
                internal_sis_student_id=student["sourcedId"],
                building_irn="000101",
            ),
            actor="test",
        )
        database.documents.add(
            NewPlanDocument(
                student_id=student_id,
                program="special_education",
                document_type="iep_annual",
                status="completed",
                completed_at=datetime(2025, 10, 2, 15, 0, tzinfo=UTC),
                meeting_date=date(2025, 10, 1),
                effective_start=date(2025, 10, 2),
                effective_end=date(2026, 10, 1),
                sections={
                    "present_levels": "Decodes multisyllabic words with support.",
                    "goals": [
                        {"area": "written expression", "goal": "Write a five-sentence paragraph."}
                    ],
                    "services": [{"service": "speech therapy", "minutes_per_week": 60}],
                    "accommodations": ["small_group"],
                    "team": ["speech-language pathologist", "parent"],
                },
            ),
            actor="test",
        )
    program = sandbox.flags.add_program("Special Education", created_by="sg-sandbox-vendor")
    sandbox.flags.add_participation(program.sourced_id, student["sourcedId"], date(2025, 10, 2))

    def build(tool_url: str):
        lti = LtiSettings(tool_url=tool_url)
        platform = sandbox.lti
        platform.register_tool(lti.login_url, lti.launch_url, lti.jwks_url)
        register(
            url,
            district="Sandbox City Schools",
            issuer=platform.issuer,
            client_id=platform.tool.client_id,
            auth_login_url=platform.auth_url,
            key_set_url=platform.jwks_url,
            deployments=[platform.tool.deployment_id],
            lti=lti,
        )
        settings = Settings(home=directory, app_database_url=url)
        return create_app(settings, lti)

    with serve_tool(build) as tool_url:
        yield SandboxLaunch(
            tool_url,
            sandbox.lti.student_page_url(student["sourcedId"]),
            f"{student['givenName']} {student['familyName']}",
            url,
        )
