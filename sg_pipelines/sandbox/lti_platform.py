"""The sandbox as an LTI 1.3 platform, standing in for Campus launching the plan viewer.

It registers one tool, shows a student page with the student's program flags, and launches
the tool through the real OIDC flow when a flag is clicked:

1. `GET /lti/platform/launch/{participation}` answers an auto-submitting form that POSTs the
   third-party login initiation (iss, login_hint, target_link_uri, lti_message_hint, client_id,
   lti_deployment_id) to the tool's login URL;
2. the tool redirects the browser to `GET|POST /lti/platform/authorize`, which checks the
   authentication request and answers a `form_post` of a signed `id_token` and the state to the
   registered redirect URI.

The platform signs with its own RSA keys (`kid` set) and serves them at
`/lti/platform/jwks.json`. The student and program travel as custom parameters whose values may
use substitution variables (`$Student.sourcedId`, `$Flag.name`, `$Flag.sourcedId`); an unknown
variable is sent unsubstituted, as Blackboard and itslearning do. Campus's own claim set for a
flag launch is not public (docs/lti.md); this is a plausible one.
"""

from __future__ import annotations

import html
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from joserfc import jws
from joserfc.jwk import RSAKey
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from sg_pipelines.sandbox.district import District, has_role
from sg_pipelines.sandbox.flags import FlagsState

PLATFORM_ROOT = "/lti/platform"
LIS = "http://purl.imsglobal.org/vocab/lis/v2"
CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
TOKEN_LIFETIME_SECONDS = 300
PENDING_LAUNCH_SECONDS = 600

# what each OneRoster role becomes in the launch's roles claim
ROLES_BY_ONEROSTER_ROLE = {
    "teacher": [f"{LIS}/institution/person#Faculty", f"{LIS}/membership#Instructor"],
    "administrator": [f"{LIS}/institution/person#Administrator"],
    "aide": [f"{LIS}/institution/person#Staff"],
    "student": [f"{LIS}/institution/person#Student", f"{LIS}/membership#Learner"],
    "parent": [f"{LIS}/membership#Mentor"],
    "guardian": [f"{LIS}/membership#Mentor"],
}
DEFAULT_CUSTOM_PARAMETERS = {"student_sourced_id": "$Student.sourcedId", "program": "$Flag.name"}


@dataclass(frozen=True)
class ToolRegistration:
    """The tool as the platform knows it (what Campus's LTI connection screen asks for)."""

    client_id: str
    login_url: str
    launch_url: str
    jwks_url: str
    deployment_id: str


@dataclass(frozen=True)
class PendingLaunch:
    """A flag click waiting for the tool's authentication request."""

    user_id: str
    student_id: str
    program_id: str
    program_name: str
    created: float = field(default_factory=time.time)


