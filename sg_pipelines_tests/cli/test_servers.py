"""Every server the command starts binds before it says where it serves, and names a bad port."""

import os
import signal
import socket
import subprocess
import sys

import httpx
import pytest

from sg_pipelines_tests.cli.test_errors import sg_pipelines

COMMAND = [sys.executable, "-c", "from sg_pipelines.cli import run; run()"]


@pytest.fixture
def taken_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


@pytest.mark.parametrize(
    ("command", "option"),
    [(("sandbox", "serve", "--students", "5"), "--port"), (("serve",), "--port")],
)
def test_a_taken_port_is_named_with_the_option_that_moves_it(tmp_path, taken_port, command, option):
    result = sg_pipelines(
        *command, "--port", str(taken_port), env={**os.environ, "SG_HOME": str(tmp_path)}
    )

    assert result.returncode == 2
    assert "Serving" not in result.stdout
    assert result.stderr.strip() == (
        f"error: cannot listen on 127.0.0.1:{taken_port} (Address already in use); "
        f"choose another port with {option}"
    )


@pytest.mark.parametrize("command", [("sandbox", "serve"), ("serve",), ("ui",)])
def test_a_port_no_port_can_have_is_refused_at_the_command_line(tmp_path, command):
    result = sg_pipelines(*command, "--port", "70000", env={**os.environ, "SG_HOME": str(tmp_path)})

    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "--port" in result.stderr and "65535" in result.stderr


def test_serve_says_where_it_serves_and_stops_on_ctrl_c(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [*COMMAND, "serve", "--port", str(port)],
        env={**os.environ, "SG_HOME": str(tmp_path)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        first_line = process.stdout.readline()
        health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10)
    finally:
        os.killpg(process.pid, signal.SIGINT)
        _, stderr = process.communicate(timeout=30)

    assert first_line.strip() == (
        f"Serving the web side-app on http://127.0.0.1:{port}/ (health: /healthz); Ctrl-C stops"
    )
    assert health.status_code == 200
    # uvicorn stops on Ctrl-C and hands it on: the command ends as any interrupted one does
    assert process.returncode in (0, 130)
    assert "Traceback" not in stderr
    assert len(stderr.strip().splitlines()) <= 1
