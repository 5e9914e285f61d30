"""The Dagster resource for the app database."""

from dagster import ConfigurableResource

from sg_pipelines.appdb.gateway import AppDatabase


class AppDatabaseResource(ConfigurableResource):
    """The plan system's database, named by URL (`sqlite:////abs/path/app.sqlite`).

    `open()` returns a migrated `AppDatabase`; close it, or use it as a context manager.
    """

    url: str

    def open(self) -> AppDatabase:
        return AppDatabase(self.url)
