"""Dagster resources shared across domains."""

from __future__ import annotations

from dagster import ConfigurableResource

from sg_pipelines.settings import Settings, load_settings


class SettingsResource(ConfigurableResource):
    """The district's settings, read when a run starts (file from `$SG_SETTINGS_FILE`)."""

    settings_file: str | None = None

    def load(self) -> Settings:
        return load_settings(self.settings_file)
