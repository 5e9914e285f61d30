"""The LTI tool's settings: where it lives, which claims carry the student and program, who
counts as staff, and the time limits of a launch.

Every field can be overridden from the environment with `SG_LTI__<FIELD>` (lists comma-separated),
for example `SG_LTI__TOOL_URL=https://plans.example.org` or `SG_LTI__LEEWAY_SECONDS=30`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, Field, field_validator

ENV_PREFIX = "SG_LTI__"

LIS = "http://purl.imsglobal.org/vocab/lis/v2"

# Roles of people who work in a school (LIS v2 institution and membership vocabularies). A launch
# by anyone else (learner, mentor, guest) is valid LTI but is refused the plan.
STAFF_ROLES = (
    f"{LIS}/institution/person#Administrator",
    f"{LIS}/institution/person#Faculty",
    f"{LIS}/institution/person#Instructor",
    f"{LIS}/institution/person#Staff",
    f"{LIS}/membership#Administrator",
    f"{LIS}/membership#Instructor",
    f"{LIS}/system/person#Administrator",
)

# Signature algorithms a platform may use: asymmetric only, each bound to its key type in
# `validation.py`. HMAC is never allowed, so a public key can never serve as a shared secret.
SIGNING_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384")


class LtiSettings(BaseModel):
    """How the tool validates launches and decides who may see a plan."""

    tool_url: str = "http://127.0.0.1:8780"
    student_claim: str = "student_sourced_id"
    program_claim: str = "program"
    staff_roles: list[str] = Field(default_factory=lambda: list(STAFF_ROLES))
    algorithms: list[str] = Field(default_factory=lambda: ["RS256", "RS384", "RS512", "ES256"])
    leeway_seconds: int = Field(default=60, ge=0, le=300)
    max_token_age_seconds: int = Field(default=600, ge=60, le=3600)
    state_ttl_seconds: int = Field(default=300, ge=30, le=3600)
    view_token_ttl_seconds: int = Field(default=1800, ge=60, le=8 * 3600)
    max_id_token_bytes: int = Field(default=32_768, ge=4096)
    key_set_cache_seconds: int = Field(default=300, ge=0)
    key_set_refetch_seconds: int = Field(default=30, ge=0)
    key_set_timeout_seconds: float = Field(default=5.0, gt=0, le=30)
    # the certification guide's bad payload 1: a token without `kid` is refused; a district
    # whose platform drops `kid` (fault B8) may try the only key of a one-key set instead
    single_key_without_kid: bool = False
    tool_key_overlap_days: int = Field(default=7, ge=0)
    allow_http_loopback: bool = True

    @field_validator("algorithms")
    @classmethod
    def _asymmetric_only(cls, value: list[str]) -> list[str]:
        refused = [name for name in value if name not in SIGNING_ALGORITHMS]
        if refused or not value:
            raise ValueError(f"algorithms must be among {', '.join(SIGNING_ALGORITHMS)}")
        return value

    @field_validator("tool_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @property
    def launch_url(self) -> str:
        """The redirect URI and target link URI registered with the platform."""
        return f"{self.tool_url}/lti/launch"

    @property
    def login_url(self) -> str:
        return f"{self.tool_url}/lti/login"

    @property
    def jwks_url(self) -> str:
        return f"{self.tool_url}/.well-known/jwks.json"


def load_lti_settings(environ: Mapping[str, str] | None = None, **fields: Any) -> LtiSettings:
    """Defaults, then `SG_LTI__*` variables, then keyword arguments."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for name, value in environ.items():
        if name.startswith(ENV_PREFIX):
            field = name[len(ENV_PREFIX) :].lower()
            if field in LtiSettings.model_fields:
                is_list = LtiSettings.model_fields[field].annotation == list[str]
                values[field] = [item for item in value.split(",") if item] if is_list else value
    return LtiSettings.model_validate({**values, **fields})
