"""The audit of record requests, written behind the request.

A record request must not wait for SQLite: a commit waits for the process's write lock and,
now and then, for a WAL checkpoint with its fsync, which under a nightly run's disk traffic took
hundreds of milliseconds and held every other request's audit row behind it. So a request puts
its row here, stamped with its own time, and a writer thread commits what has gathered every
`FLUSH_SECONDS` in one transaction. A row is in the app database within about a second of its
request; a crash loses at most the rows of the last interval.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections.abc import Callable

from sg_pipelines.appdb.exports import AuditRow, ExportStore

logger = logging.getLogger(__name__)

FLUSH_SECONDS = 0.2
# rows kept when the database refuses them, so a long outage cannot grow the buffer forever
MAX_PENDING_ROWS = 100_000


class AuditTrail:
    """Audit rows waiting for the writer thread, which starts with the first row.

    Args:
        open_store: a new connection to the app database (one, kept by the writer thread).
        write_lock: the process's SQLite write lock, shared with the synchronous writers.
    """

    def __init__(self, open_store: Callable[[], ExportStore], write_lock: threading.Lock) -> None:
        self._open_store = open_store
        self._write_lock = write_lock
        self._pending: list[AuditRow] = []
        self._pending_lock = threading.Lock()
        self._flush_lock = threading.Lock()
        # SQLite connections stay in their thread: the writer's, and the one flushing at exit
        self._stores = threading.local()
        self._writer: threading.Thread | None = None

    def add(self, row: AuditRow) -> None:
        """Queue one row; it is committed within `FLUSH_SECONDS` or so."""
        with self._pending_lock:
            self._pending.append(row)
            if self._writer is None:
                self._writer = threading.Thread(
                    target=self._write_forever, name="api-audit-writer", daemon=True
                )
                self._writer.start()
                atexit.register(self.flush)

    def flush(self) -> None:
        """Commit every row queued so far (the writer thread does this on its own)."""
        with self._flush_lock:
            with self._pending_lock:
                rows, self._pending = self._pending, []
            if not rows:
                return
            try:
                store = getattr(self._stores, "store", None)
                if store is None:
                    store = self._stores.store = self._open_store()
                with self._write_lock:
                    store.record_calls(rows)
            except Exception:
                # put them back in front, in order; the next round tries again
                with self._pending_lock:
                    self._pending[:0] = rows
                    dropped = max(0, len(self._pending) - MAX_PENDING_ROWS)
                    del self._pending[:dropped]
                if dropped:
                    logger.error(
                        "dropped the %d oldest API audit rows waiting to be written", dropped
                    )
                raise

    def _write_forever(self) -> None:
        while True:
            time.sleep(FLUSH_SECONDS)
            try:
                self.flush()
            except Exception as error:
                logger.error("could not write API audit rows (%s); retrying", type(error).__name__)
