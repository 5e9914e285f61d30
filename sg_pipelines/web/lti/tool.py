"""What the LTI routes and the plan view share: settings, the platform key sets, the clock and
per-thread app-database connections (SQLite connections stay in the thread that opened them;
Starlette runs blocking work in a thread pool).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from sg_pipelines.appdb.gateway import AppDatabase
from sg_pipelines.appdb.lti import LtiStore
from sg_pipelines.settings import Settings
from sg_pipelines.web.lti.config import LtiSettings
from sg_pipelines.web.lti.platform_keys import PlatformKeySets
from sg_pipelines.web.lti.tool_keys import ensure_tool_key

SWEEP_EVERY_SECONDS = 60.0


def secret_hash(value: str) -> str:
    """How state, nonces and view tokens are stored and looked up."""
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass
class _Connections:
    database: AppDatabase
    store: LtiStore


class LtiTool:
    """The tool's shared state, kept on `app.state.lti`.

    Args:
        settings: the district's settings (app database URL, program flag names).
        lti: the tool's LTI settings.
        http: the client that fetches platform key sets (tests pass one with a mock transport).
        clock: wall-clock seconds; tests move it to check token times.
    """

    def __init__(
        self,
        settings: Settings,
        lti: LtiSettings,
        *,
        http: httpx.Client | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.lti = lti
        self.clock = clock
        self.key_sets = PlatformKeySets(lti, http)
        self._local = threading.local()
        self._last_sweep = 0.0
        self._ready = False
        self._ready_lock = threading.Lock()

    def _prepare(self) -> None:
        """Migrate and make the tool's first key, once, on the first request that needs them."""
        with self._ready_lock:
            if not self._ready:
                with LtiStore(self.settings.app_database) as store:
                    ensure_tool_key(store)
                self._ready = True

    def connections(self) -> _Connections:
        """This thread's app database and LTI store."""
        connections = getattr(self._local, "connections", None)
        if connections is None:
            if not self._ready:
                self._prepare()
            url = self.settings.app_database
            connections = _Connections(
                AppDatabase(url, migrate=False), LtiStore(url, migrate_schema=False)
            )
            self._local.connections = connections
        return connections

    @property
    def store(self) -> LtiStore:
        return self.connections().store

    @property
    def database(self) -> AppDatabase:
        return self.connections().database

    def frame_origins(self) -> list[str]:
        """Every registered Campus origin, for pages shown before a registration is known."""
        return [registration.frame_origin for registration in self.store.registrations()]

    def sweep_now_and_then(self) -> None:
        """Drop expired launch state and view tokens, at most once a minute."""
        now = self.clock()
        if now - self._last_sweep >= SWEEP_EVERY_SECONDS:
            self._last_sweep = now
            self.store.sweep(now, keep_used_states_seconds=self.lti.max_token_age_seconds)
