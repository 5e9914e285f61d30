"""The reporting-API benchmark harness end to end on a 300-student district for a few seconds:
wrk pages through both record sets, errors are counted, and the section renders.

No latency is asserted here; `make bench-api` is where numbers come from.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sg_pipelines_tests.bench import api

pytestmark = [
    pytest.mark.timeout(600),
    pytest.mark.skipif(
        shutil.which("wrk") is None, reason="wrk is not installed (make test installs it)"
    ),
]


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> tuple[api.Load, dict, float]:
    return api.benchmark(300, 3, tmp_path_factory.mktemp("api-bench"))


def test_wrk_pulls_both_record_sets_with_no_errors(smoke: tuple[api.Load, dict, float]) -> None:
    load, direct, _ = smoke

    assert set(load.wrk) == {"ge", "fd"}
    for endpoint, result in load.wrk.items():
        assert load.totals[endpoint] > 0, endpoint
        assert result["requests"] > 10, endpoint
        assert result["good"] == result["requests"] > 0, endpoint
        assert api.errors_of(result) == 0, endpoint
        assert 0 < result["p50_us"] <= result["p99_us"] <= result["max_us"], endpoint
        # the app logged one handler line per request it answered
        assert len(load.handler[endpoint]) >= result["requests"], endpoint
    assert load.nightly_rounds > 0
    assert set(direct) == {"ge", "fd"}


def test_answers_that_are_not_records_count_as_errors(tmp_path: Path) -> None:
    load = api.Load()
    load.totals = {"ge": 5, "fd": 5}
    with api.running_app(tmp_path, 50) as served:
        api.pull(served.url, ["not-a-token"], 1, load, tmp_path)

    for endpoint, result in load.wrk.items():
        assert result["requests"] > 0, endpoint
        assert result["good"] == 0, endpoint
        assert api.errors_of(result) == result["requests"], endpoint


def test_the_section_says_whether_the_targets_were_met(
    smoke: tuple[api.Load, dict, float], tmp_path: Path
) -> None:
    load, direct, setup = smoke
    output = tmp_path / "benchmarks.md"
    output.write_text("# Benchmarks\n\n## Roster sync\n\nkept\n", encoding="utf-8")

    api.write_section(output, api.render(300, load, direct, setup))
    api.write_section(output, api.render(300, load, direct, setup))

    text = output.read_text(encoding="utf-8")
    assert text.count(api.SECTION_TITLE) == 1
    assert "## Roster sync\n\nkept\n" in text
    assert "| p99 under 100 ms |" in text
    assert "| zero errors | 0 | yes |" in text
