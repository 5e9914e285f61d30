"""The demo's home: what a demo makes there, clearing only that, and who uses the home at once.

A demo clears what it made before on every run and leaves everything else, at every level: a
file the user put in the home or in one of the demo's own folders stays, and is named. Dagster's
storage folders inside the demo's instance hold what Dagster writes there and go whole.

Two `flock`s tell who uses a home, so a command that dies releases its hold. The marker file is
held by one demo or one `ui` at a time; the home folder itself is held shared by each `ui` and
`serve` using it, and exclusively by a demo, which clears it: a server never goes on serving
files the demo deleted.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from fnmatch import fnmatchcase
from pathlib import Path

from sg_pipelines.emis.snapshot import POINTER, PREFIX, SNAPSHOT_DIR, SUFFIX

DEMO_MARKER = ".sg-pipelines-demo"
DEMO_DISTRICT = "demo-district.json"

# What a demo makes, folder by folder. Each name (a glob pattern) maps to None for a file, or a
# folder cleared whole; or to what the demo makes inside a folder of its own, where all else stays.
Made = Mapping[str, Mapping | None]

# Dagster keeps the instance's runs, events, schedules and its own notes in these folders
DAGSTER_STORAGE = ("history", "schedules", "storage", "logs", ".logs_queue", ".nux", ".telemetry")
DAGSTER_MADE: Made = {"dagster.yaml": None} | dict.fromkeys(DAGSTER_STORAGE)
# snapshots, their write-ahead logs, the pointer, and the temporary names both are written under
SNAPSHOTS_MADE: Made = dict.fromkeys(
    (
        f"{PREFIX}*{SUFFIX}",
        f"{PREFIX}*{SUFFIX}.wal",
        f".{PREFIX}*{SUFFIX}.tmp*",
        POINTER,
        f".{POINTER}.tmp",
    )
)
DEMO_MADE: Made = {
    DEMO_DISTRICT: None,
    "dagster": DAGSTER_MADE,
    SNAPSHOT_DIR: SNAPSHOTS_MADE,
    # the databases, with the files DuckDB and SQLite keep beside them
    **dict.fromkeys(
        (
            "warehouse.duckdb",
            "warehouse.duckdb.wal",
            "warehouse.duckdb.tmp",
            "app.sqlite",
            "app.sqlite-journal",
            "app.sqlite-wal",
            "app.sqlite-shm",
        )
    ),
}


class NotADemoHome(ValueError):
    """The folder holds files the demo did not make; the demo never wipes those."""


class DemoHomeBusy(ValueError):
    """Another command uses the home in a way this one cannot share (its message names it)."""


def check_demo_home(home: Path) -> None:
    """Refuse a folder the demo did not make (a district's real home, say) rather than wipe it."""
    if home.exists() and not home.is_dir():
        raise NotADemoHome(f"{home} is a file, not a folder")
    if home.exists() and any(home.iterdir()) and not (home / DEMO_MARKER).exists():
        raise NotADemoHome(
            f"{home} holds files the demo did not make; the demo clears its home on every run, "
            "so give it an empty or new folder (--home)"
        )


def clear_demo_home(home: Path) -> list[str]:
    """Delete what a demo made in `home`; returns the paths, from `home`, of all it left there."""
    return _clear(home, DEMO_MADE, keep={DEMO_MARKER})


def _clear(folder: Path, made: Made, keep: set[str] | None = None, above: str = "") -> list[str]:
    left = []
    for entry in sorted(folder.iterdir()):
        if keep and entry.name in keep:
            continue
        shown = f"{above}{entry.name}"
        pattern = next((pattern for pattern in made if fnmatchcase(entry.name, pattern)), None)
        if pattern is None:
            left.append(shown)
        elif entry.is_symlink() or not entry.is_dir():
            entry.unlink()
        elif (inside := made[pattern]) is None:
            shutil.rmtree(entry)
        elif kept := _clear(entry, inside, above=f"{shown}/"):
            left += kept
        else:
            entry.rmdir()
    return left


@contextmanager
def hold_demo_home(home: Path, *, clearing: bool = False) -> Iterator[None]:
    """Hold the demo home for one demo or one `ui` at a time; a second is refused at once.

    A demo clears the home (`clearing`), so it needs the home unused by any `serve` too; a `ui`
    shares the home with them.
    """
    home.mkdir(parents=True, exist_ok=True)
    with (home / DEMO_MARKER).open("a", encoding="utf-8") as marker:
        if not _flock(marker.fileno(), fcntl.LOCK_EX):
            raise DemoHomeBusy(
                f"{home} is in use by another `sg-pipelines demo` or `sg-pipelines ui`; "
                "wait for it to end or give this one another --home"
            )
        with hold_home(home, exclusive=clearing):
            yield


@contextmanager
def hold_home(home: Path, *, exclusive: bool = False) -> Iterator[None]:
    """Hold `home` while a command reads it (shared), or while a demo clears it (`exclusive`)."""
    home.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(home, os.O_RDONLY | os.O_DIRECTORY)
    try:
        if exclusive and not _flock(descriptor, fcntl.LOCK_EX):
            # a `ui` holds the marker as well, so what shares the home here is a `serve`
            raise DemoHomeBusy(
                f"{home} is served by a running `sg-pipelines serve`, which would go on serving "
                "the files the demo deletes; stop it first, or give the demo another --home"
            )
        if not exclusive and not _flock(descriptor, fcntl.LOCK_SH):
            raise DemoHomeBusy(
                f"{home} is being cleared and rebuilt by `sg-pipelines demo`; "
                "wait for the demo to end"
            )
        yield
    finally:
        os.close(descriptor)


def _flock(descriptor: int, operation: int) -> bool:
    """Take the lock at once; False when another holds it in a way that excludes this one."""
    try:
        fcntl.flock(descriptor, operation | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True