class LtiPlatform:
    """The sandbox's LTI 1.3 platform state: keys, the registered tool, pending launches.

    Attributes:
        base_url: the platform's root URL, and so its issuer; set when the server binds.
        custom_parameters: the tool link's custom parameters, with substitution variables.
        claim_overrides: claims merged into every id_token last (tests tamper through it).
    """

    def __init__(self, district: District, flags: FlagsState) -> None:
        self.district = district
        self.flags = flags
        self.base_url = "http://127.0.0.1"
        self._keys: list[RSAKey] = []
        self.tool: ToolRegistration | None = None
        self.custom_parameters = dict(DEFAULT_CUSTOM_PARAMETERS)
        self.claim_overrides: dict[str, Any] = {}
        self._pending: dict[str, PendingLaunch] = {}
        self._lock = threading.Lock()

    # set up

    @property
    def keys(self) -> list[RSAKey]:
        """The signing keys, newest first; the first is made on first use (it takes ~0.1 s)."""
        with self._lock:
            if not self._keys:
                self._keys.append(RSAKey.generate_key(2048, auto_kid=True))
            return self._keys

    @property
    def issuer(self) -> str:
        return self.base_url

    @property
    def auth_url(self) -> str:
        return f"{self.base_url}{PLATFORM_ROOT}/authorize"

    @property
    def jwks_url(self) -> str:
        return f"{self.base_url}{PLATFORM_ROOT}/jwks.json"

    def student_page_url(self, student_id: str, as_user: str | None = None) -> str:
        suffix = f"?as={as_user}" if as_user else ""
        return f"{self.base_url}{PLATFORM_ROOT}/students/{student_id}{suffix}"

    def register_tool(
        self,
        login_url: str,
        launch_url: str,
        jwks_url: str,
        *,
        client_id: str = "sg-plans-viewer",
        deployment_id: str = "sandbox-district-1",
    ) -> ToolRegistration:
        """Register the tool (Campus: "Add LTI Connection"); returns what the tool must know."""
        self.tool = ToolRegistration(client_id, login_url, launch_url, jwks_url, deployment_id)
        return self.tool

    def rotate_key(self) -> RSAKey:
        """Sign with a new key from now on; the old one stays in the key set."""
        key = RSAKey.generate_key(2048, auto_kid=True)
        keys = self.keys
        with self._lock:
            keys.insert(0, key)
        return key

    def key_set(self) -> dict[str, Any]:
        return {
            "keys": [
                {**key.as_dict(private=False), "alg": "RS256", "use": "sig"} for key in self.keys
            ]
        }

    def sign(self, claims: dict[str, Any], header: dict[str, Any] | None = None) -> str:
        """A compact JWS of `claims` with the current key (header `alg` RS256 and `kid`)."""
        key = self.keys[0]
        protected = {"alg": "RS256", "typ": "JWT", "kid": key.kid, **(header or {})}
        payload = json.dumps(claims, separators=(",", ":"))
        return jws.serialize_compact(protected, payload, key, algorithms=[protected["alg"]])

    # launches

    def start_launch(self, participation_id: str, user_id: str) -> PendingLaunch:
        """A staff member clicked a flag: remember the launch under an opaque message hint."""
        participation = self.flags.participations.get(participation_id)
        if participation is None:
            raise KeyError("no such participation")
        program = self.flags.programs[participation.program_id]
        return PendingLaunch(
            user_id, participation.student_sourced_id, program.sourced_id, program.name
        )

    def remember(self, launch: PendingLaunch) -> str:
        hint = secrets.token_urlsafe(24)
        with self._lock:
            now = time.time()
            self._pending = {
                key: value
                for key, value in self._pending.items()
                if now - value.created < PENDING_LAUNCH_SECONDS
            }
            self._pending[hint] = launch
        return hint

    def pending(self, hint: str) -> PendingLaunch | None:
        with self._lock:
            return self._pending.get(hint)

    def id_token_claims(self, launch: PendingLaunch, nonce: str) -> dict[str, Any]:
        """The claims of a resource-link launch for a pending flag click."""
        assert self.tool is not None
        user = self.district.get("users", launch.user_id) or {}
        roles = [
            uri
            for role in user.get("roles") or ()
            for uri in ROLES_BY_ONEROSTER_ROLE.get(role.get("role"), [])
        ]
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.tool.client_id,
            "azp": self.tool.client_id,
            "sub": launch.user_id,
            "iat": now,
            "exp": now + TOKEN_LIFETIME_SECONDS,
            "nonce": nonce,
            "name": f"{user.get('givenName', '')} {user.get('familyName', '')}".strip(),
            CLAIM + "message_type": "LtiResourceLinkRequest",
            CLAIM + "version": "1.3.0",
            CLAIM + "deployment_id": self.tool.deployment_id,
            CLAIM + "target_link_uri": self.tool.launch_url,
            CLAIM + "resource_link": {
                "id": f"flag-{launch.program_id}",
                "title": launch.program_name,
            },
            CLAIM + "roles": sorted(set(roles)),
            CLAIM + "custom": {
                name: _substitute(value, launch) for name, value in self.custom_parameters.items()
            },
            CLAIM + "tool_platform": {"name": "Campus sandbox", "product_family_code": "sandbox"},
        }
        return {**claims, **self.claim_overrides}


def _substitute(value: str, launch: PendingLaunch) -> str:
    variables = {
        "$Student.sourcedId": launch.student_id,
        "$Flag.name": launch.program_name,
        "$Flag.sourcedId": launch.program_id,
    }
    return variables.get(value, value)


# pages


def _page(title: str, body: str, status_code: int = 200) -> HTMLResponse:
    return HTMLResponse(
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}'
        f"</title></head><body>{body}</body></html>",
        status_code=status_code,
        headers={"Cache-Control": "no-store"},
    )


def _auto_post(action: str, fields: dict[str, str], title: str) -> HTMLResponse:
    """A form that posts itself, as platforms do for login initiation and `form_post`."""
    inputs = "".join(
        f'<input type="hidden" name="{html.escape(name)}" value="{html.escape(value)}">'
        for name, value in fields.items()
    )
    body = (
        f'<form method="post" action="{html.escape(action)}">{inputs}'
        '<noscript><button type="submit">Continue</button></noscript></form>'
        "<script>document.forms[0].submit()</script>"
    )
    return _page(title, body)


