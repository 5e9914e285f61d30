"""The badges-and-flags benchmark end to end on a 300-student district: counts that add up.

No timing is asserted here; `python -m sg_pipelines_tests.bench.flags` is where numbers come from.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from sg_pipelines.settings import PROGRAM_KEYS
from sg_pipelines_tests.bench import flags
from sg_pipelines_tests.bench.flags import FlagsRun, render, write_section

# Intervals of linked, active students as of the day: each should get one flag on night 1.
FLAGGABLE_SQL = """
SELECT b.program, count(DISTINCT (b.sourced_id, greatest(b.badge_start, $cutover), b.badge_end))
FROM program_participation_badges AS b
JOIN roster_students AS s ON s.sourced_id = b.sourced_id AND s.is_active
WHERE b.as_of_date = $day AND b.badge_start <= $day
GROUP BY b.program
"""


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("bench-flags")


@pytest.fixture(scope="module")
def smoke_run(workdir: Path) -> FlagsRun:
    return flags.benchmark(students=300, seed=7, workdir=workdir)


@pytest.fixture(scope="module")
def flaggable(smoke_run: FlagsRun, workdir: Path) -> dict[str, int]:
    [cutover] = set(smoke_run.cutovers.values())
    with duckdb.connect(str(workdir / flags.WAREHOUSE_FILE), read_only=True) as conn:
        rows = conn.execute(FLAGGABLE_SQL, {"day": smoke_run.day, "cutover": cutover}).fetchall()
    return dict(rows)


@pytest.mark.timeout(600)
def test_night_one_sets_a_flag_for_every_badge_of_a_linked_active_student(
    smoke_run: FlagsRun, flaggable: dict[str, int]
) -> None:
    night1 = smoke_run.steps["night1_deltas"].counts

    assert sum(flaggable.values()) > 50
    for program in PROGRAM_KEYS:
        deltas = night1[program]
        assert deltas["campus_flags"] == 0, program
        assert deltas["set"] + deltas["hold"] == flaggable.get(program, 0), program
        assert deltas["end"] == deltas["update"] == 0, program


@pytest.mark.timeout(600)
def test_the_benchmark_district_has_badges_that_cannot_be_flagged(smoke_run: FlagsRun) -> None:
    badges = smoke_run.steps["night1_badges"].counts

    assert sum(counts["unflaggable"] for counts in badges.values()) > 0


@pytest.mark.timeout(600)
def test_night_two_after_the_push_changes_nothing(smoke_run: FlagsRun) -> None:
    pushed = smoke_run.steps["push"].counts
    night1 = smoke_run.steps["night1_deltas"].counts
    night2 = smoke_run.steps["night2_deltas"].counts

    for program in PROGRAM_KEYS:
        assert pushed[program] == {"pushed": night1[program]["set"], "failed": 0}, program
        assert night2[program]["campus_flags"] == night1[program]["set"], program
        assert night2[program]["set"] + night2[program]["end"] + night2[program]["update"] == 0


@pytest.mark.timeout(600)
def test_every_step_reports_sane_time_and_memory(smoke_run: FlagsRun) -> None:
    assert [step for step, _, _ in flags.STEPS] == list(smoke_run.steps)
    for measured in smoke_run.steps.values():
        assert 0 < measured.seconds < 300, measured.step
        assert 20 < measured.peak_rss_mb < 4000, measured.step
    assert smoke_run.steps["night1_deltas"].parts["campus reads"] > 0


@pytest.mark.timeout(600)
def test_a_rerun_replaces_its_section_and_keeps_the_others(
    smoke_run: FlagsRun, tmp_path: Path
) -> None:
    output = tmp_path / "benchmarks.md"
    output.write_text("# Benchmarks\n\n## Roster sync\n\nkept\n", encoding="utf-8")

    write_section(output, render(smoke_run))
    write_section(output, render(smoke_run))

    text = output.read_text(encoding="utf-8")
    assert text.count(flags.SECTION_TITLE) == 1
    assert "## Roster sync\n\nkept\n" in text
    for label in ("night 1 total", "night 2 total", "Peak MB", "under 10 s", *PROGRAM_KEYS):
        assert label in text
