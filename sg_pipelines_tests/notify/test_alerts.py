"""Failure alerts (fault D5): the run-failure sensor ticked against a real instance and a real
SMTP server; the authentication-burst and push-failure mails."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from dagster import (
    DagsterInstance,
    Definitions,
    RetryPolicy,
    SensorDefinition,
    asset,
    build_sensor_context,
    define_asset_job,
    in_process_executor,
)
from dagster._core.definitions.run_status_sensor_definition import RunStatusSensorCursor
from dagster._core.storage.tags import WILL_RETRY_TAG

from sg_pipelines.notify import AuthFailureMonitor, auth_failure_burst, build_alert_sensors
from sg_pipelines.notify.alerts import ALERT_SENT_TAG, push_failure_alert
from sg_pipelines.settings import AlertSettings, Settings
from sg_pipelines_tests.smtp_server import LoopbackSmtpServer

CONTACT = "data-office@district.test"
STUDENT_ID = "000123456"


class CampusTimeoutError(RuntimeError):
    """Stands in for a transport error from the roster pull."""


ATTEMPTS: dict[str, int] = {}


@asset
def oneroster_enrollments() -> None:
    raise CampusTimeoutError(f"timed out while reading student {STUDENT_ID}")


@asset(deps=[oneroster_enrollments])
def roster_students() -> None:
    """Downstream of the failing step: skipped."""


@asset(deps=[roster_students])
def flags_writeback() -> None:
    """Further downstream: skipped too."""


@asset
def plan_documents() -> None:
    """Independent of the failure: still materialises."""


@asset(retry_policy=RetryPolicy(max_retries=1))
def flaky_enrollments() -> None:
    ATTEMPTS["flaky"] = ATTEMPTS.get("flaky", 0) + 1
    if ATTEMPTS["flaky"] == 1:
        raise CampusTimeoutError("first attempt fails")


failing_job = define_asset_job(
    "failing_job",
    selection=["oneroster_enrollments", "roster_students", "flags_writeback", "plan_documents"],
    executor_def=in_process_executor,
)
flaky_job = define_asset_job(
    "flaky_job", selection=["flaky_enrollments"], executor_def=in_process_executor
)


@pytest.fixture
def instance(tmp_path) -> Iterator[DagsterInstance]:
    with DagsterInstance.local_temp(str(tmp_path)) as instance:
        yield instance


def alert_settings(smtp_server: LoopbackSmtpServer) -> Settings:
    return Settings(
        district_name="Test City Schools",
        smtp=smtp_server.settings(),
        alerts=AlertSettings(contact_email=CONTACT),
    )


def definitions(sensor: SensorDefinition) -> Definitions:
    return Definitions(
        assets=[oneroster_enrollments, roster_students, flags_writeback, plan_documents,
                flaky_enrollments],
        jobs=[failing_job, flaky_job],
        sensors=[sensor],
    )  # fmt: skip


class Ticker:
    """Evaluates the sensor as the daemon would, keeping its cursor between ticks."""

    def __init__(self, defs: Definitions, sensor: SensorDefinition, instance: DagsterInstance):
        self.defs, self.sensor, self.instance = defs, sensor, instance
        self.cursor: str | None = None

    def tick(self) -> None:
        context = build_sensor_context(
            instance=self.instance, cursor=self.cursor, definitions=self.defs
        )
        result = self.sensor.evaluate_tick(context)
        self.cursor = result.cursor


def run(defs: Definitions, job: str, instance: DagsterInstance, **kwargs):
    return defs.resolve_job_def(job).execute_in_process(
        instance=instance, raise_on_error=False, **kwargs
    )


def test_no_contact_means_no_sensor() -> None:
    assert build_alert_sensors(Settings()) == []


def test_a_run_that_fails_for_good_sends_exactly_one_alert(
    smtp_server: LoopbackSmtpServer, instance: DagsterInstance
) -> None:
    [sensor] = build_alert_sensors(alert_settings(smtp_server))
    defs = definitions(sensor)
    ticker = Ticker(defs, sensor, instance)
    ticker.tick()  # the first tick only sets the cursor, as in production

    result = run(defs, "failing_job", instance)
    ticker.tick()
    ticker.tick()

    assert not result.success
    [message] = smtp_server.wait_for(1)
    body = message.get_content()
    assert message["To"] == CONTACT
    assert "failing_job failed: oneroster_enrollments (CampusTimeoutError)" in message["Subject"]
    assert result.run_id in body
    assert "oneroster_enrollments: CampusTimeoutError" in body
    assert "  - flags_writeback\n  - roster_students\n" in body
    assert "plan_documents" not in body
    assert STUDENT_ID not in body and "timed out" not in body
    assert instance.get_run_by_id(result.run_id).tags[ALERT_SENT_TAG]


def test_a_reset_cursor_does_not_send_the_alert_again(
    smtp_server: LoopbackSmtpServer, instance: DagsterInstance
) -> None:
    [sensor] = build_alert_sensors(alert_settings(smtp_server))
    defs = definitions(sensor)
    first = Ticker(defs, sensor, instance)
    first.tick()
    run(defs, "failing_job", instance)
    first.tick()
    smtp_server.wait_for(1)

    # a second sensor state that starts before the failure (a reset or a copy of the sensor)
    second = Ticker(defs, sensor, instance)
    second.cursor = RunStatusSensorCursor(record_id=-1, record_timestamp=None).to_json()
    second.tick()

    assert len(smtp_server.messages) == 1


def test_a_step_that_succeeds_on_retry_sends_nothing(
    smtp_server: LoopbackSmtpServer, instance: DagsterInstance
) -> None:
    [sensor] = build_alert_sensors(alert_settings(smtp_server))
    defs = definitions(sensor)
    ticker = Ticker(defs, sensor, instance)
    ticker.tick()
    ATTEMPTS.clear()

    result = run(defs, "flaky_job", instance)
    ticker.tick()

    assert result.success and ATTEMPTS["flaky"] == 2
    assert smtp_server.messages == []


def test_a_run_dagster_will_retry_is_left_to_its_retry(
    smtp_server: LoopbackSmtpServer, instance: DagsterInstance
) -> None:
    [sensor] = build_alert_sensors(alert_settings(smtp_server))
    defs = definitions(sensor)
    ticker = Ticker(defs, sensor, instance)
    ticker.tick()

    run(defs, "failing_job", instance, tags={WILL_RETRY_TAG: "true"})
    ticker.tick()
    assert smtp_server.messages == []

    retry = run(defs, "failing_job", instance)
    ticker.tick()
    [message] = smtp_server.wait_for(1)
    assert retry.run_id in message.get_content()


def test_an_auth_failure_burst_mails_counts_not_credentials(
    smtp_server: LoopbackSmtpServer,
) -> None:
    auth_failure_burst(
        smtp_server.settings(),
        CONTACT,
        account_name="Campus state reporting",
        failures=20,
        window_seconds=300,
        last_failure_at=datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC),
        addresses=2,
        correlation_id="req-42",
    )

    [message] = smtp_server.wait_for(1)
    body = message.get_content()
    assert "20 failed sign-ins" in message["Subject"]
    assert "2025-03-04T05:06:07Z" in body and "req-42" in body and "2 address" in body


def test_the_monitor_alerts_once_per_burst() -> None:
    now = [0.0]
    monitor = AuthFailureMonitor(threshold=3, window_seconds=60, clock=lambda: now[0])

    results = []
    for _ in range(5):
        results.append(monitor.record("account-1"))
        now[0] += 1
    assert results == [None, None, 3, None, None]
    assert monitor.record("account-2") is None

    now[0] += 120  # the window empties: a new burst alerts again
    assert [monitor.record("account-1") for _ in range(3)] == [None, None, 3]


def test_a_push_failure_names_the_export_and_the_error_class(
    smtp_server: LoopbackSmtpServer,
) -> None:
    push_failure_alert(
        smtp_server.settings(),
        CONTACT,
        account_name="Campus",
        failed_at=datetime(2025, 3, 4, tzinfo=UTC),
        error_class="PermissionDenied",
        correlation_id="push-1",
        files=["GE.txt"],
    )

    [message] = smtp_server.wait_for(1)
    assert "Campus" in message["Subject"]
    assert "PermissionDenied" in message.get_content()
    assert "push-1" in message.get_content()
