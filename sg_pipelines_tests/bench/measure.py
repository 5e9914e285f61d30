"""Run one contender in a fresh Python process and measure it from outside.

Each contender gets its own interpreter so that its peak resident memory is its own: the parent
reaps the child with `os.wait4`, whose resource usage holds the child's high-water mark
(`ru_maxrss`, KiB on Linux). Wall time and CPU time are measured by the child around the work
itself, so interpreter start-up and imports are not counted; they do count toward peak memory,
as they would in a Dagster run process. The sandbox's CPU time over the child's run is read
from its process, so each contender's whole cost to the machine shows next to its wall time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx
import psutil

CONTENDER_MODULE = "sg_pipelines_tests.bench.contender"


@dataclass(frozen=True)
class Target:
    """Where the contenders pull from, and how."""

    root_url: str
    base_url: str
    token_url: str
    client_id: str
    client_secret: str
    collections: tuple[str, ...]
    page_size: int
    concurrency: int


@dataclass
class Measurement:
    """What one contender did: rows per collection, wall seconds, CPU seconds and peak RSS, and
    what the sandbox saw of it: collection requests, the most in flight at once, its busy
    seconds and the CPU seconds it spent meanwhile."""

    contender: str
    records: dict[str, int]
    seconds: float
    peak_rss_mb: float
    requests: int
    max_in_flight: int
    server_seconds: float
    cpu_seconds: float = 0.0
    server_cpu_seconds: float = 0.0
    details: dict[str, object] = field(default_factory=dict)

    @property
    def total_records(self) -> int:
        return sum(self.records.values())

    @property
    def records_per_second(self) -> float:
        return self.total_records / self.seconds if self.seconds else 0.0


def run_contender(
    contender: str,
    target: Target,
    workdir: Path,
    *,
    profile: Path | None = None,
    server_pid: int | None = None,
) -> Measurement:
    """Run `contender` (floor, sync, delta or dlt) in a child process and measure it.

    Args:
        contender: name understood by `sg_pipelines_tests.bench.contender`.
        target: the sandbox to pull from and the paging knobs.
        workdir: a directory the contender may keep state in (the sync's warehouse lives here,
            so a `delta` run after a `sync` run in the same workdir is a true delta).
        profile: when given, the child runs under py-spy (from the venv) and writes its samples
            here: a flame graph for `.svg`, collapsed stacks (`--format raw`) otherwise.
        server_pid: the sandbox's process, whose CPU time over the child's run is measured.
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
        py_spy = Path(sys.executable).with_name("py-spy")
        if not py_spy.exists():
            raise RuntimeError(
                f"--profile needs py-spy next to {sys.executable}: pip install py-spy"
            )
        output = "flamegraph" if profile.suffix == ".svg" else "raw"
        command = [str(py_spy), "record", "--format", output, "-o", str(profile), "--", *command]

    httpx.delete(f"{target.root_url}/sandbox/requests", timeout=30).raise_for_status()

    server = psutil.Process(server_pid) if server_pid is not None else None
    server_before = _cpu(server)
    # wait4 rather than Popen.wait: only wait4 hands back this child's own rusage.
    child = subprocess.Popen(command)
    _, status, usage = os.wait4(child.pid, 0)
    server_cpu = _cpu(server) - server_before
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise RuntimeError(f"contender {contender} exited with {child.returncode}")

    result = json.loads(result_path.read_text(encoding="utf-8"))
    result_path.unlink()
    served = httpx.get(f"{target.root_url}/sandbox/requests", timeout=60).json()
    pages = [entry for entry in served["requests"] if entry["method"] == "GET"]
    return Measurement(
        contender=contender,
        records=result["records"],
        seconds=result["seconds"],
        peak_rss_mb=usage.ru_maxrss / 1024,
        requests=len(pages),
        max_in_flight=served["max_concurrency"],
        server_seconds=sum(entry["duration_seconds"] for entry in pages),
        cpu_seconds=result.get("cpu_seconds", 0.0),
        server_cpu_seconds=server_cpu,
        details=result.get("details", {}),
    )


def _cpu(process: psutil.Process | None) -> float:
    if process is None:
        return 0.0
    times = process.cpu_times()
    return times.user + times.system
