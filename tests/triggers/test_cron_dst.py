"""Cron trigger across DST changes, and the faults seen in asyncz 0.17.2 / APScheduler 3.

Transitions used (2026):
  Europe/Berlin        gap 29 Mar 02:00 -> 03:00       overlap 25 Oct 03:00 -> 02:00
  America/New_York     gap  8 Mar 02:00 -> 03:00       overlap  1 Nov 02:00 -> 01:00
  Australia/Lord_Howe  gap  4 Oct 02:00 -> 02:30       overlap  5 Apr 02:00 -> 01:30 (30 minutes)
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from asyncz_like.triggers.cron import CronTrigger

UTC = timezone.utc
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")


def run(trigger: CronTrigger, now: datetime, until: datetime) -> list[datetime]:
    """Every fire time from ``now`` up to ``until``, as a scheduler would see them."""
    times: list[datetime] = []
    previous = None
    while True:
        previous = trigger.get_next_trigger_time(UTC, previous, now)
        if previous is None or previous.astimezone(UTC) > until.astimezone(UTC):
            return times
        times.append(previous)


def iso(times: list[datetime]) -> list[str]:
    return [time.isoformat() for time in times]


def real_gaps(times: list[datetime]) -> set[timedelta]:
    """Elapsed time between fires (in UTC: Python subtracts same-zone datetimes as wall clock)."""
    return {later.astimezone(UTC) - earlier.astimezone(UTC) for earlier, later in pairwise(times)}


# -- spring forward: a wall time in the gap fires once, when the clock jumps ---------------------


@pytest.mark.parametrize(
    ("zone", "line", "day", "expected"),
    [
        (BERLIN, "30 2 * * *", datetime(2026, 3, 28, 12), ["2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00"]),
        (NEW_YORK, "30 2 * * *", datetime(2026, 3, 7, 12), ["2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00"]),
        (
            LORD_HOWE,
            "15 2 * * *",
            datetime(2026, 10, 3, 12),
            ["2026-10-04T02:30:00+11:00", "2026-10-05T02:15:00+11:00"],
        ),
    ],
    ids=["berlin", "new_york", "lord_howe"],
)
def test_a_time_in_the_spring_forward_gap_fires_once_at_the_first_real_instant_after_it(
    zone: ZoneInfo, line: str, day: datetime, expected: list[str]
) -> None:
    trigger = CronTrigger.from_crontab(line, timezone=zone)
    start = day.replace(tzinfo=zone)
    assert iso(run(trigger, start, start + timedelta(days=2))) == expected


def test_several_gap_times_collapse_into_one_fire() -> None:
    trigger = CronTrigger.from_crontab("*/15 * * * *", timezone=BERLIN)
    start = datetime(2026, 3, 29, 1, 40, tzinfo=BERLIN)
    assert iso(run(trigger, start, start + timedelta(hours=1))) == [
        "2026-03-29T01:45:00+01:00",
        "2026-03-29T03:00:00+02:00",  # 02:00, 02:15, 02:30, 02:45 and 03:00 are one instant
        "2026-03-29T03:15:00+02:00",
        "2026-03-29T03:30:00+02:00",
    ]


# -- fall back: a fixed time fires once; wildcard schedules fire on every real instant ----------


@pytest.mark.parametrize(
    ("zone", "line", "day", "expected"),
    [
        (BERLIN, "30 2 * * *", datetime(2026, 10, 24, 12), ["2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"]),
        (
            NEW_YORK,
            "30 1 * * *",
            datetime(2026, 10, 31, 12),
            ["2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"],
        ),
        (LORD_HOWE, "45 1 * * *", datetime(2026, 4, 4, 12), ["2026-04-05T01:45:00+11:00", "2026-04-06T01:45:00+10:30"]),
    ],
    ids=["berlin", "new_york", "lord_howe"],
)
def test_a_fixed_time_in_the_fall_back_overlap_fires_once(
    zone: ZoneInfo, line: str, day: datetime, expected: list[str]
) -> None:
    trigger = CronTrigger.from_crontab(line, timezone=zone)
    start = day.replace(tzinfo=zone)
    assert iso(run(trigger, start, start + timedelta(days=2))) == expected


def test_a_fixed_time_does_not_fire_again_when_the_task_starts_in_the_repeated_hour() -> None:
    trigger = CronTrigger(hour=2, minute=30, timezone=BERLIN)
    second_pass = datetime(2026, 10, 25, 1, 10, tzinfo=UTC)  # 02:10+01:00, after 02:30+02:00 has passed
    assert iso([trigger.get_next_trigger_time(UTC, None, second_pass)]) == ["2026-10-26T02:30:00+01:00"]  # type: ignore[list-item]


def test_an_hourly_schedule_fires_at_both_real_two_oclocks_in_berlin() -> None:
    trigger = CronTrigger.from_crontab("0 * * * *", timezone=BERLIN)
    start = datetime(2026, 10, 25, 0, 30, tzinfo=BERLIN)
    assert iso(run(trigger, start, datetime(2026, 10, 25, 3, 0, tzinfo=UTC))) == [
        "2026-10-25T01:00:00+02:00",
        "2026-10-25T02:00:00+02:00",
        "2026-10-25T02:00:00+01:00",
        "2026-10-25T03:00:00+01:00",
        "2026-10-25T04:00:00+01:00",
    ]


def test_a_first_fire_asked_for_inside_the_first_pass_still_finds_the_repeated_hour() -> None:
    trigger = CronTrigger(minute=0, timezone=BERLIN)  # hourly, keyword form
    first_pass = datetime(2026, 10, 25, 2, 10, tzinfo=BERLIN)  # fold=0: 02:10+02:00
    found = trigger.get_next_trigger_time(UTC, None, first_pass)
    assert found is not None and found.isoformat() == "2026-10-25T02:00:00+01:00"


@pytest.mark.parametrize("zone", [BERLIN, NEW_YORK, LORD_HOWE], ids=str)
@pytest.mark.parametrize(("minute", "step"), [("*/15", 15), ("*/30", 30)])
@pytest.mark.parametrize("month", [3, 4, 10, 11])
def test_sub_hourly_schedules_are_evenly_spaced_in_real_time_across_every_transition(
    zone: ZoneInfo, minute: str, step: int, month: int
) -> None:
    trigger = CronTrigger(minute=minute, timezone=zone)
    start = datetime(2026, month, 1, tzinfo=UTC)
    times = run(trigger, start, start + timedelta(days=31))
    assert real_gaps(times) == {timedelta(minutes=step)}
    assert len(times) == 31 * 24 * 60 // step + 1


@pytest.mark.parametrize("zone", [BERLIN, NEW_YORK], ids=str)
@pytest.mark.parametrize("month", [3, 10, 11])
def test_hourly_neither_skips_nor_doubles_a_real_hour(zone: ZoneInfo, month: int) -> None:
    trigger = CronTrigger.from_crontab("0 * * * *", timezone=zone)
    start = datetime(2026, month, 1, tzinfo=UTC)
    times = run(trigger, start, start + timedelta(days=31))
    assert real_gaps(times) == {timedelta(hours=1)}
    assert len(set(time.astimezone(UTC) for time in times)) == len(times) == 31 * 24 + 1


def test_hourly_in_lord_howe_fires_once_per_wall_hour_across_its_half_hour_shifts() -> None:
    trigger = CronTrigger.from_crontab("0 * * * *", timezone=LORD_HOWE)
    fall_back = run(
        trigger, datetime(2026, 4, 5, 0, 30, tzinfo=LORD_HOWE), datetime(2026, 4, 5, 3, 0, tzinfo=LORD_HOWE)
    )
    assert iso(fall_back) == ["2026-04-05T01:00:00+11:00", "2026-04-05T02:00:00+10:30", "2026-04-05T03:00:00+10:30"]
    spring = run(trigger, datetime(2026, 10, 4, 0, 30, tzinfo=LORD_HOWE), datetime(2026, 10, 4, 3, 0, tzinfo=LORD_HOWE))
    assert iso(spring) == ["2026-10-04T01:00:00+10:30", "2026-10-04T02:30:00+11:00", "2026-10-04T03:00:00+11:00"]


def test_daily_fixed_times_keep_their_wall_clock_hour_across_dst() -> None:
    trigger = CronTrigger(hour=9, timezone=NEW_YORK)
    times = run(trigger, datetime(2026, 3, 6, tzinfo=NEW_YORK), datetime(2026, 3, 10, 23, tzinfo=NEW_YORK))
    assert [time.strftime("%d %H:%M %z") for time in times] == [
        "06 09:00 -0500",
        "07 09:00 -0500",
        "08 09:00 -0400",
        "09 09:00 -0400",
        "10 09:00 -0400",
    ]


# -- faults seen in asyncz 0.17.2 (and APScheduler 3) -------------------------------------------


def test_regression_asyncz_half_hourly_jumped_over_the_repeated_hour_in_berlin() -> None:
    # asyncz 0.17.2 went from 02:30+02:00 straight to 03:00+01:00, skipping two real runs.
    trigger = CronTrigger(minute="*/30", timezone="Europe/Berlin")
    previous = datetime(2026, 10, 25, 2, 30, tzinfo=BERLIN)  # fold=0: the first 02:30 (+02:00)
    times = []
    for _ in range(3):
        previous = trigger.get_next_trigger_time(UTC, previous, previous)  # type: ignore[assignment]
        times.append(previous.isoformat())
    assert times == ["2026-10-25T02:00:00+01:00", "2026-10-25T02:30:00+01:00", "2026-10-25T03:00:00+01:00"]


def test_regression_asyncz_read_crontab_weekday_5_as_saturday() -> None:
    # crontab(5): 5 is Friday. Friday 13 February 2026 must fire (asyncz missed it).
    trigger = CronTrigger.from_crontab("0 0 13 * 5", timezone=UTC)
    found = trigger.get_next_trigger_time(UTC, None, datetime(2026, 2, 12, 1, tzinfo=UTC))
    assert found == datetime(2026, 2, 13, tzinfo=UTC)
    fridays_only = CronTrigger.from_crontab("0 0 * * 5", timezone=UTC)
    times = run(fridays_only, datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC))
    assert {time.strftime("%A") for time in times} == {"Friday"} and len(times) == 4


def test_regression_asyncz_and_apscheduler_ran_weekdays_1_to_5_tuesday_to_saturday() -> None:
    trigger = CronTrigger.from_crontab("0 9 * * 1-5", timezone="Europe/Berlin")
    times = run(trigger, datetime(2026, 1, 1, tzinfo=BERLIN), datetime(2026, 1, 31, tzinfo=BERLIN))
    assert {time.strftime("%a") for time in times} == {"Mon", "Tue", "Wed", "Thu", "Fri"}
    assert len(times) == 22 and times[0].isoformat() == "2026-01-01T09:00:00+01:00"
