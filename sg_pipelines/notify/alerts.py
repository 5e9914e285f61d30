"""Failure alerts by mail: failed runs, failed pushes, bursts of failed logins.

Every alert names what failed, when, and a correlation id (a run id, a push id, an account
name) that finds the full story in the Dagster UI or the logs. None carries student data,
tokens, secrets or an exception's message (which may quote a record): only error classes.

A run alerts once, when it has failed for good. A step that fails and then succeeds under its
retry policy ends in a successful run, so the failure sensor never sees it; a run Dagster will
retry (`dagster/will_retry`) is left to its retry, which alerts if it fails too. A sent alert is
recorded as a tag on the run, so a reset cursor or a second sensor does not send it again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from dagster import (
    DagsterEventType,
    DagsterInstance,
    DefaultSensorStatus,
    RunFailureSensorContext,
    SensorDefinition,
    SkipReason,
    run_failure_sensor,
)
from dagster._core.storage.tags import WILL_RETRY_TAG

from sg_pipelines.notify.mail import MailError, send_mail
from sg_pipelines.settings import Settings, SmtpSettings

logger = logging.getLogger(__name__)

ALERT_SENT_TAG = "sg/failure_alert_sent"
SUBJECT_PREFIX = "[sg-pipelines]"
RUN_FAILURE_SENSOR = "run_failure_alert_sensor"
# Dagster wraps the user's exception in these; the alert names the class underneath.
_WRAPPERS = {"DagsterExecutionStepExecutionError", "DagsterUserCodeExecutionError"}


@dataclass(frozen=True)
class FailedStep:
    """A step that failed: its key and the class of the error that ended it."""

    step_key: str
    error_class: str


@dataclass(frozen=True)
class RunFailure:
    """What a failed run's event log says, without any message text."""

    job_name: str
    run_id: str
    failed_at: datetime
    failed_steps: tuple[FailedStep, ...]
    failed_assets: tuple[str, ...]
    skipped_assets: tuple[str, ...]
    materialized_assets: int
    run_error_class: str | None = None


def describe_run_failure(instance: DagsterInstance, run_id: str) -> RunFailure:
    """Read a failed run's event log: failed steps, their error classes, skipped assets."""
    run = instance.get_run_by_id(run_id)
    if run is None:
        raise ValueError(f"no run {run_id}")
    record = instance.get_run_record_by_id(run_id)
    ended = record.end_time if record and record.end_time else time.time()

    failed: dict[str, str] = {}
    planned: dict[str, str | None] = {}
    materialized: set[str] = set()
    run_error: str | None = None
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None:
            continue
        if event.event_type == DagsterEventType.STEP_FAILURE and event.step_key:
            failed.setdefault(event.step_key, _error_class(event.event_specific_data.error))
        elif event.event_type == DagsterEventType.ASSET_MATERIALIZATION_PLANNED:
            planned[event.asset_key.to_user_string()] = event.step_key
        elif event.event_type == DagsterEventType.ASSET_MATERIALIZATION:
            materialized.add(event.asset_key.to_user_string())
        elif event.event_type == DagsterEventType.RUN_FAILURE:
            run_error = _error_class(getattr(event.event_specific_data, "error", None))

    failed_assets = sorted(key for key, step in planned.items() if step in failed)
    skipped = sorted(
        key for key, step in planned.items() if key not in materialized and step not in failed
    )
    return RunFailure(
        job_name=run.job_name,
        run_id=run_id,
        failed_at=datetime.fromtimestamp(ended, UTC),
        failed_steps=tuple(FailedStep(step, error) for step, error in failed.items()),
        failed_assets=tuple(failed_assets),
        skipped_assets=tuple(skipped),
        materialized_assets=len(materialized),
        run_error_class=run_error,
    )


def run_failure_message(
    failure: RunFailure, district_name: str, timezone: str = "UTC"
) -> tuple[str, str]:
    """The subject and body of a failed-run alert."""
    if failure.failed_steps:
        first = failure.failed_steps[0]
        what = f"{first.step_key} ({first.error_class})"
        steps = "\n".join(f"  - {s.step_key}: {s.error_class}" for s in failure.failed_steps)
    else:
        what = f"run error ({failure.run_error_class or 'unknown'})"
        steps = f"  - no step failed; the run itself ended with {failure.run_error_class}"
    skipped = "\n".join(f"  - {key}" for key in failure.skipped_assets) or "  (none)"

    subject = f"{SUBJECT_PREFIX} {failure.job_name} failed: {what}"
    body = (
        f"A run of {failure.job_name} for {district_name} failed and will not be retried.\n\n"
        f"When: {_when(failure.failed_at, timezone)}\n"
        f"Correlation id (Dagster run id): {failure.run_id}\n\n"
        f"Failed step and error class:\n{steps}\n\n"
        f"Skipped downstream assets ({len(failure.skipped_assets)}), not updated tonight:\n"
        f"{skipped}\n\n"
        f"Assets updated before the failure: {failure.materialized_assets}.\n"
        "Until a run succeeds, the reporting API keeps serving the last published snapshot.\n"
        "Open the run in the Dagster UI by its id for the full log.\n"
    )
    return subject, body


