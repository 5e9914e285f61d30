"""`sg-pipelines demo` and `ui` as a newcomer runs them: one line per problem, nothing stale."""

import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

from sg_pipelines.demo_home import hold_demo_home
from sg_pipelines.sandbox.generator import generate_district

COMMAND = [sys.executable, "-c", "from sg_pipelines.cli import run; run()"]


def sg_pipelines(*args, **env):
    return subprocess.run(
        [*COMMAND, *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def sample_home(tmp_path_factory):
    """The sample's demo, run as a newcomer runs it again after exporting the `SG_HOME` it named."""
    home = tmp_path_factory.mktemp("demo") / "home"
    result = sg_pipelines("demo", "--csv-sample", SG_HOME=str(home))
    assert result.returncode == 0, result.stderr
    return home, result.stdout


def test_the_sample_summary_counts_in_words_that_agree(sample_home):
    _, output = sample_home

    assert "8 students served" in output
    assert "1 student from an older integration" in output
    assert "1 name-and-birth-date-only look-alike)" in output
    assert "1 students" not in output
    assert f"SG_HOME={sample_home[0]} .venv/bin/sg-pipelines ui\n" in output


def test_with_sg_home_set_the_demo_and_status_use_that_very_folder(sample_home):
    home, output = sample_home

    assert output.startswith(f"Starting the Campus sandbox and syncing into {home} ...\n")
    assert (home / "warehouse.duckdb").exists()
    assert not (home / "demo").exists()
    status = sg_pipelines("status", SG_HOME=str(home))
    assert status.returncode == 0, status.stderr
    assert status.stdout.startswith(f"Warehouse: {home / 'warehouse.duckdb'}\n")


def test_csv_sample_refuses_a_student_count_it_would_ignore(tmp_path):
    result = sg_pipelines("demo", "--csv-sample", "--students", "10", "--home", str(tmp_path))

    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: --csv-sample serves the sample's own 8 students; drop --students"
    )
    assert not any(tmp_path.iterdir())


def test_a_failed_night_names_its_step_and_error_and_no_earlier_run_survives(sample_home):
    home, _ = sample_home
    planted = home / "snapshots" / "emis-20000101T000000000000Z.duckdb"
    planted.write_bytes(b"an earlier run's snapshot")

    # every request to Campus times out and is not retried: the roster steps fail
    result = sg_pipelines(
        "demo",
        "--csv-sample",
        "--home",
        str(home),
        SG_ONEROSTER__MAX_RETRIES="0",
        SG_ONEROSTER__TIMEOUT_SECONDS="0.000001",
    )

    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    failed = [line for line in result.stdout.splitlines() if "FAILED at " in line]
    assert len(failed) == 1
    assert failed[0].split("FAILED at ")[1].split(" in ")[0].endswith("Error")
    assert planted.name not in result.stdout
    assert not planted.exists()


def test_a_demo_clears_only_what_it_made_and_names_what_it_left(sample_home):
    home, _ = sample_home
    (home / "mynotes.txt").write_text("the user's own notes\n")
    (home / "exports").mkdir()
    (home / "exports" / "roster.csv").write_text("kept,too\n")
    planted = home / "snapshots" / "emis-20000101T000000000000Z.duckdb"
    planted.parent.mkdir(exist_ok=True)
    planted.write_bytes(b"an earlier run's snapshot")
    # the user's own files inside the demo's folders stay too
    (home / "snapshots" / "mine.txt").write_text("mine\n")
    (home / "dagster" / "mine.txt").write_text("mine too\n")

    result = sg_pipelines("demo", "--csv-sample", "--home", str(home))

    assert result.returncode == 0, result.stderr
    assert (home / "mynotes.txt").read_text() == "the user's own notes\n"
    assert (home / "exports" / "roster.csv").read_text() == "kept,too\n"
    assert (home / "snapshots" / "mine.txt").read_text() == "mine\n"
    assert (home / "dagster" / "mine.txt").read_text() == "mine too\n"
    assert not planted.exists()
    left = [line for line in result.stdout.splitlines() if line.startswith("Left in ")]
    assert left == [
        f"Left in {home}, as the demo did not make them: "
        "dagster/mine.txt, exports, mynotes.txt, snapshots/mine.txt"
    ]


def test_a_second_demo_or_ui_on_a_busy_home_is_refused_in_one_line(sample_home):
    home, _ = sample_home

    with hold_demo_home(home):
        demo = sg_pipelines("demo", "--csv-sample", "--home", str(home))
        ui = sg_pipelines("ui", "--home", str(home))

    for result in (demo, ui):
        assert result.returncode == 2
        assert result.stderr.strip() == (
            f"error: {home} is in use by another `sg-pipelines demo` or `sg-pipelines ui`; "
            "wait for it to end or give this one another --home"
        )
    assert (home / "warehouse.duckdb").exists(), "the refused demo cleared nothing"


def test_a_demo_refuses_a_home_that_a_running_serve_serves_and_clears_nothing(sample_home):
    home, _ = sample_home
    app_database = (home / "app.sqlite").stat()
    process, port = _start_serve(home)
    try:
        demo = sg_pipelines("demo", "--csv-sample", "--home", str(home))
        health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10)
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)

    assert demo.returncode == 2
    assert demo.stderr.strip() == (
        f"error: {home} is served by a running `sg-pipelines serve`, which would go on serving "
        "the files the demo deletes; stop it first, or give the demo another --home"
    )
    assert health.status_code == 200
    assert (home / "app.sqlite").stat().st_ino == app_database.st_ino, "the served file stayed"


