"""The LTI 1.3 tool endpoints: login initiation, launch, and the tool's key set.

1. `GET|POST /lti/login` (third-party-initiated login): check the issuer, client and target link
   against a registration, store a state and a nonce server-side, bind the state to this browser
   with a per-launch cookie, and redirect to the platform's OIDC endpoint.
2. `POST /lti/launch` (`form_post` of `id_token` and `state`): check the state against its
   cookie, validate the token, consume the nonce once, decide who may see what, then redirect to
   the plan view under an opaque, short-lived view token.
3. `GET /.well-known/jwks.json`: the tool's public keys.

Logs carry reason codes, issuers and deployment ids; never tokens, subs or student ids.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from collections.abc import Mapping
from urllib.parse import parse_qsl, urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from sg_pipelines.appdb.lti import LaunchState, Registration, ViewGrant
from sg_pipelines.web.lti.access import AccessDenied, LaunchMisconfigured, authorise
from sg_pipelines.web.lti.registrations import is_loopback
from sg_pipelines.web.lti.tool import LtiTool, secret_hash
from sg_pipelines.web.lti.tool_keys import published_key_set
from sg_pipelines.web.lti.validation import LaunchRejected, validate_id_token
from sg_pipelines.web.views.pages import cookie_blocked_page, message_page

logger = logging.getLogger(__name__)

LOGIN_PARAMS = (
    "iss",
    "login_hint",
    "target_link_uri",
    "lti_message_hint",
    "lti_deployment_id",
    "client_id",
)
STATE_COOKIE_PREFIX = "lti_state_"
MAX_PARAM_LENGTH = 2048
MAX_LOGIN_BYTES = 16_384
_LOGGABLE = re.compile(r"[\x21-\x7e]{1,200}")


def state_cookie_name(state: str) -> str:
    """One cookie per launch, named from its state, so two tabs never overwrite each other."""
    return STATE_COOKIE_PREFIX + secret_hash(state)[:16]


def state_cookie(state: str, max_age: int) -> str:
    """The `Set-Cookie` value: sent on the platform's cross-site POST, never readable by script.

    Written by hand because Starlette can only add `Partitioned` on Python 3.14.
    """
    return (
        f"{state_cookie_name(state)}={state}; Max-Age={max_age}; Path=/lti/; "
        "SameSite=None; Secure; HttpOnly; Partitioned"
    )


def expired_cookie(name: str) -> str:
    return f"{name}=; Max-Age=0; Path=/lti/; SameSite=None; Secure; HttpOnly; Partitioned"


def _secure_transport(request: Request, tool: LtiTool) -> bool:
    """LTI runs over https; plain http only on loopback when the settings allow it (L22)."""
    if request.url.scheme == "https":
        return True
    return tool.lti.allow_http_loopback and is_loopback(request.url.hostname)


async def read_form(request: Request, limit: int) -> dict[str, str] | None:
    """An urlencoded body as a dict (first value wins), or None when it exceeds `limit` bytes."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    try:
        pairs = parse_qsl(body.decode("ascii"), keep_blank_values=True, max_num_fields=50)
    except (UnicodeDecodeError, ValueError):
        return {}
    form: dict[str, str] = {}
    for name, value in pairs:
        form.setdefault(name, value)
    return form


def loggable(value: str) -> str:
    """A login parameter as it may be logged: anyone can send one, so only a short printable
    value goes into the log, never a line break or a page of text."""
    return value if _LOGGABLE.fullmatch(value) else "(unprintable or too long)"


def _params(source: Mapping[str, str]) -> dict[str, str]:
    found = {}
    for name in LOGIN_PARAMS:
        value = source.get(name)
        if isinstance(value, str) and value and len(value) <= MAX_PARAM_LENGTH:
            found[name] = value
    return found


# 1. login initiation


