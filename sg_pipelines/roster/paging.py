"""Offset paging that trusts only what the provider actually returned.

The offset advances by the number of records a page really held, never by the requested limit:
a provider that silently caps pages at 2 while asked for 100 still yields every record. The pull
stops on an empty page or once the offset reaches `X-Total-Count`. When the first page brings a
total, the remaining offsets are known, so later pages are fetched concurrently (bounded), and a
page that comes back short has its gap fetched before the pull ends.

A total that changes between pages, or an empty page before the total is reached, makes the pull
inconsistent: its rows can be applied, but absence from it proves nothing.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Generic, TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class Fetched(Generic[T]):
    """One fetched and parsed page."""

    page: T
    record_count: int
    total: int | None


class CollectionPull(Generic[T]):
    """Iterate over the parsed pages of one collection; read the outcome once exhausted.

    Args:
        fetch: `fetch(offset, limit)` fetches and parses one page; it runs in worker threads.
        page_size: the `limit` asked for.
        concurrency: the most requests in flight at once (1 is serial). Fetched pages wait for
            the caller without bound, so a page should be a small handle (a file on disk), not a
            body in memory.
        label: the collection name, for logs.
    """

    def __init__(
        self,
        fetch: Callable[[int, int], Fetched[T]],
        *,
        page_size: int,
        concurrency: int,
        label: str,
        log: logging.Logger | logging.LoggerAdapter = logger,
    ) -> None:
        self._fetch = fetch
        self.page_size = page_size
        self.concurrency = max(1, concurrency)
        self.label = label
        self._log = log

        self.pages = 0
        self.records = 0
        self.total: int | None = None
        self.total_changed = False
        self.ended_early = False
        self.seconds = 0.0

    @property
    def consistent(self) -> bool | None:
        """True when the total held still and was reached; None when the provider sent no total."""
        if self.total is None:
            return None
        return not (self.total_changed or self.ended_early)

    def __iter__(self) -> Iterator[T]:
        started = time.monotonic()
        first = self._fetch(0, self.page_size)
        self.total = first.total
        self._count(first)
        yield first.page

        # a page holding more than asked for advances by the limit; the extras are duplicates
        # or junk, and the staged rows are de-duplicated on sourcedId anyway
        advanced = min(first.record_count, self.page_size)
        if first.total is None:
            yield from self._serially(advanced)
        elif first.record_count == 0:
            self.ended_early = first.total > 0
        else:
            yield from self._by_known_offsets(advanced, first.total)

        self.seconds = time.monotonic() - started
        self._log.info(
            "/%s: %d records in %d pages in %.1fs (total reported %s, consistent %s)",
            self.label,
            self.records,
            self.pages,
            self.seconds,
            self.total,
            self.consistent,
        )

    def _count(self, fetched: Fetched[T]) -> None:
        self.pages += 1
        self.records += fetched.record_count
        if fetched.total is not None and self.total is not None and fetched.total != self.total:
            self.total_changed = True

    def _serially(self, offset: int) -> Iterator[T]:
        """Without a total, page until the provider returns an empty page."""
        while True:
            fetched = self._fetch(offset, self.page_size)
            self._count(fetched)
            if fetched.record_count == 0:
                return
            yield fetched.page
            offset += min(fetched.record_count, self.page_size)

    def _by_known_offsets(self, first_count: int, total: int) -> Iterator[T]:
        """Fetch `[first_count, total)` in page-sized ranges, a bounded number at a time."""
        step = first_count  # what the provider really serves per page, whatever we asked
        ranges = deque(
            (start, min(start + step, total)) for start in range(first_count, total, step)
        )

        with ThreadPoolExecutor(
            self.concurrency, thread_name_prefix=f"oneroster-{self.label}"
        ) as pool:
            in_flight: dict[Future[Fetched[T]], tuple[int, int]] = {}
            try:
                while ranges or in_flight:
                    # the pool runs `concurrency` at a time and keeps fetching while the
                    # caller stages; pages are files, so waiting ones cost disk, not memory
                    while ranges:
                        start, end = ranges.popleft()
                        limit = min(self.page_size, end - start)
                        in_flight[pool.submit(self._fetch, start, limit)] = (start, end)

                    done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                    for future in done:
                        start, end = in_flight.pop(future)
                        fetched = future.result()
                        self._count(fetched)
                        if fetched.record_count == 0:
                            self.ended_early = True
                            continue
                        if fetched.record_count < end - start:
                            # a short page inside the total: fetch the rest of its range
                            ranges.appendleft((start + fetched.record_count, end))
                        yield fetched.page
            finally:
                for future in in_flight:
                    future.cancel()
