"""Apply OneRoster pulls to the warehouse: staging, then one merge transaction per collection.

A collection that fails to pull leaves its table exactly as the last good sync left it. Rows
are never deleted: `tobedeleted` deactivates, and absence deactivates only after a complete,
consistent full pull; both only when together they would not deactivate more than the
configured share of a population's active rows (for users: students, and everyone else apiece);
otherwise every deactivation of the collection is withheld and recorded.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

import duckdb

from sg_pipelines.roster.client import OneRosterClient
from sg_pipelines.roster.collections import COLLECTIONS, DEMOGRAPHICS, USERS, Collection
from sg_pipelines.roster.errors import ForbiddenError, RosterError
from sg_pipelines.roster.page_files import PageFile, PageFiles
from sg_pipelines.roster.paging import CollectionPull
from sg_pipelines.roster.queries import query, statements
from sg_pipelines.roster.staging import (
    BatchStaging,
    clear_rejects,
    create_staging,
    drop_staging,
    ensure_schema,
    record_staged_warnings,
    restage_exact,
    stage_batch,
    stage_pages,
    stage_uncertain,
)
from sg_pipelines.settings import RosterSettings

logger = logging.getLogger(__name__)

Mode = Literal["full", "delta"]
PULL_ATTEMPTS = 3  # the first pull plus up to two re-pulls when the total moves mid-pull
# page files staged per query: DuckDB runs each query on one thread, so
# `Collection.staging_workers` of them run at once; planning one costs 15-30 ms, and a query
# reads its pages one at a time, so larger batches cost no memory (at 50,000 students 48 MB
# took a full sync from 12.5 to 10.4 s next to 8 MB, 24 MB 10.8 s, 96 MB no better)
BATCH_BYTES = 48 * 1024 * 1024
# DuckDB's own limit while a collection syncs (it spills past it); its default, 80% of RAM, lets
# the buffer pool keep every block it touched and a 50,000-student sync peak near 1 GB
MEMORY_LIMIT_MB = 256
# but a staging query parses a whole page at once, which a limit cannot spill: about 13 KB a
# user record (a 10,000-record page of users holds 132 MB), so larger pages raise the limit
# rather than fail every sync (50,000 a page, which the settings allow, needs about 650 MB)
STAGING_KB_PER_RECORD = 20
STUDENT_SCOPE = "list_contains(current.role_names, 'student')"
# staged rows up to this share of the table are merged by rewriting them (sql/merge_rewrite.sql):
# at 1% of 632,088 enrollments that takes half the time of the UPDATE, at 5% about the same
REWRITE_SHARE = 0.02
# the latest staged record of each sourcedId, when the pull sent one more than once
LATEST_PER_SOURCED_ID = (
    "QUALIFY row_number() OVER "
    "(PARTITION BY sourced_id ORDER BY date_last_modified DESC NULLS LAST) = 1"
)


@dataclass(frozen=True)
class SyncRun:
    """One sync (one Dagster run): its id, resolved mode and start."""

    sync_id: str
    mode: Mode
    started_at: datetime
    window_start: datetime | None
    lookback_seconds: int


@dataclass(frozen=True)
class CollectionResult:
    """What one collection's sync did, as recorded in `roster_sync_collections`."""

    collection: str
    status: Literal["complete", "failed", "forbidden"]
    mode: Mode
    fetched: int = 0
    upserted: int = 0
    rejected: int = 0
    warnings: int = 0
    deactivated: int = 0
    deactivations_withheld: int = 0
    total_reported: int | None = None
    consistent: bool | None = None
    seconds: float = 0.0  # pulling and staging (of the last attempt)
    error: str | None = None


def utc_now() -> datetime:
    return datetime.now(UTC)


