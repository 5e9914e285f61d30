"""Registering a district's Campus with the tool: the functions behind `sg-pipelines lti ...`.

A registration is what the tool knows about one platform (issuer, client id, OIDC auth URL,
key-set URL) plus its deployments; see docs/lti.md for the values to copy from Campus.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from urllib.parse import urlsplit

from sg_pipelines.appdb.lti import Deployment, LtiStore, Registration
from sg_pipelines.web.lti.config import LtiSettings, load_lti_settings
from sg_pipelines.web.lti.tool_keys import ensure_tool_key, rotate_tool_key

LOOPBACK_NAMES = {"localhost"}


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(name: str, url: str, lti: LtiSettings) -> str:
    """A platform URL must be https (plain http only on loopback, for the sandbox)."""
    parts = urlsplit(url)
    secure = parts.scheme == "https" or (
        parts.scheme == "http" and lti.allow_http_loopback and is_loopback(parts.hostname)
    )
    if not secure or not parts.netloc or parts.fragment:
        raise ValueError(f"{name} must be an https URL without a fragment")
    return url


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def register(
    database_url: str,
    *,
    district: str,
    issuer: str,
    client_id: str,
    auth_login_url: str,
    key_set_url: str,
    deployments: Sequence[str],
    buildings: Sequence[str] | None = None,
    frame_origin: str | None = None,
    lti: LtiSettings | None = None,
) -> Registration:
    """Register a platform (`sg-pipelines lti register`).

    Args:
        database_url: the app database.
        district: the district this registration serves (shown in listings and the audit).
        issuer: the platform's `iss`, exactly as its tokens carry it.
        client_id: the client id the platform gave the tool.
        auth_login_url: the platform's OIDC authentication endpoint.
        key_set_url: the platform's JWKS URL.
        deployments: the deployment ids to accept.
        buildings: building IRNs the deployments cover; none means the whole district.
        frame_origin: the origin allowed to frame the viewer; the auth URL's origin by default.
        lti: the tool settings (its launch URL); loaded from the environment if omitted.
    """
    lti = lti or load_lti_settings()
    for name, url in (
        ("issuer", issuer),
        ("auth_login_url", auth_login_url),
        ("key_set_url", key_set_url),
    ):
        check_url(name, url, lti)
    if not client_id or not deployments:
        raise ValueError("a registration needs a client id and at least one deployment id")
    scope = tuple(buildings) if buildings else None
    with LtiStore(database_url) as store:
        ensure_tool_key(store)
        return store.add_registration(
            district=district,
            issuer=issuer,
            client_id=client_id,
            auth_login_url=auth_login_url,
            key_set_url=key_set_url,
            launch_url=lti.launch_url,
            frame_origin=origin_of(check_url("frame_origin", frame_origin or auth_login_url, lti)),
            deployments=[Deployment(deployment_id, scope) for deployment_id in deployments],
        )


def add_deployment(
    database_url: str,
    issuer: str,
    client_id: str,
    deployment_id: str,
    buildings: Sequence[str] | None = None,
) -> Registration:
    """Accept one more deployment id of a registered platform (`sg-pipelines lti deploy`)."""
    with LtiStore(database_url) as store:
        [registration] = store.registrations_for(issuer, client_id) or [None]
        if registration is None:
            raise LookupError("no registration for that issuer and client id")
        store.add_deployment(
            registration.id, Deployment(deployment_id, tuple(buildings) if buildings else None)
        )
        return store.registration_by_id(registration.id)


def list_registrations(database_url: str) -> list[Registration]:
    """Every registration with its deployments (`sg-pipelines lti list`)."""
    with LtiStore(database_url) as store:
        return store.registrations()


def remove_registration(database_url: str, issuer: str, client_id: str) -> bool:
    """Remove a registration; pending launches and open views of it end (`lti remove`)."""
    with LtiStore(database_url) as store:
        return store.remove_registration(issuer, client_id)


def rotate_key(database_url: str, lti: LtiSettings | None = None) -> str:
    """Rotate the tool's signing key; return the new kid (`sg-pipelines lti rotate-key`)."""
    lti = lti or load_lti_settings()
    with LtiStore(database_url) as store:
        return rotate_tool_key(store, lti.tool_key_overlap_days)
