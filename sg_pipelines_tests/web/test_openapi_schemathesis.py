"""Schemathesis against `/openapi.json` on a live server with a published snapshot: generated
requests to every documented operation (record endpoints with a valid token) never get a server
error, and every answer is a documented status with a documented body. Bounded: a few
examples per operation, well under a minute."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from sg_pipelines.web.api.openapi import openapi_document
from sg_pipelines_tests.web.api_support import (
    api_settings,
    app_factory,
    make_account,
    publish_district,
    serve,
    token_for,
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    home = tmp_path_factory.mktemp("schemathesis")
    built = publish_district(home, students=120)
    build = app_factory(home, built.app_database_url, failed_auth_limit_per_address=100_000)
    with serve(build) as url, httpx.Client(base_url=url) as client:
        settings_ = api_settings(home, url, built.app_database_url)
        account = make_account(
            settings_, client, "fuzzed", ["ge", "fd", "fe", "gq", "ohioPreId"], replace_unknown=True
        )
        yield url, token_for(client, account)


OPERATIONS = [
    (path, method)
    for path, item in openapi_document("http://127.0.0.1")["paths"].items()
    for method in item
    if method in ("get", "post")
]


@pytest.fixture(scope="module")
def api_schema(live):
    url, _ = live
    return schemathesis.openapi.from_url(f"{url}/openapi.json")


@pytest.mark.parametrize(("path", "method"), OPERATIONS)
def test_no_generated_request_gets_a_server_error_or_an_undocumented_answer(
    live, api_schema, path, method
):
    url, token = live
    operation = api_schema[path][method]
    headers = {} if path == "/oauth/token" else {"Authorization": f"Bearer {token}"}

    @given(case=operation.as_strategy())
    @settings(
        max_examples=12, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    def exercise(case):
        case.call_and_validate(base_url=url, headers=headers, checks=CHECKS)

    exercise()