def to_utc(value: datetime) -> datetime:
    """Any aware datetime in UTC; a naive one is taken to be UTC already."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def delta_filter(cursor: datetime, lookback_seconds: int) -> str:
    """`dateLastModified>'…'`: changes since the cursor minus an explicit lookback, in UTC."""
    since = to_utc(cursor) - timedelta(seconds=lookback_seconds)
    return f"dateLastModified>'{since.strftime('%Y-%m-%dT%H:%M:%SZ')}'"


def begin_sync(
    conn: duckdb.DuckDBPyConnection,
    sync_id: str,
    requested_mode: Mode,
    *,
    lookback_seconds: int,
    now: datetime | None = None,
) -> SyncRun:
    """Open (or rejoin) the sync-log row of `sync_id`.

    A delta with no earlier complete full pull of users runs as a full sync. Another sync still
    'running' was stopped before it finished (one writer at a time), so it is marked
    'interrupted'.
    """
    ensure_schema(conn)
    now = now or utc_now()
    mark_interrupted(conn, now, keep=sync_id)
    existing = conn.execute(
        "SELECT mode, started_at, window_start FROM roster_sync_log WHERE sync_id = ?", [sync_id]
    ).fetchall()
    if existing:
        mode, started_at, window_start = existing[0]
        return SyncRun(sync_id, mode, started_at, window_start, lookback_seconds)

    mode: Mode = requested_mode
    window_start = None
    if requested_mode == "delta":
        cursor = collection_cursor(conn, USERS, sync_id)
        if cursor is None:
            mode = "full"
        else:
            window_start = cursor - timedelta(seconds=lookback_seconds)
    conn.execute(
        "INSERT INTO roster_sync_log (sync_id, mode, window_start, window_end, started_at, status)"
        " VALUES (?, ?, ?, ?, ?, 'running')",
        [sync_id, mode, window_start, now, now],
    )
    return SyncRun(sync_id, mode, now, window_start, lookback_seconds)


def mark_interrupted(
    conn: duckdb.DuckDBPyConnection, now: datetime, *, keep: str | None = None
) -> None:
    """Mark every sync still 'running' (but `keep`) as 'interrupted': it was stopped before it
    finished, as only one sync writes at a time."""
    conn.execute(
        "UPDATE roster_sync_log SET status = 'interrupted', finished_at = ?, "
        "message = coalesce(message, 'stopped before it finished') "
        "WHERE status = 'running' AND sync_id IS DISTINCT FROM ?",
        [now, keep],
    )


def collection_cursor(
    conn: duckdb.DuckDBPyConnection, collection: Collection, sync_id: str
) -> datetime | None:
    """The newest `dateLastModified` from complete pulls, once a full pull has completed."""
    row = conn.execute(
        """
        SELECT max(cursor), bool_or(mode = 'full')
        FROM roster_sync_collections
        WHERE collection = ? AND status = 'complete' AND sync_id <> ?
        """,
        [collection.name, sync_id],
    ).fetchall()[0]
    if not row[1] or row[0] is None:
        return None
    return to_utc(row[0])


def sync_collection(
    conn: duckdb.DuckDBPyConnection,
    client: OneRosterClient,
    collection: Collection,
    run: SyncRun,
    rules: RosterSettings,
    *,
    confirm_mass_deactivation: bool = False,
    log: logging.Logger | logging.LoggerAdapter = logger,
) -> CollectionResult:
    """Pull one collection into staging and merge it; a failed pull changes nothing."""
    with _memory_limit(conn, memory_limit_mb(client.page_size)):
        return _sync_collection(
            conn, client, collection, run, rules, confirm_mass_deactivation, log
        )


def memory_limit_mb(page_size: int) -> int:
    """DuckDB's memory limit for a collection's sync, in MB, for pages of `page_size` records."""
    return max(MEMORY_LIMIT_MB, page_size * STAGING_KB_PER_RECORD // 1000)


@contextmanager
def _memory_limit(conn: duckdb.DuckDBPyConnection, limit_mb: int) -> Iterator[None]:
    (previous,) = conn.execute("SELECT current_setting('memory_limit')").fetchall()[0]
    conn.execute(f"SET memory_limit = '{limit_mb}MB'")
    try:
        yield
    finally:
        conn.execute(f"SET memory_limit = '{previous}'")


def _sync_collection(
    conn: duckdb.DuckDBPyConnection,
    client: OneRosterClient,
    collection: Collection,
    run: SyncRun,
    rules: RosterSettings,
    confirm_mass_deactivation: bool,
    log: logging.Logger | logging.LoggerAdapter,
) -> CollectionResult:
    ensure_schema(conn)
    cursor = collection_cursor(conn, collection, run.sync_id) if run.mode == "delta" else None
    mode: Mode = "delta" if cursor is not None else "full"
    window_start = cursor - timedelta(seconds=run.lookback_seconds) if cursor else None
    filter = delta_filter(cursor, run.lookback_seconds) if cursor else None

    # pull into staging, again if the total moved
    try:
        pull = None
        for attempt in range(1, PULL_ATTEMPTS + 1):
            create_staging(conn, collection)
            clear_rejects(conn, run.sync_id, collection)
            with PageFiles(collection) as page_files:
                started = time.monotonic()
                pull = client.pull(collection.name, page_files, filter=filter)
                _stage(conn, collection, pull, run, log)
                # staging runs on after the last page arrives, so the pull's own clock is short
                seconds = time.monotonic() - started
            if pull.consistent is not False:
                break
            log.warning(
                "/%s: X-Total-Count changed or pages ended early (pull %d of %d)",
                collection.name,
                attempt,
                PULL_ATTEMPTS,
            )
    except RosterError as error:
        drop_staging(conn, collection)
        result = _failed(conn, collection, run, mode, error)
        record_collection(conn, run, result, window_start, cursor=None)
        log.error("/%s: %s (%s sync kept the last good state)", collection.name, error, mode)
        return result

    assert pull is not None
    try:
        result = _merge(
            conn,
            collection,
            run,
            rules,
            mode,
            window_start,
            pull,
            seconds,
            confirm_mass_deactivation,
            log,
        )
    finally:
        drop_staging(conn, collection)
    return result


def _stage(
    conn: duckdb.DuckDBPyConnection,
    collection: Collection,
    pull: CollectionPull[PageFile],
    run: SyncRun,
    log: logging.Logger | logging.LoggerAdapter,
) -> None:
    """Stage the pull's page files in batches while later pages are still being fetched."""
    if not collection.staged_in_sql:
        for page in pull:
            stage_pages(conn, collection, [page], run.sync_id, run.started_at)
            page.path.unlink()
        return

    batch: list[PageFile] = []
    with ExitStack() as stack:
        staging: BatchStaging | None = None
        for page in pull:
            batch.append(page)
            if sum(item.size for item in batch) >= BATCH_BYTES:  # a batch is a few pages
                if staging is None:
                    staging = stack.enter_context(
                        BatchStaging(conn, collection, workers=collection.staging_workers)
                    )
                staging.submit(batch)
                batch = []
        if batch and staging is not None:
            staging.submit(batch)
        elif batch:
            # a pull of one small batch (a delta) is staged here: no workers to start
            stage_batch(conn, collection, batch)
    by_exact = restage_exact(conn, collection)
    by_model = stage_uncertain(conn, collection, run.sync_id, run.started_at)
    record_staged_warnings(conn, collection, run.sync_id, run.started_at)
    log.info(
        "/%s: %d of %d records staged by SQL (%d read again as JSON), %d by the model",
        collection.name,
        pull.records - by_model,
        pull.records,
        by_exact,
        by_model,
    )


