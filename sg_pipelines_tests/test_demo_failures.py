"""A failed night's summary names the step and the error, and the first line of the message only
for errors whose messages carry no record values."""

import duckdb
import pytest
from dagster import DagsterInstance, asset, materialize

from sg_pipelines.demo import ERROR_MESSAGE_LIMIT, failed_step
from sg_pipelines.roster.errors import RetriesExhausted

LOCKED = (
    'IO Error: Could not set lock on file "/srv/sg/warehouse.duckdb": Conflicting lock is held '
    "in /usr/bin/python3.11 (PID 4242) by user sg.\nSee also https://duckdb.org/docs/"
)


def failure_of_a_night_raising(error: Exception) -> str | None:
    @asset
    def oneroster_demographics() -> None:
        raise error

    result = materialize(
        [oneroster_demographics], instance=DagsterInstance.ephemeral(), raise_on_error=False
    )
    return failed_step(result)


def test_a_failed_step_gives_the_first_line_of_a_duckdb_io_message():
    assert failure_of_a_night_raising(duckdb.IOException(LOCKED)) == (
        "oneroster_demographics: IOException: " + LOCKED.splitlines()[0]
    )


def test_a_long_message_of_our_own_is_cut_to_the_limit():
    failure = failure_of_a_night_raising(RetriesExhausted("users: " + "gave up " * 100))

    message = failure.removeprefix("oneroster_demographics: RetriesExhausted: ")
    assert message.startswith("users: gave up gave up")
    assert len(message) <= ERROR_MESSAGE_LIMIT and message.endswith("…")


@pytest.mark.parametrize(
    "error",
    [
        duckdb.ConversionException("Could not convert string 'Ada Byron' to INT32"),
        ValueError("Invalid isoformat string: '03/14/2012'"),
        KeyError("9f1c2d3e-0000-4000-8000-00000000beef"),
    ],
)
def test_an_error_that_may_quote_a_record_is_named_by_its_class_only(error):
    assert failure_of_a_night_raising(error) == (f"oneroster_demographics: {type(error).__name__}")
