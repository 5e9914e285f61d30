"""The web side-app over real HTTP on loopback: health and the retired outline viewer."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn

from sg_pipelines.web import create_app


@pytest.fixture(scope="module")
def web_url() -> Iterator[str]:
    """The app served by uvicorn from a thread on a free loopback port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(), log_level="warning", access_log=False, lifespan="off")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the web app did not start"
        time.sleep(0.01)

    yield f"http://127.0.0.1:{port}"

    server.should_exit = True
    thread.join(10)


def test_healthz_answers_ok(web_url):
    response = httpx.get(f"{web_url}/healthz")

    assert (response.status_code, response.json()) == (200, {"status": "ok"})


@pytest.mark.parametrize("path", ["/outline/abc123", "/outline/a/b?doc=7", "/outline"])
def test_an_old_outline_link_says_the_plan_now_opens_from_the_campus_flag(web_url, path):
    response = httpx.get(f"{web_url}{path}")

    assert response.status_code == 410
    assert response.headers["content-type"].startswith("text/html")
    assert "This plan viewer has moved" in response.text
    assert "program's flag" in response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "abc123" not in response.text


def test_an_unknown_path_is_still_a_404(web_url):
    assert httpx.get(f"{web_url}/nothing-here").status_code == 404