def _failed(
    conn: duckdb.DuckDBPyConnection,
    collection: Collection,
    run: SyncRun,
    mode: Mode,
    error: RosterError,
) -> CollectionResult:
    if isinstance(error, ForbiddenError):
        if collection is DEMOGRAPHICS:
            # keep what we had, but say it may be out of date
            conn.execute("UPDATE oneroster_demographics SET stale = true")
        return CollectionResult(collection.name, "forbidden", mode, error=str(error))
    return CollectionResult(collection.name, "failed", mode, error=str(error))


def _merge(
    conn: duckdb.DuckDBPyConnection,
    collection: Collection,
    run: SyncRun,
    rules: RosterSettings,
    mode: Mode,
    window_start: datetime | None,
    pull: CollectionPull[PageFile],
    seconds: float,
    confirm_mass_deactivation: bool,
    log: logging.Logger | logging.LoggerAdapter,
) -> CollectionResult:
    params = {"sync_id": run.sync_id, "now": run.started_at}
    staged, rows, cursor = conn.execute(
        "SELECT count(DISTINCT sourced_id), count(*), max(date_last_modified) "
        f"FROM {collection.staging_table}"
    ).fetchall()[0]
    (existing,) = conn.execute(f"SELECT count(*) FROM {collection.table}").fetchall()[0]
    rejected, anonymous = conn.execute(
        "SELECT count(*), count(*) FILTER (WHERE sourced_id IS NULL) FROM roster_quarantine"
        " WHERE sync_id = ? AND collection = ?",
        [run.sync_id, collection.name],
    ).fetchall()[0]
    (warnings,) = conn.execute(
        "SELECT count(*) FROM roster_warnings WHERE sync_id = ? AND collection = ?",
        [run.sync_id, collection.name],
    ).fetchall()[0]

    conn.execute("BEGIN TRANSACTION")
    try:
        active_before = _active_by_scope(conn, collection) if existing else []
        if existing:
            _mark_tobedeleted(conn, collection, dedupe=rows > staged)
        rewrite = staged <= existing * REWRITE_SHARE
        for statement in merge_sql(collection, dedupe=rows > staged, rewrite=rewrite):
            conn.execute(statement, {key: params[key] for key in params if f"${key}" in statement})
        if collection is DEMOGRAPHICS:
            conn.execute(
                f"UPDATE oneroster_demographics SET stale = false WHERE sourced_id IN "
                f"(SELECT sourced_id FROM {collection.staging_table})"
            )

        # absence counts only inside a complete, consistent full pull
        absence = mode == "full" and bool(pull.consistent) and not anonymous
        deactivated = withheld = 0
        if existing:  # into an empty table nothing is absent or deactivated
            deactivated, withheld = _guard_deactivations(
                conn,
                collection,
                run,
                rules,
                active_before,
                absence=absence,
                confirmed=confirm_mass_deactivation,
                log=log,
            )
        if mode == "full" and not absence:
            log.warning(
                "/%s: absence-based deactivation skipped (consistent=%s, unreadable records "
                "without sourcedId=%d)",
                collection.name,
                pull.consistent,
                anonymous,
            )

        result = CollectionResult(
            collection.name,
            "complete",
            mode,
            fetched=pull.records,
            upserted=staged,
            rejected=rejected,
            warnings=warnings,
            deactivated=deactivated,
            deactivations_withheld=withheld,
            total_reported=pull.total,
            consistent=pull.consistent,
            seconds=seconds,
        )
        # an inconsistent pull may have skipped records, so it does not move the cursor; nor
        # does a record stamped after this sync began (a provider clock ahead, or a bad stamp),
        # which would otherwise hide every later change from the delta filter
        if cursor is not None:
            cursor = min(to_utc(cursor), to_utc(run.started_at))
        record_collection(
            conn, run, result, window_start, cursor=cursor if pull.consistent is not False else None
        )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise

    log.info(
        "/%s: %s sync upserted %d, rejected %d, warned %d, deactivated %d, withheld %d",
        collection.name,
        mode,
        staged,
        rejected,
        warnings,
        deactivated,
        withheld,
    )
    return result


