"""Ohio EMIS state-reporting records (GE, FD, FE, GQ) and the state-test Pre-ID rows.

Builders are pure functions of a DuckDB connection and a `ReportRequest`
(`sg_pipelines.emis.records`); `assets.py` and `checks.py` wire them into the nightly run;
`snapshot.py` publishes what the reporting API serves.
"""

from sg_pipelines.emis.ranges import ReportRequest
from sg_pipelines.emis.reconciliation import build_reconciliation
from sg_pipelines.emis.records import (
    BUILDERS,
    build_fd,
    build_fe,
    build_ge,
    build_gq,
    build_pre_id,
)
from sg_pipelines.emis.snapshot import current_snapshot, open_snapshot, publish_snapshot

__all__ = [
    "BUILDERS",
    "ReportRequest",
    "build_fd",
    "build_fe",
    "build_ge",
    "build_gq",
    "build_pre_id",
    "build_reconciliation",
    "current_snapshot",
    "open_snapshot",
    "publish_snapshot",
]
