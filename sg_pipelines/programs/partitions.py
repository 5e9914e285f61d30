"""Partitions of the program assets: program x day, days in America/New_York.

The program dimension is built from the enabled programs in settings; the day dimension starts
at the earliest cutover. A (program, day) partition before that program's own cutover exists
(Dagster partitions are a grid) but does nothing and says so.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from dagster import (
    DailyPartitionsDefinition,
    MultiPartitionKey,
    MultiPartitionsDefinition,
    StaticPartitionsDefinition,
)

from sg_pipelines.settings import Settings

DISTRICT_TIMEZONE = "America/New_York"
PROGRAM_DIMENSION = "program"
DAY_DIMENSION = "day"


def program_day_partitions(settings: Settings) -> MultiPartitionsDefinition:
    """program x day, for the programs enabled in settings."""
    programs = settings.enabled_programs or {
        "special_education": settings.programs["special_education"]
    }
    start = min(program.cutover_date for program in programs.values())
    return MultiPartitionsDefinition(
        {
            PROGRAM_DIMENSION: StaticPartitionsDefinition(list(programs)),
            DAY_DIMENSION: DailyPartitionsDefinition(
                start_date=start.isoformat(), timezone=DISTRICT_TIMEZONE
            ),
        }
    )


def partition_key(program: str, day: date) -> MultiPartitionKey:
    return MultiPartitionKey({PROGRAM_DIMENSION: program, DAY_DIMENSION: day.isoformat()})


def newest_complete_day(now: datetime) -> date:
    """The day a nightly run works on: yesterday in the district's time zone.

    A daily partition exists only once its day has ended, so at 02:00 on 5 December the newest
    partition is 4 December.
    """
    local = now.astimezone(ZoneInfo(DISTRICT_TIMEZONE))
    return local.date() - timedelta(days=1)
