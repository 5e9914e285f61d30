"""The tool's own signing keys and the key set it publishes at `/.well-known/jwks.json`.

A pure resource-link viewer signs nothing during a launch, but Campus's connection form asks
for the tool's public key set, and LTI Advantage services would need it. Keys are RSA 2048,
named by their RFC 7638 thumbprint, kept in the app database. Rotation makes a new key the
signing key and keeps the old one published for `tool_key_overlap_days`, so a platform that
cached the set never meets an unknown `kid`.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from joserfc.jwk import RSAKey

from sg_pipelines.appdb.lti import LtiStore

logger = logging.getLogger(__name__)

SIGNING_ALGORITHM = "RS256"
PUBLIC_FIELDS = ("kty", "n", "e")


def _new_key() -> tuple[str, dict[str, Any]]:
    key = RSAKey.generate_key(2048)
    kid = key.thumbprint()
    return kid, {**key.as_dict(private=True), "kid": kid}


def ensure_tool_key(store: LtiStore, now: float | None = None) -> str:
    """The kid of the active signing key, creating the first one when there is none."""
    now = time.time() if now is None else now
    active = [kid for kid, _, is_active in store.tool_keys(now) if is_active]
    if active:
        return active[0]
    kid, private = _new_key()
    store.add_tool_key(kid, private, retire_others_after=now)
    logger.info("created the tool's first signing key")
    return kid


def rotate_tool_key(store: LtiStore, overlap_days: int, now: float | None = None) -> str:
    """Make a new signing key; the replaced keys stay published for `overlap_days`."""
    now = time.time() if now is None else now
    kid, private = _new_key()
    store.add_tool_key(kid, private, retire_others_after=now + overlap_days * 86_400)
    logger.info("rotated the tool's signing key; old keys published for %d days", overlap_days)
    return kid


def published_key_set(store: LtiStore, now: float | None = None) -> dict[str, Any]:
    """The public JWKS: every key still published, public parameters only, with kid/alg/use."""
    now = time.time() if now is None else now
    keys = [
        {
            **{name: private[name] for name in PUBLIC_FIELDS},
            "kid": kid,
            "alg": SIGNING_ALGORITHM,
            "use": "sig",
        }
        for kid, private, _ in store.tool_keys(now)
    ]
    return {"keys": keys}
