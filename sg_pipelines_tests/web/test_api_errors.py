"""The catch-all: an unexpected exception under the API's paths becomes a JSON 500 with a
correlation id, and neither the body nor the log carries the exception's message."""

from __future__ import annotations

import logging

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route

from sg_pipelines.web.api.errors import CorrelationMiddleware
from sg_pipelines_tests.web.api_support import serve


def failing(request):
    raise RuntimeError("student 004371330 broke the query")


def app() -> Starlette:
    return Starlette(
        routes=[Route("/api/v1/boom", failing), Route("/elsewhere", failing)],
        middleware=[Middleware(CorrelationMiddleware)],
    )


def test_an_unexpected_error_is_a_json_500_with_a_correlation_id_and_no_message(caplog):
    with caplog.at_level(logging.ERROR), serve(lambda url: app()) as url:
        response = httpx.get(f"{url}/api/v1/boom")

    body = response.json()
    assert response.status_code == 500
    assert body["error"] == "server_error"
    assert body["correlation_id"] == response.headers["x-correlation-id"]
    assert "004371330" not in response.text
    assert "Traceback" not in response.text
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "RuntimeError" in logged and body["correlation_id"] in logged
    assert "004371330" not in logged


def test_paths_outside_the_api_keep_their_own_error_handling():
    with serve(lambda url: app()) as url:
        response = httpx.get(f"{url}/elsewhere")

    assert response.status_code == 500
    assert "x-correlation-id" not in response.headers