def test_serve_refuses_a_home_that_a_demo_is_clearing(sample_home):
    home, _ = sample_home
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        # the port is taken, so that a serve that did not check the home ends at once
        with hold_demo_home(home, clearing=True):
            result = sg_pipelines("serve", "--port", str(taken.getsockname()[1]), SG_HOME=str(home))

    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"error: {home} is being cleared and rebuilt by `sg-pipelines demo`; "
        "wait for the demo to end"
    )


def test_ui_serves_the_district_the_demo_ran_on_and_names_a_taken_port(sample_home):
    home, _ = sample_home
    with socket.socket() as taken, socket.socket() as free:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        free.bind(("127.0.0.1", 0))
        port, sandbox_port = taken.getsockname()[1], free.getsockname()[1]
        free.close()
        result = sg_pipelines(
            "ui", "--home", str(home), "--port", str(port), "--sandbox-port", str(sandbox_port)
        )

    assert result.returncode == 2
    assert "the demo's public OneRoster 1.1 CSV sample" in result.stdout
    assert result.stderr.strip() == (
        f"error: cannot listen on 127.0.0.1:{port} (Address already in use); "
        "choose another port with --port"
    )


def test_ui_without_a_demo_refuses(tmp_path):
    result = sg_pipelines("ui", "--home", str(tmp_path))

    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"error: no demo has run in {tmp_path}; run `sg-pipelines demo` first"
    )


