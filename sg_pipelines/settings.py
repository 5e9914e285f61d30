"""District settings: one YAML file plus environment variables.

Every field has a default that points at the embedded Campus sandbox, so the demo needs no
configuration. A district copies `docs/settings.example.yaml`, points `SG_SETTINGS_FILE` at it,
and keeps secrets in environment variables (read by the Dagster resources through `EnvVar`).

Environment overrides use the `SG_` prefix and `__` between levels, for example
`SG_ONEROSTER__BASE_URL` or `SG_WAREHOUSE_PATH`.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

SANDBOX_DEFAULT_PORT = 8765
SANDBOX_CLIENT_ID = "sg-sandbox-client"
SANDBOX_CLIENT_SECRET = "sg-sandbox-secret"

ONEROSTER_SCOPES = (
    "https://purl.imsglobal.org/spec/or/v1p2/scope/roster-core.readonly",
    "https://purl.imsglobal.org/spec/or/v1p2/scope/roster.readonly",
    "https://purl.imsglobal.org/spec/or/v1p2/scope/roster-demographics.readonly",
)

ENV_PREFIX = "SG_"
SETTINGS_FILE_ENV = "SG_SETTINGS_FILE"
HOME_ENV = "SG_HOME"
CLIENT_SECRET_ENV = "SG_ONEROSTER_CLIENT_SECRET"
VENDOR_SECRET_ENV = "SG_CAMPUS_VENDOR_SECRET"
SFTP_PASSWORD_ENV = "SG_SFTP_PASSWORD"
LINK_SIGNING_KEY_ENV = "SG_LINK_SIGNING_KEY"
SMTP_PASSWORD_ENV = "SG_SMTP_PASSWORD"
API_SECRET_KEY_ENV = "SG_API_SECRET_KEY"
SANDBOX_VENDOR_SECRET = "sg-sandbox-vendor-secret"


def default_home() -> Path:
    """Where local state lives when the settings name no path: `$SG_HOME` or `./.sg-pipelines`."""
    return Path(os.environ.get(HOME_ENV) or Path.cwd() / ".sg-pipelines").resolve()


class SettingsFileError(ValueError):
    """The settings file cannot be read as settings (its own one-line message)."""


class _SettingsLoader(yaml.SafeLoader):
    """Safe YAML with two changes for settings: a date stays text for pydantic to check (an
    unquoted `2025-13-45` would otherwise fail inside the YAML reader), and a key given twice in
    one mapping is refused rather than silently last-wins."""


_SettingsLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _unique_mapping(loader: _SettingsLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            mark = key_node.start_mark
            raise SettingsFileError(
                f"settings file {mark.name}: {key!r} is given twice "
                f"(line {mark.line + 1}, column {mark.column + 1})"
            )
        seen.add(key)
    return loader.construct_mapping(node)


_SettingsLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_mapping)


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http:// or https:// URL with a host")
    return value.rstrip("/")


def _time_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("must be an IANA time zone such as America/New_York") from None
    return value


def _database_url(value: str) -> str:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        make_url(value)
    except ArgumentError:
        raise ValueError("must be a database URL such as sqlite:////var/lib/app.sqlite") from None
    return value


HttpUrl = Annotated[str, AfterValidator(_http_url)]
Port = Annotated[int, Field(ge=1, le=65535)]


class StrictModel(BaseModel):
    """A settings section: a misspelt key is an error, never a silently ignored default."""

    model_config = ConfigDict(extra="forbid")


class OneRosterSettings(StrictModel):
    """How to reach the district's OneRoster 1.2 provider (Campus, or the sandbox)."""

    base_url: HttpUrl = f"http://127.0.0.1:{SANDBOX_DEFAULT_PORT}/ims/oneroster/rostering/v1p2"
    token_url: HttpUrl = f"http://127.0.0.1:{SANDBOX_DEFAULT_PORT}/oauth2/token"
    client_id: str = SANDBOX_CLIENT_ID
    scopes: list[str] = Field(default_factory=lambda: list(ONEROSTER_SCOPES))
    page_size: int = Field(default=10_000, ge=1, le=50_000)
    max_concurrency: int = Field(default=5, ge=1, le=5)
    serial: bool = False
    timeout_seconds: float = Field(default=30.0, gt=0)
    max_retries: int = Field(default=5, ge=0)
    max_backoff_seconds: float = Field(default=60.0, gt=0)
    delta_lookback_seconds: int = Field(default=3600, ge=0)


