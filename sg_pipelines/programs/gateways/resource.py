"""The Dagster resource that opens the configured flags gateway.

Secrets are plain string fields; the definitions fill them from `EnvVar`
(`$SG_CAMPUS_VENDOR_SECRET`, `$SG_ONEROSTER_CLIENT_SECRET`, `$SG_SFTP_PASSWORD`,
`$SG_LINK_SIGNING_KEY`) and fall back to the sandbox's own values, so the demo needs no
configuration.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import duckdb
from dagster import ConfigurableResource

from sg_pipelines.programs.gateways.base import FlagProgram, FlagsGateway
from sg_pipelines.programs.gateways.campus_rest import CampusRestGateway
from sg_pipelines.programs.gateways.csv_sftp import CsvSftpGateway
from sg_pipelines.programs.push import pushed_flags
from sg_pipelines.programs.viewer_links import (
    SANDBOX_LINK_SIGNING_KEY,
    ViewerLinks,
    check_key_for_host,
)
from sg_pipelines.settings import (
    SANDBOX_CLIENT_SECRET,
    SANDBOX_VENDOR_SECRET,
    FlagSettings,
    OneRosterSettings,
    Settings,
)

_flags = FlagSettings()
_oneroster = OneRosterSettings()


class FlagsGatewayResource(ConfigurableResource):
    """How program flags reach Campus: the REST endpoint or a CSV over SFTP (sandbox defaults)."""

    gateway: str = _flags.gateway
    flag_mode: str = _flags.flag_mode
    push_retries: int = _flags.push_retries
    max_backoff_seconds: float = 60.0
    timeout_seconds: float = 30.0
    # Campus REST
    base_url: str = _flags.campus.base_url
    token_url: str = _oneroster.token_url
    client_id: str = _oneroster.client_id
    client_secret: str = SANDBOX_CLIENT_SECRET
    vendor_key: str = _flags.campus.vendor_key
    vendor_secret: str = SANDBOX_VENDOR_SECRET
    # CSV over SFTP
    sftp_host: str = _flags.sftp.host
    sftp_port: int = _flags.sftp.port
    sftp_username: str = _flags.sftp.username
    sftp_password: str | None = None
    sftp_remote_dir: str = _flags.sftp.remote_dir
    sftp_known_hosts: str | None = _flags.sftp.known_hosts
    viewer_base_url: str = _flags.viewer_base_url
    link_ttl_hours: int = _flags.link_ttl_hours
    link_signing_key: str = SANDBOX_LINK_SIGNING_KEY

    @classmethod
    def from_settings(cls, settings: Settings, **secrets: Any) -> FlagsGatewayResource:
        """The resource for a district's settings; `secrets` are the four secret fields
        (`client_secret`, `vendor_secret`, `sftp_password`, `link_signing_key`), str or EnvVar."""
        flags = settings.flags
        return cls(
            gateway=flags.gateway,
            flag_mode=flags.flag_mode,
            push_retries=flags.push_retries,
            max_backoff_seconds=settings.oneroster.max_backoff_seconds,
            timeout_seconds=settings.oneroster.timeout_seconds,
            base_url=flags.campus.base_url,
            token_url=settings.oneroster.token_url,
            client_id=settings.oneroster.client_id,
            vendor_key=flags.campus.vendor_key,
            sftp_host=flags.sftp.host,
            sftp_port=flags.sftp.port,
            sftp_username=flags.sftp.username,
            sftp_remote_dir=flags.sftp.remote_dir,
            sftp_known_hosts=flags.sftp.known_hosts,
            viewer_base_url=flags.viewer_base_url,
            link_ttl_hours=flags.link_ttl_hours,
            **secrets,
        )

    @contextmanager
    def open(
        self,
        conn: duckdb.DuckDBPyConnection,
        programs: Sequence[FlagProgram],
        log: logging.Logger | logging.LoggerAdapter | None = None,
    ) -> Iterator[FlagsGateway]:
        """The configured gateway, closed afterwards.

        Args:
            conn: the run's warehouse connection (the CSV route reads what it pushed before).
            programs: every enabled program (the CSV file always holds all of them).
        """
        gateway: FlagsGateway
        extra: dict[str, Any] = {"log": log} if log is not None else {}
        if self.gateway == "campus_rest":
            gateway = CampusRestGateway(
                self.base_url,
                self.token_url,
                self.client_id,
                self.client_secret,
                self.vendor_key,
                self.vendor_secret,
                flag_mode="existing" if self.flag_mode == "existing" else "create",
                timeout_seconds=self.timeout_seconds,
                max_retries=self.push_retries,
                max_backoff_seconds=self.max_backoff_seconds,
                **extra,
            )
        elif self.gateway == "csv_sftp":
            check_key_for_host(self.link_signing_key, self.sftp_host)
            gateway = CsvSftpGateway(
                self.sftp_host,
                self.sftp_port,
                self.sftp_username,
                self.sftp_remote_dir,
                programs=programs,
                pushed_flags=lambda key: pushed_flags(
                    conn, key, CsvSftpGateway.name, CsvSftpGateway.owner
                ),
                links=ViewerLinks(self.link_signing_key, self.link_ttl_hours * 3600),
                viewer_base_url=self.viewer_base_url,
                password=self.sftp_password,
                known_hosts=self.sftp_known_hosts,
                max_retries=self.push_retries,
                max_backoff_seconds=self.max_backoff_seconds,
                **extra,
            )
        else:
            raise ValueError(f"unknown flags gateway {self.gateway!r}; use campus_rest or csv_sftp")
        try:
            yield gateway
        finally:
            gateway.close()