def _platform(request: Request) -> LtiPlatform:
    return request.app.state.lti_platform


def _staff_user(district: District, requested: str | None) -> dict[str, Any] | None:
    if requested:
        return district.get("users", requested)
    return next(iter(district.teachers()), None)


async def student_page(request: Request) -> Response:
    """`GET /lti/platform/students/{id}?as=<user>`: the student header with program flags."""
    platform = _platform(request)
    student = platform.district.get("users", request.path_params["student_id"])
    if student is None or not has_role(student, "student"):
        return _page("Not found", "<h1>No such student</h1>", 404)
    user = _staff_user(platform.district, request.query_params.get("as"))
    if user is None:
        return _page("Not found", "<h1>No such user</h1>", 404)

    today = date.today()
    links = []
    for participation in sorted(platform.flags.participations.values(), key=lambda p: p.sourced_id):
        current = participation.end_date is None or participation.end_date >= today
        if participation.student_sourced_id != student["sourcedId"] or not current:
            continue
        program = platform.flags.programs.get(participation.program_id)
        if program is None or not program.active:
            continue
        href = f"{PLATFORM_ROOT}/launch/{participation.sourced_id}?as={user['sourcedId']}"
        links.append(
            f'<li><a class="flag" href="{html.escape(href)}">{html.escape(program.name)}</a></li>'
        )
    name = html.escape(f"{student.get('givenName', '')} {student.get('familyName', '')}")
    flags = f"<ul>{''.join(links)}</ul>" if links else "<p>No program flags.</p>"
    body = (
        f"<header><p>Signed in as {html.escape(user.get('givenName', ''))}</p>"
        f"<h1>{name}</h1></header><h2>Program flags</h2>{flags}"
    )
    return _page(f"Student: {name}", body)


async def launch_flag(request: Request) -> Response:
    """`GET /lti/platform/launch/{participation}`: start the third-party-initiated login."""
    platform = _platform(request)
    if platform.tool is None:
        return _page("No tool", "<h1>No LTI tool is registered</h1>", 409)
    user = _staff_user(platform.district, request.query_params.get("as"))
    try:
        launch = platform.start_launch(request.path_params["participation_id"], user["sourcedId"])
    except (KeyError, TypeError):
        return _page("Not found", "<h1>No such flag</h1>", 404)

    fields = {
        "iss": platform.issuer,
        "login_hint": launch.user_id,
        "target_link_uri": platform.tool.launch_url,
        "lti_message_hint": platform.remember(launch),
        "client_id": platform.tool.client_id,
        "lti_deployment_id": platform.tool.deployment_id,
    }
    return _auto_post(platform.tool.login_url, fields, "Opening the plan")


async def authorize(request: Request) -> Response:
    """`GET|POST /lti/platform/authorize`: check the authentication request, post the id_token."""
    platform = _platform(request)
    params = await request.form() if request.method == "POST" else request.query_params
    tool = platform.tool
    expected = {
        "scope": "openid",
        "response_type": "id_token",
        "response_mode": "form_post",
        "prompt": "none",
    }
    problems = [name for name, value in expected.items() if params.get(name) != value]
    if tool is None or params.get("client_id") != tool.client_id:
        problems.append("client_id")
    elif params.get("redirect_uri") != tool.launch_url:
        problems.append("redirect_uri")
    launch = platform.pending(str(params.get("lti_message_hint", "")))
    if launch is None or params.get("login_hint") != launch.user_id:
        problems.append("login_hint")
    if not params.get("nonce") or not params.get("state"):
        problems.append("nonce/state")
    if problems:
        detail = html.escape(", ".join(problems))
        return _page("Bad request", f"<h1>Invalid authentication request: {detail}</h1>", 400)

    id_token = platform.sign(platform.id_token_claims(launch, str(params["nonce"])))
    return _auto_post(
        tool.launch_url, {"id_token": id_token, "state": str(params["state"])}, "Launching"
    )


async def key_set(request: Request) -> Response:
    """`GET /lti/platform/jwks.json`: the platform's public keys."""
    return JSONResponse(_platform(request).key_set(), headers={"Cache-Control": "max-age=300"})


LTI_PLATFORM_ROUTES = [
    Route(f"{PLATFORM_ROOT}/students/{{student_id}}", student_page, methods=["GET"]),
    Route(f"{PLATFORM_ROOT}/launch/{{participation_id}}", launch_flag, methods=["GET"]),
    Route(f"{PLATFORM_ROOT}/authorize", authorize, methods=["GET", "POST"]),
    Route(f"{PLATFORM_ROOT}/jwks.json", key_set, methods=["GET"]),
]
