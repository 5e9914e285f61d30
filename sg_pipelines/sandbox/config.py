"""Settings of one sandbox server: credentials, scopes, token lifetime and paging limits."""

from __future__ import annotations

from dataclasses import dataclass

from sg_pipelines.settings import ONEROSTER_SCOPES, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET

SCOPE_PREFIX = "https://purl.imsglobal.org/spec/or/v1p2/scope/"
CORE_SCOPES = frozenset({SCOPE_PREFIX + "roster-core.readonly", SCOPE_PREFIX + "roster.readonly"})
DEMOGRAPHICS_SCOPES = frozenset({SCOPE_PREFIX + "roster-demographics.readonly"})


@dataclass
class SandboxConfig:
    """How the sandbox behaves when no fault is switched on.

    Args:
        client_id: the one OAuth client the token endpoint accepts.
        client_secret: its secret.
        allowed_scopes: scopes the client may be granted; drop the demographics scope to
            make `/demographics` answer 403, as a district that withheld it would.
        token_ttl_seconds: `expires_in` of issued tokens, and their real lifetime.
        default_page_size: `limit` when the request names none (OneRoster says 100).
        max_page_size: larger limits are clamped to this silently (Campus allows 50,000).
    """

    client_id: str = SANDBOX_CLIENT_ID
    client_secret: str = SANDBOX_CLIENT_SECRET
    allowed_scopes: tuple[str, ...] = ONEROSTER_SCOPES
    token_ttl_seconds: int = 3600
    default_page_size: int = 100
    max_page_size: int = 50_000
