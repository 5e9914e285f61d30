"""The app database: plan-system students, contacts and the audit log, behind one gateway."""

from sg_pipelines.appdb.gateway import AppDatabase
from sg_pipelines.appdb.records import AuditEntry, Contact, NewStudent, PlanStudent
from sg_pipelines.appdb.resources import AppDatabaseResource
from sg_pipelines.appdb.url import UnsupportedDatabaseUrl, parse_url

__all__ = [
    "AppDatabase",
    "AppDatabaseResource",
    "AuditEntry",
    "Contact",
    "NewStudent",
    "PlanStudent",
    "UnsupportedDatabaseUrl",
    "parse_url",
]