def build_alert_sensors(
    settings: Settings,
    *,
    default_status: DefaultSensorStatus = DefaultSensorStatus.RUNNING,
) -> list[SensorDefinition]:
    """The failure sensors for one district: none when `alerts.contact_email` is not set.

    The run-failure sensor watches every job of the code location and mails the contact once
    per run that failed for good, naming the failed step, its error class and the skipped
    downstream assets. Add them to `Definitions(sensors=...)`; they need the Dagster daemon.
    """
    contact = settings.alerts.contact_email
    if not contact:
        return []
    smtp = settings.smtp

    @run_failure_sensor(
        name=RUN_FAILURE_SENSOR,
        default_status=default_status,
        description="Mails the district's alert contact once for each run that failed for good.",
    )
    def run_failure_alert(context: RunFailureSensorContext):
        run = context.dagster_run
        if run.tags.get(WILL_RETRY_TAG) == "true":
            return SkipReason(f"run {run.run_id} will be retried; its retry reports")
        if run.tags.get(ALERT_SENT_TAG):
            return SkipReason(f"run {run.run_id} was already reported")

        failure = describe_run_failure(context.instance, run.run_id)
        subject, body = run_failure_message(failure, settings.district_name, settings.timezone)
        send_mail(smtp, contact, subject, body)
        context.instance.add_run_tags(run.run_id, {ALERT_SENT_TAG: _iso(datetime.now(UTC))})
        context.log.info(
            f"mailed the failure of {failure.job_name} run {run.run_id}: "
            f"{len(failure.failed_steps)} failed steps, {len(failure.skipped_assets)} skipped"
        )
        return None

    return [run_failure_alert]


# authentication failures


def auth_failure_burst(
    smtp: SmtpSettings,
    to: str,
    *,
    account_name: str,
    failures: int,
    window_seconds: int,
    last_failure_at: datetime,
    addresses: int = 1,
    correlation_id: str | None = None,
    password: str | None = None,
) -> None:
    """Mail an API account's contact about a burst of failed token requests.

    Args:
        smtp: the district's relay (`settings.smtp`).
        to: the account's contact email.
        account_name: the data export's name as the district set it (never its client id).
        failures: failed attempts counted in the window.
        window_seconds: the window they fell in (`alerts.auth_failure_window_seconds`).
        last_failure_at: when the latest failure happened (aware datetime).
        addresses: how many distinct client addresses they came from (addresses not named).
        correlation_id: what finds these requests in the API log; defaults to a new id.
        password: the relay password; defaults to `$SG_SMTP_PASSWORD`.

    Raises:
        MailError: the relay refused or could not be reached.
    """
    correlation = correlation_id or f"auth-{last_failure_at.astimezone(UTC):%Y%m%dT%H%M%SZ}"
    subject = f"{SUBJECT_PREFIX} {failures} failed sign-ins for data export {account_name}"
    body = (
        f"The reporting API refused {failures} token requests for the data export "
        f"{account_name} within {window_seconds} seconds, from {addresses} address(es).\n\n"
        f"Latest failure: {_when(last_failure_at)}\n"
        f"Correlation id: {correlation}\n\n"
        "If Campus's report client was recently given a new secret, update it there. If no one "
        "at the district changed anything, rotate the secret (`sg-pipelines exports "
        "rotate-secret`) and tell your Campus administrator.\n"
    )
    send_mail(smtp, to, subject, body, password=password)


class AuthFailureMonitor:
    """Counts failed token requests per account and says when a burst should alert.

    `record(key)` returns the count when the account's failures in the sliding window first
    reach `threshold` (then stays quiet until the window has emptied), else None. The API
    calls `auth_failure_burst` on a non-None result, off the request path. Thread-safe.
    """

    def __init__(
        self, threshold: int, window_seconds: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.threshold = threshold
        self.window_seconds = window_seconds
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._alerted: set[str] = set()
        self._lock = threading.Lock()

    def record(self, key: str) -> int | None:
        now = self._clock()
        with self._lock:
            failures = self._failures.setdefault(key, deque())
            while failures and failures[0] <= now - self.window_seconds:
                failures.popleft()
            if not failures:
                self._alerted.discard(key)
            failures.append(now)
            if len(failures) >= self.threshold and key not in self._alerted:
                self._alerted.add(key)
                return len(failures)
            return None


# failed pushes


def push_failure_alert(
    smtp: SmtpSettings,
    to: str,
    *,
    account_name: str,
    failed_at: datetime,
    error_class: str,
    correlation_id: str,
    files: Sequence[str] = (),
    password: str | None = None,
) -> None:
    """Mail a data export's contact that the SFTP push after a publish failed."""
    subject = f"{SUBJECT_PREFIX} SFTP push failed for data export {account_name}"
    listed = ", ".join(files) or "none"
    body = (
        f"The push of tonight's state-reporting files to the SFTP server of the data export "
        f"{account_name} failed with {error_class}.\n\n"
        f"When: {_when(failed_at)}\n"
        f"Correlation id: {correlation_id}\n"
        f"Files written before the failure: {listed}\n\n"
        "Files already on the server from earlier pushes were left as they were. The next "
        "publish tries again; the reporting API is not affected.\n"
    )
    send_mail(smtp, to, subject, body, password=password)


def send_quietly(alert: Callable[..., None], *args: object, **kwargs: object) -> bool:
    """Run an alert function, logging (not raising) a mail failure; returns whether it sent."""
    try:
        alert(*args, **kwargs)
    except MailError as error:
        logger.warning("alert not sent: %s", error)
        return False
    return True


def _error_class(error: object) -> str:
    """The class of the user's error underneath Dagster's wrappers."""
    while error is not None and getattr(error, "cls_name", None) in _WRAPPERS:
        if getattr(error, "cause", None) is None:
            break
        error = error.cause
    return getattr(error, "cls_name", None) or "unknown error"


def _when(moment: datetime, timezone: str = "UTC") -> str:
    local = moment.astimezone(ZoneInfo(timezone))
    text = _iso(moment)
    return text if timezone == "UTC" else f"{text} ({local:%Y-%m-%d %H:%M %Z})"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
