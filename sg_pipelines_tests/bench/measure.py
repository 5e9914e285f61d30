"""Run one contender in a fresh Python process and measure it from outside.

Each contender gets its own interpreter so that its peak resident memory is its own: the parent
reaps the child with `os.wait4`, whose resource usage holds the child's high-water mark
(`ru_maxrss`, KiB on Linux). Wall time is measured by the child around the work itself, so
interpreter start-up and imports are not counted; they do count toward peak memory, as they
would in a Dagster run process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

CONTENDER_MODULE = "sg_pipelines_tests.bench.contender"


@dataclass(frozen=True)
class Target:
    """Where the contenders pull from, and how."""

    base_url: str
    token_url: str
    client_id: str
    client_secret: str
    collections: tuple[str, ...]
    page_size: int
    concurrency: int


@dataclass
class Measurement:
    """What one contender did: rows per collection, wall seconds, requests, peak RSS."""

    contender: str
    records: dict[str, int]
    seconds: float
    requests: int
    peak_rss_mb: float
    details: dict[str, object] = field(default_factory=dict)

    @property
    def total_records(self) -> int:
        return sum(self.records.values())

    @property
    def records_per_second(self) -> float:
        return self.total_records / self.seconds if self.seconds else 0.0


def run_contender(
    contender: str, target: Target, workdir: Path, *, profile: Path | None = None
) -> Measurement:
    """Run `contender` (floor, sync, delta or dlt) in a child process and measure it.

    Args:
        contender: name understood by `sg_pipelines_tests.bench.contender`.
        target: the sandbox to pull from and the paging knobs.
        workdir: a directory the contender may keep state in (the sync's warehouse lives here,
            so a `delta` run after a `sync` run in the same workdir is a true delta).
        profile: when given, the child runs under py-spy and writes a flame graph here.
    """
    with tempfile.NamedTemporaryFile(suffix=".json", dir=workdir, delete=False) as handle:
        result_path = Path(handle.name)

    command = [
        sys.executable,
        "-m",
        CONTENDER_MODULE,
        contender,
        "--target",
        json.dumps(asdict(target)),
        "--workdir",
        str(workdir),
        "--result",
        str(result_path),
    ]
    if profile is not None:
        command = ["py-spy", "record", "--subprocesses", "-o", str(profile), "--", *command]

    # wait4 rather than Popen.wait: only wait4 hands back this child's own rusage.
    child = subprocess.Popen(command)
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise RuntimeError(f"contender {contender} exited with {child.returncode}")

    result = json.loads(result_path.read_text(encoding="utf-8"))
    result_path.unlink()
    return Measurement(
        contender=contender,
        records=result["records"],
        seconds=result["seconds"],
        requests=result["requests"],
        peak_rss_mb=usage.ru_maxrss / 1024,
        details=result.get("details", {}),
    )
