"""Child-process entry point: run one contender and write what it measured as JSON.

`python -m sg_pipelines_tests.bench.contender {floor,sync,delta,dlt} --target JSON
--workdir DIR --result FILE`. Started by `measure.run_contender`, one fresh process per run.
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
from pathlib import Path

from sg_pipelines_tests.bench.measure import Target

CONTENDERS = ("floor", "sync", "delta", "dlt")


def run(contender: str, target: Target, workdir: Path) -> dict[str, object]:
    # Imports stay inside the branches: a contender's peak memory holds only its own modules.
    if contender == "floor":
        from sg_pipelines_tests.bench.floor import run_floor

        return run_floor(target)
    if contender == "dlt":
        from sg_pipelines_tests.bench.dlt_load import run_dlt

        return run_dlt(target, workdir)

    from sg_pipelines_tests.bench.roster_run import run_roster_sync

    return run_roster_sync(target, workdir, full=contender == "sync")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("contender", choices=CONTENDERS)
    parser.add_argument("--target", required=True, help="the Target as JSON")
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--result", type=Path, required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")

    fields = json.loads(args.target)
    target = Target(**{**fields, "collections": tuple(fields["collections"])})
    before = resource.getrusage(resource.RUSAGE_SELF)
    result = run(args.contender, target, args.workdir)
    after = resource.getrusage(resource.RUSAGE_SELF)
    # every thread's CPU (DuckDB's too) around the work, imports left out as for `seconds`
    result["cpu_seconds"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    args.result.write_text(json.dumps(result), encoding="utf-8")


if __name__ == "__main__":
    main()