# Ctrl-C lands in a different place each time: in Dagster's own handler, inside a DuckDB query,
# in a fetch worker; each must end the same way
@pytest.mark.parametrize("after_seconds", [0.0, 0.7, 1.4])
def test_ctrl_c_during_the_first_night_is_one_line_and_exit_130(tmp_path, after_seconds):
    home = tmp_path / "home"
    process = subprocess.Popen(
        [*COMMAND, "demo", "--students", "2000", "--home", str(home)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while not (home / "warehouse.duckdb").exists() and process.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(after_seconds)
    os.killpg(process.pid, signal.SIGINT)
    stdout, stderr = process.communicate(timeout=120)

    assert process.returncode == 130
    assert "District:" not in stdout, "no summary of an interrupted demo"
    assert stderr.strip() == f"interrupted: the demo stopped; what it made so far is in {home}"


def test_the_demo_tells_each_step_as_it_begins_and_each_summary_as_it_ends(tmp_path):
    home = tmp_path / "home"

    result = sg_pipelines("demo", "--students", "150", "--seed", "3", "--home", str(home))

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    steps = [
        f"Starting the Campus sandbox and syncing into {home} ...",
        "Seeding the plan system with the students an older integration left behind ...",
        "Plan system before the first sync: ",
        "Running the first night (no earlier sync, so a full sync) ...",
        "District: generated district, seed 3, 151 students served ",
        "== first night (no earlier sync, so a full sync): succeeded in ",
        "Writing plan documents, as staff would, before the second night ...",
        "Plan documents written by staff before the second night: ",
        "Running the second night (21 changes) ...",
        "== second night (21 changes): succeeded in ",
        "Pushing the flags for ",
        "== flags for ",
        "Open the Dagster UI on the same data (runs, assets, checks, metadata):",
        f"  SG_HOME={home} .venv/bin/sg-pipelines ui",
        "and read what the syncs and pushes did:",
        f"  SG_HOME={home} .venv/bin/sg-pipelines status",
    ]
    found = [next(i for i, line in enumerate(lines) if line.startswith(step)) for step in steps]
    assert found == sorted(found), "each step in the order it ran"
    assert lines[-4:] == steps[-4:]
    # counts and the demo's own ids only: no student's name, Campus id or address
    for student in generate_district(students=150, seed=3).students():
        for value in (student["sourcedId"], student["familyName"], student["email"]):
            assert value not in result.stdout


def test_ctrl_c_after_the_first_night_keeps_its_summary_then_one_line_and_exit_130(tmp_path):
    home = tmp_path / "home"
    stderr_file = tmp_path / "stderr"
    with stderr_file.open("w") as stderr:
        process = subprocess.Popen(
            [*COMMAND, "demo", "--students", "150", "--seed", "3", "--home", str(home)],
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            start_new_session=True,
        )
        printed = []
        try:
            while not printed or not printed[-1].startswith("Running the second night"):
                printed.append(process.stdout.readline())
                assert printed[-1], "the demo ended before its second night"
            os.killpg(process.pid, signal.SIGINT)
            printed += process.stdout.readlines()
            process.wait(timeout=120)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)

    stdout = "".join(printed)
    assert process.returncode == 130
    assert "== first night (no earlier sync, so a full sync): succeeded in " in stdout
    assert "   links in total, by how they were made: " in stdout
    assert "== second night" not in stdout and "Open the Dagster UI" not in stdout
    assert stderr_file.read_text().strip() == (
        f"interrupted: the demo stopped; what it made so far is in {home}"
    )


def test_sigterm_to_ui_stops_dagster_and_everything_it_started(sample_home):
    import psutil

    home, _ = sample_home
    process, port, sandbox_port = _start_ui(home)
    children = psutil.Process(process.pid).children(recursive=True)
    assert children

    process.terminate()
    _, stderr = process.communicate(timeout=120)

    assert process.returncode == 143
    assert stderr.strip().endswith("terminated: the Dagster UI and the sandbox stopped")
    _, alive = psutil.wait_procs(children, timeout=30)
    assert not alive, [child.pid for child in alive]
    assert not _answers(port) and not _answers(sandbox_port)
    with hold_demo_home(home, clearing=True):
        pass  # both of the home's locks were released


def test_ui_silences_dagster_devs_dg_dev_notice_and_no_other_warning(sample_home):
    import psutil

    home, _ = sample_home
    process, _, _ = _start_ui(home, PYTHONWARNINGS="default::DeprecationWarning")
    try:
        [dagster_dev] = psutil.Process(process.pid).children()
        filters = dagster_dev.environ()["PYTHONWARNINGS"]
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=120)

    assert "superseded" not in stderr and "dg dev" not in stderr
    # the user's own filters come first, so the one added for `dagster dev` is the only change
    assert filters.split(",")[0] == "default::DeprecationWarning"
    shown = subprocess.run(
        [sys.executable, "-c", WARNINGS_OF_DAGSTER_DEV_AND_OTHERS],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": filters},
        timeout=60,
        check=True,
    ).stderr
    assert "`dev_command` is superseded" not in shown
    assert "`asset_check_of_ours` is superseded" in shown
    assert "another FutureWarning" in shown
    assert "a DeprecationWarning the user asked to see" in shown


WARNINGS_OF_DAGSTER_DEV_AND_OTHERS = """
import warnings
from dagster_shared.utils.warnings import supersession_warning
supersession_warning("Function `dev_command`", "Use 'dg dev' instead.")
supersession_warning("Function `asset_check_of_ours`", "Use something else.")
warnings.warn("another FutureWarning", FutureWarning)
warnings.warn("a DeprecationWarning the user asked to see", DeprecationWarning)
"""


def _start_ui(home, **env):
    """`sg-pipelines ui` on free ports, once its Dagster UI answers."""
    ports = []
    for _ in range(2):
        with socket.socket() as free:
            free.bind(("127.0.0.1", 0))
            ports.append(free.getsockname()[1])
    port, sandbox_port = ports
    process = subprocess.Popen(
        [
            *COMMAND,
            "ui",
            "--home",
            str(home),
            "--port",
            str(port),
            "--sandbox-port",
            str(sandbox_port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **env},
    )
    deadline = time.monotonic() + 180
    while not _answers(port):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the Dagster UI never answered"
        time.sleep(0.5)
    return process, port, sandbox_port


def _start_serve(home):
    """`sg-pipelines serve` on `home` and a free port, once it says where it serves."""
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    process = subprocess.Popen(
        [*COMMAND, "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "SG_HOME": str(home)},
    )
    assert process.stdout.readline().startswith("Serving the web side-app"), process.communicate()
    return process, port


def _answers(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0