def merge_sql(collection: Collection, *, dedupe: bool = True, rewrite: bool = False) -> list[str]:
    """The statements of `sql/merge.sql` for a collection.

    Args:
        dedupe: sourcedIds repeat in the staging table.
        rewrite: the rows already there are rewritten (`sql/merge_rewrite.sql`), not updated.
    """
    staged = ", ".join(
        f"{name}::VARCHAR[] AS {name}" if name in collection.list_columns else name
        for name in collection.columns
    )
    updates = ",\n    ".join(
        f"{name} = staged.{name}" for name in collection.columns if name != "sourced_id"
    )
    replacements = ",\n    ".join(
        f"staged.{name} AS {name}" for name in collection.columns if name != "sourced_id"
    )
    update, insert = statements("merge")
    if rewrite:
        *rewrite_rows, drop = statements("merge_rewrite")
        ordered = [*rewrite_rows, insert, drop]
        absent = "sourced_id NOT IN (SELECT sourced_id FROM roster_rewritten)"
    else:
        ordered = [update, insert]
        absent = (
            f"NOT EXISTS (SELECT 1 FROM {collection.table} AS current"
            " WHERE current.sourced_id = staged.sourced_id)"
        )
    return [
        statement.format(
            table=collection.table,
            staging_table=collection.staging_table,
            columns=", ".join(collection.columns),
            staged_columns=staged,
            updates=updates,
            replacements=replacements,
            dedupe=LATEST_PER_SOURCED_ID if dedupe else "",
            absent=absent,
        )
        for statement in ordered
    ]


