"""`/exports/accept/{token}`: where an account's contact accepts the terms and sees the client
id and secret once.

`GET` only shows the terms: mail scanners that open links must not consume them. `POST` with
the box ticked uses the link (once, atomically), generates the secret, stores only its keyed
hash, and renders it in the response, the single time it exists in readable form. A used or
expired link gets 410 and a page that says how to get a new one; no page names a student.
"""

from __future__ import annotations

import logging
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from sg_pipelines.web.api.credentials import (
    SecretKeyMissing,
    new_secret,
    secret_digest,
    token_digest,
)
from sg_pipelines.web.api.errors import correlation_id
from sg_pipelines.web.api.records import BASE_PATH
from sg_pipelines.web.api.service import ReportingApi

logger = logging.getLogger(__name__)

MAX_FORM_BYTES = 1024
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
}

_templates = Environment(
    loader=PackageLoader("sg_pipelines.web.exports", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _page(api: ReportingApi, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    html = _templates.get_template(template).render(district=api.settings.district_name, **values)
    return HTMLResponse(html, status_code=status, headers=PAGE_HEADERS)


GONE_TITLES = {
    404: "This link is not known",
    410: "This link has been used",
    503: "Not available yet",
}


def _gone(api: ReportingApi, status: int, message: str) -> HTMLResponse:
    return _page(api, "link_gone.html", status, title=GONE_TITLES[status], message=message)


async def acceptance(request: Request) -> Response:
    """`GET|POST /exports/accept/{token}`."""
    api: ReportingApi = request.app.state.api
    token = request.path_params["token"]
    accepted = False
    if request.method == "POST":
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_FORM_BYTES:
                break
        accepted = b"accept=yes" in bytes(body[:MAX_FORM_BYTES]).split(b"&")
    return await run_in_threadpool(
        _acceptance, api, token, request.method == "POST", accepted, correlation_id(request)
    )


def _acceptance(
    api: ReportingApi, token: str, posted: bool, accepted: bool, correlation: str
) -> Response:
    store = api.store
    digest = token_digest(token)
    invitation = store.invitation(digest) if len(token) <= 128 else None
    if invitation is None:
        return _gone(api, 404, "This acceptance link does not exist. Check the address in the "
                     "email you received.")  # fmt: skip
    export = store.export_by_id(invitation.export_id)
    if invitation.used or invitation.expires_at <= api.clock() or export is None:
        return _gone(api, 410, "This acceptance link has already been used or has expired.")

    title = f"Data export {export.name}"
    if not posted or not accepted:
        status = 400 if posted else 200
        return _page(
            api, "terms.html", status, title=title, export_name=export.name, refused=posted
        )

    try:
        key = api.key
    except SecretKeyMissing:
        logger.error("the API secret key is not configured; no secret can be issued")
        return _gone(api, 503, "The reporting API is not configured yet; try again later.")
    secret = new_secret()
    if store.accept_invitation(digest, secret_digest(key, secret), api.clock()) is None:
        return _gone(api, 410, "This acceptance link has already been used or has expired.")
    store.record_call(
        "accept", invitation.purpose, 200, export_id=export.id, client_id=export.client_id,
        correlation_id=correlation,
    )  # fmt: skip
    logger.info("the contact of %s accepted the terms; a secret was shown", export.client_id)
    public_url = api.settings.api.public_url.rstrip("/")
    return _page(
        api,
        "credentials.html",
        title=title,
        export_name=export.name,
        client_id=export.client_id,
        client_secret=secret,
        token_url=f"{public_url}/oauth/token",
        api_url=f"{public_url}{BASE_PATH}",
    )


ACCEPT_ROUTES = [Route("/exports/accept/{token}", acceptance, methods=["GET", "POST"])]
