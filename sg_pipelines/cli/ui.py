"""`sg-pipelines ui`: the district the demo last ran on, served beside `dagster dev`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from sg_pipelines.cli.options import DemoHome, bind_or_exit, demo_home
from sg_pipelines.settings import HOME_ENV, SANDBOX_DEFAULT_PORT

REPO_ROOT = Path(__file__).resolve().parents[2]
WEBSERVER_MODULE = "dagster_webserver"
# `dagster dev` warns on every start that `dg dev` supersedes it; `dg` is not part of this
# project, so the notice says nothing a user can act on. Only that warning is silenced.
SUPERSEDED_DEV_WARNING = "ignore:Function `dev_command` is superseded:FutureWarning"


def ui(
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port of the Dagster UI.")] = 3000,
    sandbox_port: Annotated[
        int, typer.Option(min=1, max=65535, help="Port of the Campus sandbox.")
    ] = SANDBOX_DEFAULT_PORT,
    home: DemoHome = None,
) -> None:
    """Serve the district the demo last ran on, as it left it, and open `dagster dev` beside it.

    A nightly run started from the UI then syncs the same district into the demo's warehouse.
    """
    from sg_pipelines.demo import demo_district_as_left, recorded_district
    from sg_pipelines.demo_home import DemoHomeBusy, hold_demo_home
    from sg_pipelines.sandbox.runner import SandboxServer

    home = demo_home(home)
    parameters = recorded_district(home)
    if parameters is None:
        typer.echo(f"error: no demo has run in {home}; run `sg-pipelines demo` first", err=True)
        raise typer.Exit(code=2)

    try:
        with hold_demo_home(home):
            district, description = demo_district_as_left(parameters)
            sandbox_socket = bind_or_exit("127.0.0.1", sandbox_port, "--sandbox-port")
            with SandboxServer(district, port=sandbox_port, sock=sandbox_socket) as sandbox:
                typer.echo(f"Sandbox serving the demo's {description} at {sandbox.base_url}")
                # the webserver's port is tried first: `dagster dev` would go on without a UI
                bind_or_exit("127.0.0.1", port, "--port").close()
                code = _run_dagster_dev(port, _dagster_environment(home, sandbox))
    except DemoHomeBusy as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(code=2) from None
    if code is not None:
        raise typer.Exit(code=code)


def _dagster_environment(home: Path, sandbox) -> dict[str, str]:
    """The demo's settings: its home, and Campus at the sandbox just started; the user's own
    warning filters, then the one for `dagster dev`'s notice (a later filter wins)."""
    environment = dict(os.environ)
    warning_filters = [environment.get("PYTHONWARNINGS", ""), SUPERSEDED_DEV_WARNING]
    environment.update(
        {
            HOME_ENV: str(home),
            "DAGSTER_HOME": str(home / "dagster"),
            "SG_ONEROSTER__BASE_URL": sandbox.base_url,
            "SG_ONEROSTER__TOKEN_URL": sandbox.token_url,
            "SG_ONEROSTER__CLIENT_ID": sandbox.client_id,
            "SG_ONEROSTER_CLIENT_SECRET": sandbox.client_secret,
            "SG_FLAGS__CAMPUS__BASE_URL": sandbox.flags_url,
            "PYTHONWARNINGS": ",".join(part for part in warning_filters if part),
        }
    )
    Path(environment["DAGSTER_HOME"]).mkdir(parents=True, exist_ok=True)
    return environment


class _Terminated(Exception):
    """SIGTERM reached `sg-pipelines ui`."""


def _raise_terminated(signum: int, frame: object) -> None:
    raise _Terminated


def _run_dagster_dev(port: int, environment: dict[str, str]) -> int | None:
    """Run `dagster dev` until Ctrl-C or SIGTERM, or until its webserver dies (then stop it
    all): `dagster dev` and its children never outlive this command."""
    command = [
        str(Path(sys.executable).parent / "dagster"),
        "dev",
        "-w",
        str(REPO_ROOT / "workspace.yaml"),
        "-p",
        str(port),
    ]
    process = subprocess.Popen(command, env=environment, cwd=REPO_ROOT)
    webserver_seen = False
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        while process.poll() is None:
            time.sleep(1)
            running = _webserver_running(process.pid)
            if running is False and webserver_seen:
                typer.echo(f"error: the Dagster UI on port {port} stopped; stopping", err=True)
                _stop(process)
                return 1
            webserver_seen = webserver_seen or bool(running)
    except KeyboardInterrupt:
        # Ctrl-C reached `dagster dev` too; give it the time it takes to shut down
        _stop(process, grace_seconds=30)
        typer.echo("interrupted: the Dagster UI and the sandbox stopped", err=True)
        return 130
    except _Terminated:
        # `dagster dev` stops its webserver, daemon and code server when it is terminated
        _stop(process, grace_seconds=30)
        typer.echo("terminated: the Dagster UI and the sandbox stopped", err=True)
        return 143
    finally:
        signal.signal(signal.SIGTERM, previous)
    typer.echo(f"error: dagster dev stopped (exit {process.returncode}); see above", err=True)
    return 1


def _webserver_running(pid: int) -> bool | None:
    """Whether `dagster dev`'s webserver process is alive; None when that cannot be told."""
    import psutil

    try:
        children = psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return None
    for child in children:
        try:
            if WEBSERVER_MODULE in " ".join(child.cmdline()):
                return True
        except psutil.Error:
            continue
    return False


def _stop(process: subprocess.Popen, grace_seconds: float = 15) -> None:
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=grace_seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