class RosterSettings(StrictModel):
    """Rules for applying a roster pull."""

    deactivation_threshold: float = Field(default=0.10, ge=0, le=1)
    # a sync deactivating this many rows of a population or fewer is never held back
    deactivation_floor: int = Field(default=5, ge=0)
    guardian_roles: list[str] = Field(default_factory=lambda: ["parent", "guardian"])
    other_contact_roles: list[str] = Field(default_factory=lambda: ["relative", "relatedContact"])
    unresolved_alert_threshold: int = Field(default=50, ge=0)
    confirm_mass_deactivation: bool = False


PROGRAM_KEYS = (
    "special_education",
    "section_504",
    "english_learners",
    "advanced_learners",
    "k4_literacy",
)

# The plan system's program ("Form Group") names; a Campus flag is named after them by default.
PROGRAM_NAMES = {
    "special_education": "Special Education",
    "section_504": "Section 504",
    "english_learners": "English Learners",
    "advanced_learners": "Advanced Learners",
    "k4_literacy": "K-4 Literacy",
}


class ProgramSettings(StrictModel):
    """One program's flag integration: on or off, its Campus flag, and its cutover date."""

    enabled: bool = False
    flag_name: str | None = None
    cutover_date: date = date(2025, 8, 1)


def _default_programs() -> dict[str, ProgramSettings]:
    return {
        key: ProgramSettings(
            enabled=key in ("special_education", "section_504"), flag_name=PROGRAM_NAMES[key]
        )
        for key in PROGRAM_KEYS
    }


class CampusFlagsSettings(StrictModel):
    """The Campus program-flags endpoint (partner-only; see docs/campus-flags-api.md)."""

    base_url: HttpUrl = f"http://127.0.0.1:{SANDBOX_DEFAULT_PORT}/ims/oneroster/v1p2"
    vendor_key: str = "sg-sandbox-vendor"


class SftpSettings(StrictModel):
    """Where the CSV adapter drops `documents.csv` and its `COMPLETE` marker."""

    host: str = "127.0.0.1"
    port: Port = 22
    username: str = "sg-pipelines"
    remote_dir: str = "/"
    known_hosts: str | None = None


class FlagSettings(StrictModel):
    """How program flags reach Campus."""

    gateway: Literal["campus_rest", "csv_sftp"] = "campus_rest"
    flag_mode: Literal["create", "existing"] = "create"
    max_change_share: float = Field(default=0.25, ge=0, le=1)
    max_change_floor: int = Field(default=20, ge=0)
    confirm_large_change: bool = False
    push_retries: int = Field(default=3, ge=0)
    viewer_base_url: HttpUrl = "http://127.0.0.1:8780"
    link_ttl_hours: int = Field(default=48, ge=1)
    campus: CampusFlagsSettings = Field(default_factory=CampusFlagsSettings)
    sftp: SftpSettings = Field(default_factory=SftpSettings)


class SmtpSettings(StrictModel):
    """The district's mail relay for data-export invitations and alerts."""

    host: str = "127.0.0.1"
    port: Port = 25
    from_address: str = "sg-pipelines@localhost"
    starttls: bool = False
    username: str | None = None
    timeout_seconds: float = Field(default=15.0, gt=0)


class AlertSettings(StrictModel):
    """Who hears about failed nightly runs (each data export's contact hears about its own)."""

    contact_email: str | None = None
    auth_failure_burst: int = Field(default=20, ge=1)
    auth_failure_window_seconds: int = Field(default=300, ge=1)


class ApiSettings(StrictModel):
    """The reporting API's tokens and the public address it is reached at."""

    public_url: HttpUrl = "http://127.0.0.1:8780"
    token_ttl_seconds: int = Field(default=900, ge=60, le=3600)
    failed_auth_limit_per_client: int = Field(default=10, ge=1)
    failed_auth_limit_per_address: int = Field(default=30, ge=1)
    failed_auth_window_seconds: int = Field(default=300, ge=1)
    default_max_page_size: int = Field(default=1000, ge=1, le=50_000)


