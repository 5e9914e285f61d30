"""Validation of a launch's `id_token` (1EdTech Security Framework §5.1.3, LTI Core 1.3 §5).

The order: size and shape, header (algorithm allow-list, no `crit`), issuer and audience against
the registration the login started with, the platform key by `kid`, the signature (joserfc, the
algorithm bound to the key's type), the times, then the LTI claims. The nonce is checked by the
caller, which consumes it together with the state. Every refusal is a `LaunchRejected` whose
`reason` is a short code safe to log: it never quotes the token or a claim value.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError

from sg_pipelines.appdb.lti import Deployment, Registration
from sg_pipelines.web.lti.config import LtiSettings
from sg_pipelines.web.lti.platform_keys import KeySetUnavailable, PlatformKeySets

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
MESSAGE_TYPE = CLAIM + "message_type"
VERSION = CLAIM + "version"
DEPLOYMENT_ID = CLAIM + "deployment_id"
TARGET_LINK_URI = CLAIM + "target_link_uri"
RESOURCE_LINK = CLAIM + "resource_link"
ROLES = CLAIM + "roles"
CUSTOM = CLAIM + "custom"

RESOURCE_LINK_REQUEST = "LtiResourceLinkRequest"
LTI_VERSION = "1.3.0"
KEY_TYPE_OF_ALGORITHM = {"RS": "RSA", "PS": "RSA", "ES": "EC"}
MAX_ID_LENGTH = 255


class LaunchRejected(Exception):
    """A launch that must not proceed.

    Attributes:
        reason: a short code for logs and tests (`expired`, `bad_signature`, ...).
        kind: which page the user sees: `invalid`, `expired`, `replayed`, `deployment`.
        detail: extra log context without personal data (for example the clock skew).
    """

    def __init__(self, reason: str, kind: str = "invalid", detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind = kind
        self.detail = detail


@dataclass(frozen=True)
class LaunchClaims:
    """The validated parts of a resource-link launch the tool uses."""

    sub: str
    nonce: str
    roles: tuple[str, ...]
    deployment: Deployment
    custom: Mapping[str, Any]
    resource_link_id: str


def _short_id(claims: Mapping[str, Any], name: str, reason: str) -> str:
    value = claims.get(name)
    if not isinstance(value, str) or not value or len(value) > MAX_ID_LENGTH:
        raise LaunchRejected(reason)
    return value


def _refuse_constant(name: str) -> float:
    # JSON has no NaN or Infinity, but Python's parser accepts them; a time must be a number
    raise ValueError(f"{name} is not JSON")


def _numeric_date(value: Any) -> bool:
    """A NumericDate (RFC 7519 §2): a finite number of seconds, not a boolean."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _header_and_claims(id_token: str, settings: LtiSettings) -> tuple[dict[str, Any], dict]:
    if len(id_token) > settings.max_id_token_bytes:
        raise LaunchRejected("token_too_large")
    if id_token.count(".") != 2:
        raise LaunchRejected("not_a_jwt")
    try:
        compact = jws.extract_compact(id_token.encode("ascii"))
        claims = json.loads(compact.payload, parse_constant=_refuse_constant)
    except (JoseError, ValueError, UnicodeError, RecursionError):
        raise LaunchRejected("not_a_jwt") from None
    if not isinstance(claims, dict):
        raise LaunchRejected("not_a_jwt")
    return dict(compact.headers()), claims


def _check_header(header: Mapping[str, Any], settings: LtiSettings) -> str:
    algorithm = header.get("alg")
    if not isinstance(algorithm, str) or algorithm not in settings.algorithms:
        raise LaunchRejected("algorithm_not_allowed")
    if "crit" in header:
        # no extension is understood, so any critical one must fail (RFC 7515 §4.1.11)
        raise LaunchRejected("critical_header")
    kid = header.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise LaunchRejected("bad_kid")
    return algorithm


def _check_audience(claims: Mapping[str, Any], registration: Registration) -> None:
    if claims.get("iss") != registration.issuer:
        raise LaunchRejected("wrong_issuer")
    audience = claims.get("aud")
    audiences = [audience] if isinstance(audience, str) else audience
    # every audience must be us: another audience is not trusted (OIDC Core §3.1.3.7)
    if not isinstance(audiences, list) or audiences != [registration.client_id]:
        raise LaunchRejected("wrong_audience")
    if "azp" in claims and claims["azp"] != registration.client_id:
        raise LaunchRejected("wrong_authorized_party")