async def login(request: Request) -> Response:
    """`GET|POST /lti/login`: start the OIDC flow for a registered platform."""
    tool: LtiTool = request.app.state.lti
    if request.method == "POST":
        form = await read_form(request, MAX_LOGIN_BYTES)
        if form is None:
            return await run_in_threadpool(_refuse, tool, "invalid", "login_too_large")
        params = _params(form)
    else:
        params = _params(request.query_params)
    if not _secure_transport(request, tool):
        return await run_in_threadpool(_refuse, tool, "invalid", "insecure_transport")
    return await run_in_threadpool(_login, tool, params)


def _refuse(tool: LtiTool, kind: str, reference: str) -> Response:
    return message_page(kind, tool.frame_origins(), reference)


def _login(tool: LtiTool, params: dict[str, str]) -> Response:
    tool.sweep_now_and_then()
    if not {"iss", "login_hint", "target_link_uri"} <= params.keys():
        return _refuse(tool, "invalid", "login_parameters_missing")

    registrations = tool.store.registrations_for(params["iss"], params.get("client_id"))
    if len(registrations) != 1:
        logger.warning(
            "login refused: %d registrations match the issuer %s",
            len(registrations),
            loggable(params["iss"]),
        )
        return _refuse(tool, "unregistered", "platform_not_registered")
    [registration] = registrations

    # the login must not become an open redirector (OIDC Core §4)
    if params["target_link_uri"] != registration.launch_url:
        return _refuse(tool, "invalid", "target_link_uri_not_registered")
    hinted = params.get("lti_deployment_id")
    if hinted is not None and registration.deployment(hinted) is None:
        logger.warning(
            "login refused: unknown deployment %s of issuer %s",
            loggable(hinted),
            registration.issuer,
        )
        return _refuse(tool, "unregistered", "unknown_deployment")

    state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = tool.clock()
    tool.store.begin_launch(
        secret_hash(state),
        secret_hash(nonce),
        registration.id,
        params,
        state_expires_at=now + tool.lti.state_ttl_seconds,
        nonce_expires_at=now + tool.lti.max_token_age_seconds + tool.lti.leeway_seconds,
    )

    query = {
        "scope": "openid",
        "response_type": "id_token",
        "response_mode": "form_post",
        "prompt": "none",
        "client_id": registration.client_id,
        "redirect_uri": registration.launch_url,
        "login_hint": params["login_hint"],
        "state": state,
        "nonce": nonce,
    }
    if "lti_message_hint" in params:
        query["lti_message_hint"] = params["lti_message_hint"]
    response = RedirectResponse(f"{registration.auth_login_url}?{urlencode(query)}", 302)
    response.headers["Cache-Control"] = "no-store"
    response.headers.append("Set-Cookie", state_cookie(state, tool.lti.state_ttl_seconds))
    return response


# 2. launch


async def launch(request: Request) -> Response:
    """`POST /lti/launch`: the platform's `form_post` of `id_token` and `state`."""
    tool: LtiTool = request.app.state.lti
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        return await run_in_threadpool(_refuse, tool, "invalid", "not_a_form_post")
    if not _secure_transport(request, tool):
        return await run_in_threadpool(_refuse, tool, "invalid", "insecure_transport")

    form = await read_form(request, tool.lti.max_id_token_bytes + MAX_LOGIN_BYTES)
    if form is None:
        return await run_in_threadpool(_refuse, tool, "invalid", "launch_too_large")
    id_token, state = form.get("id_token"), form.get("state")
    if not isinstance(state, str) or not state or len(state) > MAX_PARAM_LENGTH:
        return await run_in_threadpool(_refuse, tool, "invalid", "state_missing")
    if not isinstance(id_token, str) or not id_token:
        # the platform answered with an OIDC error (login_required, ...) instead of a token
        return await run_in_threadpool(_refuse, tool, "expired", "platform_sent_no_token")
    cookie = request.cookies.get(state_cookie_name(state))
    return await run_in_threadpool(_launch, tool, id_token, state, cookie)


