"""Running the sandbox in another process, as the benchmark does."""

from __future__ import annotations

from sg_pipelines.sandbox import start_subprocess
from sg_pipelines_tests.sandbox.conftest import HTTP


def test_a_subprocess_sandbox_serves_until_stopped():
    with start_subprocess(students=20, seed=5, warm=True) as handle:
        token = HTTP.post(
            handle.token_url,
            auth=(handle.client_id, handle.client_secret),
            data={"grant_type": "client_credentials"},
        ).json()["access_token"]
        students = HTTP.get(
            f"{handle.base_url}/students", headers={"Authorization": f"Bearer {token}"}
        )
        first = students.json()["users"][0]["sourcedId"]
        handle.change_records([{"op": "remove", "collection": "users", "sourcedId": first}])
        after = HTTP.get(
            f"{handle.base_url}/students", headers={"Authorization": f"Bearer {token}"}
        )
        handle.set_faults({"page_cap": 1})
        capped = HTTP.get(f"{handle.base_url}/orgs", headers={"Authorization": f"Bearer {token}"})
        log = handle.request_log()

    assert students.headers["x-total-count"] == "20"
    assert after.headers["x-total-count"] == "19"
    assert len(capped.json()["orgs"]) == 1
    assert log["max_concurrency"] >= 1 and len(log["requests"]) == 4
    assert handle.process.poll() is not None
