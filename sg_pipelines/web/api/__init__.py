"""The reporting API: OAuth 2.0 client-credentials tokens, the five EMIS record endpoints served
from the published report snapshot, and the OpenAPI document (docs/reporting-api.md)."""

from sg_pipelines.web.api.errors import CorrelationMiddleware, redact_access_log
from sg_pipelines.web.api.routes import API_ROUTES
from sg_pipelines.web.api.service import ReportingApi

__all__ = ["API_ROUTES", "CorrelationMiddleware", "ReportingApi", "redact_access_log"]