def _launch(tool: LtiTool, id_token: str, state: str, cookie: str | None) -> Response:
    started = time.perf_counter()
    store = tool.store
    launch_state = store.launch_state(secret_hash(state))
    if launch_state is None:
        return _refuse(tool, "expired", "unknown_state")
    registration = store.registration_by_id(launch_state.registration_id)
    if registration is None:
        return _refuse(tool, "unregistered", "registration_removed")
    origins = [registration.frame_origin]
    if launch_state.used:
        return message_page("replayed", origins, "state_used")
    if launch_state.expires_at <= tool.clock():
        return message_page("expired", origins, "state_expired")

    # the state must come back to the browser it was given to (fault B1 when it cannot)
    if cookie is None:
        logger.info("launch without its state cookie; offering a new window")
        return cookie_blocked_page(_relaunch_url(tool, launch_state), origins)
    if not secrets.compare_digest(cookie.encode(), state.encode()):
        return message_page("invalid", origins, "state_mismatch")

    response = _validated_launch(tool, registration, launch_state, id_token, state)
    response.headers.append("Set-Cookie", expired_cookie(state_cookie_name(state)))
    logger.info(
        "launch answered %d in %.1f ms",
        response.status_code,
        (time.perf_counter() - started) * 1000,
    )
    return response


def _relaunch_url(tool: LtiTool, launch_state: LaunchState) -> str:
    return f"{tool.lti.login_url}?{urlencode(launch_state.login_params)}"


def _validated_launch(
    tool: LtiTool,
    registration: Registration,
    launch_state: LaunchState,
    id_token: str,
    state: str,
) -> Response:
    origins = [registration.frame_origin]
    now = tool.clock()
    try:
        claims = validate_id_token(id_token, registration, tool.key_sets, tool.lti, now)
        hinted = launch_state.login_params.get("lti_deployment_id")
        if hinted is not None and hinted != claims.deployment.deployment_id:
            raise LaunchRejected("deployment_differs_from_login")
        if not tool.store.consume_launch(secret_hash(state), secret_hash(claims.nonce), now):
            raise LaunchRejected("nonce_not_issued_or_used", "replayed")
    except LaunchRejected as rejected:
        return _rejected(registration, rejected, origins)

    audit = {
        "registration_id": registration.id,
        "deployment_id": claims.deployment.deployment_id,
        "user_sub": claims.sub,
    }
    try:
        student, program = authorise(claims, tool.database, tool.lti, tool.settings)
    except LaunchMisconfigured as misconfigured:
        tool.store.record_view("misconfigured", **audit)
        return message_page("misconfigured", origins, misconfigured.reason)
    except AccessDenied as denied:
        tool.store.record_view(f"denied:{denied.reason}", student_id=denied.student_id, **audit)
        return message_page("forbidden", origins)

    token = secrets.token_urlsafe(32)
    grant = ViewGrant(
        registration_id=registration.id,
        deployment_id=claims.deployment.deployment_id,
        user_sub=claims.sub,
        student_id=student.id,
        program=program,
        expires_at=now + tool.lti.view_token_ttl_seconds,
    )
    tool.store.add_view_token(secret_hash(token), grant)
    response = RedirectResponse(f"/view/{token}", 303)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _rejected(registration: Registration, rejected: LaunchRejected, origins: list[str]) -> Response:
    if rejected.kind == "deployment":
        # fault B7: a deployment nobody registered; the ids are the platform's, not personal
        logger.warning(
            "launch refused: unknown %s for issuer %s", rejected.detail, registration.issuer
        )
        return message_page("unregistered", origins, rejected.reason)
    skew = f" ({rejected.detail})" if rejected.detail else ""
    logger.warning("launch refused: %s%s, issuer %s", rejected.reason, skew, registration.issuer)
    return message_page(rejected.kind, origins, rejected.reason)


# 3. the tool's key set


async def jwks(request: Request) -> Response:
    """`GET /.well-known/jwks.json`: the tool's public signing keys, current and retiring."""
    tool: LtiTool = request.app.state.lti
    key_set = await run_in_threadpool(lambda: published_key_set(tool.store))
    return JSONResponse(key_set, headers={"Cache-Control": "public, max-age=3600"})


LTI_ROUTES = [
    Route("/lti/login", login, methods=["GET", "POST"]),
    Route("/lti/launch", launch, methods=["POST"]),
    Route("/.well-known/jwks.json", jwks, methods=["GET"]),
]