class Settings(StrictModel):
    """One district's settings."""

    district_name: str = "Sandbox City Schools"
    home: Path = Field(default_factory=default_home)
    warehouse_path: Path | None = None
    app_database_url: Annotated[str, AfterValidator(_database_url)] | None = None
    timezone: Annotated[str, AfterValidator(_time_zone)] = "America/New_York"
    oneroster: OneRosterSettings = Field(default_factory=OneRosterSettings)
    roster: RosterSettings = Field(default_factory=RosterSettings)
    programs: dict[str, ProgramSettings] = Field(default_factory=_default_programs)
    flags: FlagSettings = Field(default_factory=FlagSettings)
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)

    @field_validator("programs")
    @classmethod
    def _known_programs(cls, programs: dict[str, ProgramSettings]) -> dict[str, ProgramSettings]:
        unknown = sorted(set(programs) - set(PROGRAM_KEYS))
        if unknown:
            raise ValueError(f"unknown programs {unknown}; known: {list(PROGRAM_KEYS)}")
        merged = _default_programs()
        merged.update(programs)
        for key, program in merged.items():
            program.flag_name = program.flag_name or PROGRAM_NAMES[key]
        return merged

    @property
    def enabled_programs(self) -> dict[str, ProgramSettings]:
        """The programs whose flags this system keeps, in a stable order."""
        return {key: self.programs[key] for key in PROGRAM_KEYS if self.programs[key].enabled}

    @property
    def warehouse(self) -> Path:
        """Absolute path of the DuckDB warehouse file."""
        return (self.warehouse_path or self.home / "warehouse.duckdb").expanduser().resolve()

    @property
    def app_database(self) -> str:
        """URL of the app database (SQLite by default)."""
        if self.app_database_url:
            return self.app_database_url
        return f"sqlite:///{(self.home / 'app.sqlite').resolve()}"


def _env_overrides(environ: dict[str, str]) -> dict[str, Any]:
    """Turn `SG_A__B=value` variables into a nested dict `{"a": {"b": "value"}}`."""
    overrides: dict[str, Any] = {}
    reserved = {
        SETTINGS_FILE_ENV,
        CLIENT_SECRET_ENV,
        VENDOR_SECRET_ENV,
        SFTP_PASSWORD_ENV,
        LINK_SIGNING_KEY_ENV,
        SMTP_PASSWORD_ENV,
        API_SECRET_KEY_ENV,
    }
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or name in reserved:
            continue
        if name == HOME_ENV and not value.strip():
            continue  # an empty SG_HOME is unset (the default home), never the current folder
        path = name[len(ENV_PREFIX) :].lower().split("__")
        if path[0] not in Settings.model_fields:
            continue
        node = overrides
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = _env_value(value)
    return overrides


def _env_value(value: str) -> Any:
    """Lists may be given as comma-separated values; everything else pydantic coerces."""
    return value.split(",") if "," in value else value


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _nul_character_at(value: Any, where: str = "") -> str | None:
    """The dotted key of the first string in `value` (its keys included) holding a NUL."""
    if isinstance(value, str):
        return (where or "the top level") if "\0" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            inner = f"{where}.{key}" if where else str(key)
            if isinstance(key, str) and "\0" in key:
                return f"a key under {where or 'the top level'}"
            if found := _nul_character_at(item, inner):
                return found
    if isinstance(value, list):
        for number, item in enumerate(value):
            if found := _nul_character_at(item, f"{where}[{number}]"):
                return found
    return None


def load_settings(
    path: Path | str | None = None, environ: dict[str, str] | None = None
) -> Settings:
    """Read the settings file (argument, `$SG_SETTINGS_FILE`, or none) and apply the environment."""
    environ = dict(os.environ if environ is None else environ)
    path = path or environ.get(SETTINGS_FILE_ENV)

    data: dict[str, Any] = {}
    if path:
        try:
            with Path(path).open(encoding="utf-8") as handle:
                data = yaml.load(handle, Loader=_SettingsLoader) or {}  # a SafeLoader
        except UnicodeDecodeError:
            raise SettingsFileError(
                f"settings file {path} is not UTF-8 text; save it as UTF-8"
            ) from None
        if not isinstance(data, dict):
            raise SettingsFileError(f"settings file {path} must hold a mapping at the top level")
        if where := _nul_character_at(data):
            # no setting is a string with a NUL in it, and a path with one cannot be opened
            raise SettingsFileError(f"settings file {path}: {where} holds a NUL character")

    return Settings.model_validate(_merge(data, _env_overrides(environ)))


def oneroster_client_secret(environ: dict[str, str] | None = None) -> str:
    """The OneRoster client secret: `$SG_ONEROSTER_CLIENT_SECRET`, or the sandbox's own."""
    environ = os.environ if environ is None else environ
    return environ.get(CLIENT_SECRET_ENV, SANDBOX_CLIENT_SECRET)
