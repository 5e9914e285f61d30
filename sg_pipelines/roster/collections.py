"""The OneRoster collections we pull, and where each one lands in the warehouse."""

from __future__ import annotations

from dataclasses import dataclass

from sg_pipelines.roster.models import (
    AcademicSession,
    Class,
    Demographics,
    Enrollment,
    OneRosterRecord,
    Org,
    User,
)

SCOPE_PREFIX = "https://purl.imsglobal.org/spec/or/v1p2/scope/"
CORE_SCOPE = "roster-core.readonly"

# the in-memory database, attached beside the warehouse, that holds the staging tables
STAGING_DATABASE = "roster_staging"
DEMOGRAPHICS_SCOPE = "roster-demographics.readonly"


@dataclass(frozen=True)
class Collection:
    """One `GET /{name}` collection: its envelope key, record model and warehouse table.

    `staged_in_sql` collections are staged by `sql/stage_{table}.sql`, which leaves to the
    model only the records its rules are not certain of; the others are parsed by the model.
    `staging_workers` of those queries run at once, as far as the sync's DuckDB memory limit
    (256 MB) allows: two enrollments or demographics queries need under 100 MB each.
    """

    name: str
    model: type[OneRosterRecord]
    table: str
    list_columns: frozenset[str] = frozenset()
    scope: str = CORE_SCOPE
    staged_in_sql: bool = False
    staging_workers: int = 2

    @property
    def envelope(self) -> str:
        """The response key holding the records; the same as the path for these collections."""
        return self.name

    @property
    def columns(self) -> tuple[str, ...]:
        return self.model.columns

    @property
    def staging_table(self) -> str:
        return f"{STAGING_DATABASE}.{self.table.removeprefix('oneroster_')}"

    @property
    def staging_query(self) -> str:
        """The `sql/` file that stages this collection's pages when `staged_in_sql`."""
        return f"stage_{self.table.removeprefix('oneroster_')}"


ORGS = Collection("orgs", Org, "oneroster_orgs")
ACADEMIC_SESSIONS = Collection("academicSessions", AcademicSession, "oneroster_academic_sessions")
CLASSES = Collection(
    "classes",
    Class,
    "oneroster_classes",
    frozenset({"term_sourced_ids", "grades"}),
    staged_in_sql=True,
    staging_workers=1,  # a query over one 7 MB page of classes holds about 100 MB
)
USERS = Collection(
    "users",
    User,
    "oneroster_users",
    frozenset({"role_names", "agent_sourced_ids", "grades"}),
    staged_in_sql=True,
    staging_workers=1,  # a query over one 10 MB page of users holds about 180 MB
)
DEMOGRAPHICS = Collection(
    "demographics",
    Demographics,
    "oneroster_demographics",
    scope=DEMOGRAPHICS_SCOPE,
    staged_in_sql=True,
)
ENROLLMENTS = Collection("enrollments", Enrollment, "oneroster_enrollments", staged_in_sql=True)

COLLECTIONS: dict[str, Collection] = {
    collection.name: collection
    for collection in (ORGS, ACADEMIC_SESSIONS, CLASSES, USERS, DEMOGRAPHICS, ENROLLMENTS)
}
