"""The benchmark harness end to end on a 300-student district: it must produce a full table.

No timing is asserted here; `make bench` is where numbers come from.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from sg_pipelines_tests.bench import roster_sync
from sg_pipelines_tests.bench.report import SECTION_TITLE, Run, render, write_section

HAS_DLT = importlib.util.find_spec("dlt") is not None


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    workdir = tmp_path_factory.mktemp("bench")
    args = roster_sync.parse_args(
        ["--students", "300", "--page-size", "100", "--concurrency", "3", "--repeat", "2"]
        + ([] if HAS_DLT else ["--skip-dlt"])
    )
    return roster_sync.benchmark(args, workdir)


@pytest.mark.timeout(600)
def test_every_contender_pulls_the_same_records(smoke_run: Run) -> None:
    full = ["floor", "sync", "dlt"] if HAS_DLT else ["floor", "sync"]
    counts = {name: smoke_run.measurements[name].records for name in full}

    assert counts["floor"]["users"] > 300
    assert all(records == counts["floor"] for records in counts.values()), counts


@pytest.mark.timeout(600)
def test_the_delta_pulls_the_changed_records_and_not_the_district(
    smoke_run: Run,
) -> None:
    delta = smoke_run.measurements["delta"]
    full = smoke_run.measurements["sync"]

    assert delta.details["mode"] == "delta"
    assert smoke_run.changed <= delta.total_records < full.total_records / 10


@pytest.mark.timeout(600)
def test_the_numbers_are_sane(smoke_run: Run) -> None:
    for measured in smoke_run.measurements.values():
        assert measured.seconds > 0
        assert 0 < measured.cpu_seconds < 60 * measured.seconds
        assert measured.server_cpu_seconds > 0, "the sandbox served every contender's pages"
        assert 20 < measured.peak_rss_mb < 4000
        assert 1 <= measured.max_in_flight <= 3
    assert len(smoke_run.measurements["sync"].details["runs"]) == 2
    # with 100 records a page, the paging is real: several pages per large collection
    assert smoke_run.measurements["floor"].requests > 10


@pytest.mark.timeout(600)
def test_a_rerun_replaces_its_section_and_keeps_the_others(smoke_run: Run, tmp_path: Path) -> None:
    output = tmp_path / "benchmarks.md"
    output.write_text("# Benchmarks\n\n## Other benchmark\n\nkept\n", encoding="utf-8")

    write_section(output, render(smoke_run))
    write_section(output, render(smoke_run))

    text = output.read_text(encoding="utf-8")
    assert text.count(SECTION_TITLE) == 1
    assert "## Other benchmark\n\nkept\n" in text
    for label in ("floor", "roster sync** (full)", "roster sync** (delta)", "Peak MB", "CPU s"):
        assert label in text
    assert ("dlt `rest_api`" in text) == HAS_DLT
    assert "CPU-seconds" in text
