"""A OneRoster 1.2 provider standing in for Infinite Campus, with switchable faults.

See docs/sandbox.md for how to run it and what it deviates on.
"""

from sg_pipelines.sandbox.config import SandboxConfig
from sg_pipelines.sandbox.csv_bundle import BULK_DATE_LAST_MODIFIED, load_bundle
from sg_pipelines.sandbox.district import District
from sg_pipelines.sandbox.faults import Faults, PageFault
from sg_pipelines.sandbox.generator import generate_district
from sg_pipelines.sandbox.request_log import RequestLog
from sg_pipelines.sandbox.runner import (
    SandboxProcess,
    SandboxServer,
    serve_forever,
    start_subprocess,
)
from sg_pipelines.sandbox.server import create_app

__all__ = [
    "BULK_DATE_LAST_MODIFIED",
    "District",
    "Faults",
    "PageFault",
    "RequestLog",
    "SandboxConfig",
    "SandboxProcess",
    "SandboxServer",
    "create_app",
    "generate_district",
    "load_bundle",
    "serve_forever",
    "start_subprocess",
]
