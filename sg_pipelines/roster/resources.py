"""The Dagster resource that reaches the district's OneRoster provider."""

from __future__ import annotations

from typing import Any

from dagster import ConfigurableResource

from sg_pipelines.roster.client import OneRosterClient
from sg_pipelines.settings import ONEROSTER_SCOPES, SANDBOX_CLIENT_SECRET, OneRosterSettings

_defaults = OneRosterSettings()


class OneRosterResource(ConfigurableResource):
    """Connection and load settings for Campus's OneRoster 1.2 API (the sandbox by default).

    `client_secret` is filled from `EnvVar("SG_ONEROSTER_CLIENT_SECRET")` by the definitions.
    """

    base_url: str = _defaults.base_url
    token_url: str = _defaults.token_url
    client_id: str = _defaults.client_id
    client_secret: str = SANDBOX_CLIENT_SECRET
    page_size: int = _defaults.page_size
    max_concurrency: int = _defaults.max_concurrency
    serial: bool = _defaults.serial
    timeout_seconds: float = _defaults.timeout_seconds
    max_retries: int = _defaults.max_retries
    max_backoff_seconds: float = _defaults.max_backoff_seconds
    delta_lookback_seconds: int = _defaults.delta_lookback_seconds

    def client(self, **kwargs: Any) -> OneRosterClient:
        """A new client; close it (or use it as a context manager) when the sync is done."""
        return OneRosterClient(
            self.base_url,
            self.token_url,
            self.client_id,
            self.client_secret,
            scopes=ONEROSTER_SCOPES,
            page_size=self.page_size,
            max_concurrency=min(self.max_concurrency, 5),
            serial=self.serial,
            timeout_seconds=self.timeout_seconds,
            max_retries=self.max_retries,
            max_backoff_seconds=self.max_backoff_seconds,
            **kwargs,
        )