def _guard_scopes(collection: Collection) -> list[tuple[str, str]]:
    """(name, SQL test on `current`) of the populations the threshold is measured on apiece:
    for users, students and everyone else (guardians, contacts, staff), so a pull that loses
    every guardian is caught even when every student is there."""
    if collection is USERS:
        return [("students", STUDENT_SCOPE), ("other users", f"NOT {STUDENT_SCOPE}")]
    return [("rows", "true")]


def _active_by_scope(conn: duckdb.DuckDBPyConnection, collection: Collection) -> list[int]:
    counts = ", ".join(f"count(*) FILTER (WHERE {test})" for _, test in _guard_scopes(collection))
    return list(
        conn.execute(
            f"SELECT {counts} FROM {collection.table} AS current WHERE current.is_active"
        ).fetchall()[0]
    )


def _mark_tobedeleted(
    conn: duckdb.DuckDBPyConnection, collection: Collection, *, dedupe: bool
) -> None:
    """`roster_tobedeleted`: active rows whose latest staged record deactivates them, with the
    populations each belongs to; taken before the upsert applies them."""
    scopes = _guard_scopes(collection)
    flags = ", ".join(f"{test} AS in_scope_{i}" for i, (_, test) in enumerate(scopes))
    latest = LATEST_PER_SOURCED_ID if dedupe else ""
    conn.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE roster_tobedeleted AS
        SELECT current.sourced_id, {flags}
        FROM {collection.table} AS current
        JOIN (SELECT sourced_id, status FROM {collection.staging_table} {latest}) AS staged
            ON staged.sourced_id = current.sourced_id
        WHERE current.is_active AND staged.status <> 'active'
        """
    )


def _guard_deactivations(
    conn: duckdb.DuckDBPyConnection,
    collection: Collection,
    run: SyncRun,
    rules: RosterSettings,
    active_before: list[int],
    *,
    absence: bool,
    confirmed: bool,
    log: logging.Logger | logging.LoggerAdapter,
) -> tuple[int, int]:
    """Apply this sync's deactivations, `tobedeleted` and (in a complete, consistent full pull)
    absence, unless they would deactivate more than the threshold's share of any population's
    active rows (and more than the floor's count); then withhold them all, `tobedeleted`
    included, until a person confirms. Returns (deactivated, withheld)."""
    scopes = _guard_scopes(collection)
    flags = ", ".join(f"{test} AS in_scope_{i}" for i, (_, test) in enumerate(scopes))
    if absence:
        conn.execute(
            query("deactivate_absent").format(
                table=collection.table, staging_table=collection.staging_table, flags=flags
            ),
            {"sync_id": run.sync_id, "collection": collection.name},
        )
    counts = ", ".join(f"count(*) FILTER (WHERE in_scope_{i})" for i in range(len(scopes)))
    losing = [0] * len(scopes)
    tables = ["roster_tobedeleted", *(["roster_absent"] if absence else [])]
    for table in tables:
        row = conn.execute(f"SELECT {counts} FROM {table}").fetchall()[0]
        losing = [total + count for total, count in zip(losing, row, strict=True)]
    (tobedeleted,) = conn.execute("SELECT count(*) FROM roster_tobedeleted").fetchall()[0]
    absent = conn.execute("SELECT count(*) FROM roster_absent").fetchall()[0][0] if absence else 0

    over = [
        (name, lost, active)
        for (name, _), lost, active in zip(scopes, losing, active_before, strict=True)
        if lost > rules.deactivation_floor and lost / active > rules.deactivation_threshold
    ]
    if over and not confirmed:
        for name, lost, active in over:
            log.error(
                "/%s: this sync would deactivate %d of %d active %s (%.0f%% > %.0f%% "
                "threshold); withholding %d deactivations until confirmed",
                collection.name,
                lost,
                active,
                name,
                lost / active * 100,
                rules.deactivation_threshold * 100,
                absent + tobedeleted,
            )
        # the upsert applied `tobedeleted`; put those rows back as they were
        conn.execute(
            f"""
            UPDATE {collection.table}
            SET is_active = true, deactivated_at = NULL, deactivation_reason = NULL
            WHERE sourced_id IN (SELECT sourced_id FROM roster_tobedeleted)
            """
        )
        return 0, absent + tobedeleted

    if absence:
        conn.execute(
            f"""
            UPDATE {collection.table}
            SET is_active = false, deactivated_at = $now, deactivation_reason = 'absent',
                last_sync_id = $sync_id
            WHERE sourced_id IN (SELECT sourced_id FROM roster_absent)
            """,
            {"sync_id": run.sync_id, "now": run.started_at},
        )
    return absent + tobedeleted, 0


def record_collection(
    conn: duckdb.DuckDBPyConnection,
    run: SyncRun,
    result: CollectionResult,
    window_start: datetime | None,
    *,
    cursor: datetime | None,
) -> None:
    """Write the collection's row of `roster_sync_collections` and refresh the sync log."""
    conn.execute(
        """
        INSERT OR REPLACE INTO roster_sync_collections
        VALUES ($sync_id, $collection, $mode, $window_start, $status, $fetched, $upserted,
                $rejected, $warnings, $deactivated, $withheld, $total, $consistent, $cursor,
                $seconds, $error)
        """,
        {
            "sync_id": run.sync_id,
            "collection": result.collection,
            "mode": result.mode,
            "window_start": window_start,
            "status": result.status,
            "fetched": result.fetched,
            "upserted": result.upserted,
            "rejected": result.rejected,
            "warnings": result.warnings,
            "deactivated": result.deactivated,
            "withheld": result.deactivations_withheld,
            "total": result.total_reported,
            "consistent": result.consistent,
            "cursor": cursor,
            "seconds": result.seconds,
            "error": result.error,
        },
    )
    _refresh_sync_log(conn, run.sync_id, final=False)


def _refresh_sync_log(conn: duckdb.DuckDBPyConnection, sync_id: str, *, final: bool) -> None:
    conn.execute(
        query("refresh_sync_log"),
        {"sync_id": sync_id, "final": final, "expected": list(COLLECTIONS)},
    )


def finish_sync(
    conn: duckdb.DuckDBPyConnection, sync_id: str, now: datetime | None = None
) -> tuple[str, str]:
    """Close the sync-log row: status complete, partial or failed, and a message to act on."""
    ensure_schema(conn)
    _refresh_sync_log(conn, sync_id, final=True)
    conn.execute(
        "UPDATE roster_sync_log SET finished_at = ? WHERE sync_id = ?", [now or utc_now(), sync_id]
    )
    rows = conn.execute(
        "SELECT status, message FROM roster_sync_log WHERE sync_id = ?", [sync_id]
    ).fetchall()
    return rows[0] if rows else ("failed", "no sync was started")
