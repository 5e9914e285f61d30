"""What the token endpoint, the record endpoints and the acceptance pages share, kept on
`app.state.api`: settings, the clock, the server key, the failed-attempt budget, the snapshot
being served and per-thread app-database connections (SQLite connections stay in the thread
that opened them; Starlette runs blocking work in a thread pool).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from datetime import date

from sg_pipelines.appdb.exports import AuditRow, ExportStore
from sg_pipelines.emis.ranges import district_today
from sg_pipelines.notify.alerts import AuthFailureMonitor
from sg_pipelines.settings import Settings
from sg_pipelines.web.api.audit import AuditTrail
from sg_pipelines.web.api.credentials import server_key
from sg_pipelines.web.api.snapshots import SnapshotSource
from sg_pipelines.web.api.throttle import FailedAttempts

logger = logging.getLogger(__name__)

SWEEP_EVERY_SECONDS = 300.0


class ReportingApi:
    """The reporting API's shared state.

    Args:
        settings: the district's settings (home for snapshots, app database, `api`, `alerts`).
        clock: wall-clock seconds for token lifetimes (tests move it).
        environ: where `$SG_API_SECRET_KEY` is read (the process environment by default).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Callable[[], float] = time.time,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.snapshots = SnapshotSource(settings.home)
        api = settings.api
        self.failures = FailedAttempts(
            api.failed_auth_limit_per_client,
            api.failed_auth_limit_per_address,
            api.failed_auth_window_seconds,
        )
        self.bursts = AuthFailureMonitor(
            settings.alerts.auth_failure_burst, settings.alerts.auth_failure_window_seconds
        )
        self._environ = dict(os.environ if environ is None else environ)
        self._key: bytes | None = None
        self._local = threading.local()
        self._ready = False
        self._ready_lock = threading.Lock()
        self._last_sweep = 0.0
        # one writer at a time inside this process: SQLite's own busy wait sleeps in steps of
        # up to 100 ms, which a request must never pay for another request's audit row
        self.write_lock = threading.Lock()
        self.audit = AuditTrail(self._open_store, self.write_lock)

    @property
    def key(self) -> bytes:
        """The server key client secrets are hashed under (SecretKeyMissing when refused)."""
        if self._key is None:
            self._key = server_key(self.settings, self._environ)
        return self._key

    @property
    def store(self) -> ExportStore:
        """This thread's connection to the data-export tables (migrated on first use)."""
        store = getattr(self._local, "store", None)
        if store is None:
            store = self._local.store = self._open_store()
        return store

    def _open_store(self) -> ExportStore:
        with self._ready_lock:
            if not self._ready:
                ExportStore(self.settings.app_database).close()
                self._ready = True
        return ExportStore(self.settings.app_database, migrate_schema=False)

    def record_call(self, endpoint: str, result: str, status: int, **fields: object) -> None:
        """Write one audit row now (see `ExportStore.record_call`), serialised in this process."""
        with self.write_lock:
            self.store.record_call(endpoint, result, status, **fields)

    def record_request(self, endpoint: str, result: str, status: int, **fields: object) -> None:
        """Audit a record request; the row is committed behind it, within about a second."""
        self.audit.add(AuditRow.now(endpoint, result, status, **fields))

    def today(self) -> date:
        return district_today(self.settings.timezone)

    def sweep_now_and_then(self) -> None:
        """Drop expired tokens and invitations, at most every five minutes."""
        now = self.clock()
        if now - self._last_sweep >= SWEEP_EVERY_SECONDS:
            self._last_sweep = now
            removed = self.store.sweep_tokens(now)
            if removed:
                logger.info("swept %d expired tokens and invitations", removed)
