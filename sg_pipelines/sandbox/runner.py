"""Run the sandbox: in a background thread (tests), in the foreground (CLI) or as a subprocess.

Example::

    with SandboxServer(generate_district(60)) as sandbox:
        httpx.post(sandbox.token_url, auth=(sandbox.client_id, sandbox.client_secret), ...)
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import TracebackType

import httpx
import uvicorn

from sg_pipelines.sandbox.config import SandboxConfig
from sg_pipelines.sandbox.district import API_ROOT, District
from sg_pipelines.sandbox.faults import Faults
from sg_pipelines.sandbox.flags import FLAGS_ROOT, FlagsState
from sg_pipelines.sandbox.lti_platform import LtiPlatform
from sg_pipelines.sandbox.request_log import RequestLog
from sg_pipelines.sandbox.server import create_app

logger = logging.getLogger(__name__)

STARTUP_TIMEOUT_SECONDS = 30.0
SUBPROCESS_STARTUP_TIMEOUT_SECONDS = 300.0


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on `host:port` (port 0 picks a free one)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _uvicorn_config(app: object, host: str, port: int) -> uvicorn.Config:
    return uvicorn.Config(
        app,  # type: ignore[arg-type]
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_keep_alive=30,
    )


class SandboxServer:
    """The sandbox on a loopback port, served by uvicorn from a background thread.

    Args:
        district: the records to serve (mutate it while running; changes show at once).
        config: credentials, scopes, token TTL, paging limits.
        host: interface to bind (loopback by default).
        port: port to bind; 0 picks a free one.
        sock: a socket already bound to `host:port` to serve on instead.

    Attributes:
        faults: the live fault switches.
        requests: the log of served requests (with `max_concurrency`).
        flags: the program-flags state (sandbox/flags.py): read it, or add hand-made flags.
        lti: the LTI 1.3 platform (sandbox/lti_platform.py): register the tool on it.
    """

    def __init__(
        self,
        district: District,
        config: SandboxConfig | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        sock: socket.socket | None = None,
    ) -> None:
        self.district = district
        self.config = config or SandboxConfig()
        self.faults = Faults()
        self.requests = RequestLog()
        self.flags = FlagsState()
        self.lti = LtiPlatform(district, self.flags)
        self.app = create_app(
            district,
            self.config,
            faults=self.faults,
            request_log=self.requests,
            flags=self.flags,
            lti_platform=self.lti,
        )
        self.host = host
        self._requested_port = port
        self._socket = sock
        self.port = 0
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def root_url(self) -> str:
        """`http://host:port` of the running server."""
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """The OneRoster rostering base URL (`.../ims/oneroster/rostering/v1p2`)."""
        return self.root_url + API_ROOT

    @property
    def token_url(self) -> str:
        """The OAuth 2.0 token endpoint."""
        return self.root_url + "/oauth2/token"

    @property
    def flags_url(self) -> str:
        """The program-flags base URL (`.../ims/oneroster/v1p2`, docs/campus-flags-api.md)."""
        return self.root_url + FLAGS_ROOT

    @property
    def client_id(self) -> str:
        return self.config.client_id

    @property
    def client_secret(self) -> str:
        return self.config.client_secret

    def start(self) -> SandboxServer:
        """Bind, start serving and wait until the server accepts requests."""
        sock = self._socket or bind_socket(self.host, self._requested_port)
        self.port = sock.getsockname()[1]
        self.lti.base_url = self.root_url
        self._server = uvicorn.Server(_uvicorn_config(self.app, self.host, self.port))
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, daemon=True, name="sandbox"
        )
        self._thread.start()

        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the sandbox server did not start")
            time.sleep(0.01)
        logger.info("sandbox serving on %s", self.root_url)
        return self

    def stop(self) -> None:
        """Stop serving and wait for the thread to end."""
        if self._server is not None:
            # idle keep-alive connections of clients that were never closed hold no work
            self._server.should_exit = self._server.force_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = self._thread = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def serve_forever(
    host: str, port: int, district: District, config: SandboxConfig | None = None
) -> None:
    """Serve the sandbox in the foreground until interrupted (Ctrl-C)."""
    serve_on_socket(bind_socket(host, port), district, config)


def serve_on_socket(
    sock: socket.socket,
    district: District,
    config: SandboxConfig | None = None,
    port_file: Path | None = None,
) -> None:
    """Serve on an already bound socket; writes the port to `port_file` once listening."""
    host, port = sock.getsockname()[:2]
    app = create_app(district, config)
    app.state.lti_platform.base_url = f"http://{host}:{port}"
    server = uvicorn.Server(_uvicorn_config(app, host, port))
    if port_file is not None:
        # the sandbox process announces its port only once the socket accepts connections
        partial = port_file.with_suffix(".partial")
        partial.write_text(str(port))
        partial.replace(port_file)
    logger.info("sandbox serving on http://%s:%d%s", host, port, API_ROOT)
    server.run(sockets=[sock])


class SandboxProcess:
    """A sandbox running in a separate process (see `start_subprocess`)."""

    def __init__(
        self, process: subprocess.Popen[bytes], host: str, port: int, config: SandboxConfig
    ) -> None:
        self.process = process
        self.host = host
        self.port = port
        self.client_id = config.client_id
        self.client_secret = config.client_secret

    @property
    def root_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return self.root_url + API_ROOT

    @property
    def token_url(self) -> str:
        return self.root_url + "/oauth2/token"

    @property
    def pid(self) -> int:
        return self.process.pid

    def set_faults(self, switches: dict[str, object]) -> dict[str, object]:
        """POST fault switches to the running sandbox; returns the resulting state."""
        response = httpx.post(f"{self.root_url}/sandbox/faults", json=switches, timeout=10)
        response.raise_for_status()
        return response.json()

    def clear_faults(self) -> None:
        """Switch every fault off."""
        httpx.delete(f"{self.root_url}/sandbox/faults", timeout=10).raise_for_status()

    def change_records(self, changes: list[dict[str, object]]) -> dict[str, object]:
        """Change records in the child's district (`POST /sandbox/records`, docs/sandbox.md)."""
        response = httpx.post(
            f"{self.root_url}/sandbox/records", json={"changes": changes}, timeout=300
        )
        response.raise_for_status()
        return response.json()

    def request_log(self) -> dict[str, object]:
        """The served-request log, with `max_concurrency`."""
        response = httpx.get(f"{self.root_url}/sandbox/requests", timeout=30)
        response.raise_for_status()
        return response.json()

    def stop(self) -> None:
        """Terminate the process (SIGTERM, then SIGKILL after 10 s)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def __enter__(self) -> SandboxProcess:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def start_subprocess(
    students: int,
    seed: int = 7,
    port: int = 0,
    *,
    host: str = "127.0.0.1",
    warm: bool = True,
    timeout: float = SUBPROCESS_STARTUP_TIMEOUT_SECONDS,
) -> SandboxProcess:
    """Start `python -m sg_pipelines.sandbox` for a generated district; returns once healthy.

    Args:
        students: district size.
        seed: generator seed.
        port: port to bind; 0 lets the child pick a free one and report it.
        host: interface to bind.
        warm: serialise every record before reporting ready, so the first pull does not pay
            for JSON encoding (useful for benchmarks).
        timeout: seconds to wait for readiness (generation of 50,000 students takes ~15 s).
    """
    with tempfile.TemporaryDirectory(prefix="sg-sandbox-") as scratch:
        port_file = Path(scratch) / "port"
        command = [
            sys.executable, "-m", "sg_pipelines.sandbox",
            "--students", str(students), "--seed", str(seed),
            "--host", host, "--port", str(port), "--port-file", str(port_file),
        ]  # fmt: skip
        if warm:
            command.append("--warm")
        process = subprocess.Popen(command, env={**os.environ, "PYTHONUNBUFFERED": "1"})

        deadline = time.monotonic() + timeout
        while not port_file.exists() or not port_file.read_text().strip():
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"sandbox process did not start (exit {process.poll()})")
            time.sleep(0.1)
        handle = SandboxProcess(process, host, int(port_file.read_text()), SandboxConfig())

    while True:
        try:
            if httpx.get(f"{handle.root_url}/sandbox/health", timeout=2).status_code == 200:
                return handle
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            handle.stop()
            raise RuntimeError("sandbox process never became healthy")
        time.sleep(0.1)