def _verify_signature(
    id_token: str,
    header: Mapping[str, Any],
    algorithm: str,
    registration: Registration,
    key_sets: PlatformKeySets,
) -> None:
    try:
        candidates = key_sets.candidates(registration.key_set_url, header.get("kid"))
    except KeySetUnavailable:
        raise LaunchRejected("key_set_unavailable") from None
    if not candidates:
        raise LaunchRejected("unknown_kid" if "kid" in header else "missing_kid")

    key = candidates[0]
    if key.key_type != KEY_TYPE_OF_ALGORITHM[algorithm[:2]]:
        raise LaunchRejected("algorithm_does_not_fit_key")
    if key.get("alg") not in (None, algorithm):
        raise LaunchRejected("algorithm_does_not_fit_key")
    try:
        jws.deserialize_compact(id_token, key, algorithms=[algorithm])
    except JoseError:
        raise LaunchRejected("bad_signature") from None


def _check_times(claims: Mapping[str, Any], settings: LtiSettings, now: float) -> None:
    expires, issued, not_before = claims.get("exp"), claims.get("iat"), claims.get("nbf")
    if not (_numeric_date(expires) and _numeric_date(issued)):
        raise LaunchRejected("missing_times")
    if not_before is not None and not _numeric_date(not_before):
        raise LaunchRejected("missing_times")
    leeway = settings.leeway_seconds
    if now > expires + leeway:
        raise LaunchRejected("expired", "expired", f"exp was {now - expires:.0f} s ago")
    if issued > now + leeway:
        raise LaunchRejected("issued_in_future", "expired", f"iat is {issued - now:.0f} s ahead")
    if now - issued > settings.max_token_age_seconds + leeway:
        raise LaunchRejected("too_old", "expired", f"iat was {now - issued:.0f} s ago")
    if not_before is not None and not_before > now + leeway:
        raise LaunchRejected("not_yet_valid", "expired", f"nbf is {not_before - now:.0f} s ahead")


def _check_lti_claims(
    claims: Mapping[str, Any], registration: Registration
) -> tuple[Deployment, str, tuple[str, ...]]:
    if claims.get(MESSAGE_TYPE) != RESOURCE_LINK_REQUEST:
        raise LaunchRejected("wrong_message_type")
    if claims.get(VERSION) != LTI_VERSION:
        raise LaunchRejected("wrong_version")

    deployment_id = _short_id(claims, DEPLOYMENT_ID, "missing_deployment_id")
    deployment = registration.deployment(deployment_id)
    if deployment is None:
        raise LaunchRejected("unknown_deployment", "deployment", f"deployment {deployment_id}")

    if claims.get(TARGET_LINK_URI) != registration.launch_url:
        raise LaunchRejected("wrong_target_link_uri")
    resource_link = claims.get(RESOURCE_LINK)
    if not isinstance(resource_link, dict):
        raise LaunchRejected("missing_resource_link_id")
    resource_link_id = _short_id(resource_link, "id", "missing_resource_link_id")

    roles = claims.get(ROLES)
    if not isinstance(roles, list) or not all(isinstance(role, str) for role in roles):
        raise LaunchRejected("missing_roles")
    return deployment, resource_link_id, tuple(roles)


def validate_id_token(
    id_token: str,
    registration: Registration,
    key_sets: PlatformKeySets,
    settings: LtiSettings,
    now: float,
) -> LaunchClaims:
    """Validate a launch token for the registration its login began with; raise LaunchRejected."""
    header, claims = _header_and_claims(id_token, settings)
    algorithm = _check_header(header, settings)

    # who the token claims to be from and for, before any key is fetched for it
    _check_audience(claims, registration)
    _verify_signature(id_token, header, algorithm, registration, key_sets)

    _check_times(claims, settings, now)
    nonce = claims.get("nonce")
    if not isinstance(nonce, str) or not nonce:
        raise LaunchRejected("missing_nonce")
    sub = _short_id(claims, "sub", "missing_sub")
    deployment, resource_link_id, roles = _check_lti_claims(claims, registration)

    custom = claims.get(CUSTOM)
    return LaunchClaims(
        sub=sub,
        nonce=nonce,
        roles=roles,
        deployment=deployment,
        custom=custom if isinstance(custom, dict) else {},
        resource_link_id=resource_link_id,
    )
