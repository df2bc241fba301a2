"""date, interval and shutdown triggers."""

from __future__ import annotations

import pickle
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from asyncz_like.triggers.date import DateTrigger
from asyncz_like.triggers.interval import IntervalTrigger
from asyncz_like.triggers.shutdown import ShutdownTrigger

UTC = timezone.utc
BERLIN = ZoneInfo("Europe/Berlin")


def test_date_trigger_fires_once() -> None:
    at = datetime(2026, 5, 1, 8, 30, tzinfo=UTC)
    trigger = DateTrigger(at)
    assert trigger.get_next_trigger_time(UTC, None, at - timedelta(days=1)) == at
    assert trigger.get_next_trigger_time(UTC, at, at) is None


def test_date_trigger_reads_naive_times_and_strings_in_its_zone() -> None:
    assert DateTrigger("2026-05-01 08:30", timezone="Europe/Berlin").run_at == datetime(
        2026, 5, 1, 8, 30, tzinfo=BERLIN
    )
    assert DateTrigger(datetime(2026, 5, 1, 8, 30), timezone=BERLIN).run_at.utcoffset() == timedelta(hours=2)


def test_date_trigger_in_a_dst_gap_moves_to_the_first_real_instant() -> None:
    # 2026-03-29 02:30 does not exist in Berlin: the clock jumps from 02:00 to 03:00.
    run_at = DateTrigger(datetime(2026, 3, 29, 2, 30), timezone="Europe/Berlin").run_at
    assert run_at == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)


def test_bad_date_input_names_the_argument() -> None:
    with pytest.raises(ValueError, match="run_at"):
        DateTrigger("tomorrow-ish")
    with pytest.raises(ValueError, match="timezone"):
        DateTrigger(timezone="Mars/Olympus")


def test_interval_fires_on_a_grid_anchored_at_start() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    trigger = IntervalTrigger(minutes=10, start_at=start)
    assert trigger.get_next_trigger_time(UTC, None, start - timedelta(hours=1)) == start
    assert trigger.get_next_trigger_time(UTC, None, start + timedelta(minutes=25)) == start + timedelta(minutes=30)
    late_previous = start + timedelta(minutes=10, seconds=3)  # a late or jittered run does not shift the grid
    assert trigger.get_next_trigger_time(UTC, late_previous, late_previous) == start + timedelta(minutes=20)


def test_interval_defaults_to_first_run_one_interval_from_now() -> None:
    before = datetime.now(UTC)
    trigger = IntervalTrigger(seconds=30, timezone="UTC")
    assert before + timedelta(seconds=30) <= trigger.start_at <= datetime.now(UTC) + timedelta(seconds=30)


def test_interval_stops_after_end_at() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    trigger = IntervalTrigger(hours=1, start_at=start, end_at=start + timedelta(hours=2))
    assert trigger.get_next_trigger_time(UTC, start + timedelta(hours=1), start) == start + timedelta(hours=2)
    assert trigger.get_next_trigger_time(UTC, start + timedelta(hours=2), start) is None


def test_interval_counts_elapsed_time_across_dst() -> None:
    # Berlin springs forward on 2026-03-29: 24 real hours after 12:00 on the 28th is 13:00 on the 29th.
    trigger = IntervalTrigger(days=1, start_at=datetime(2026, 3, 28, 12), timezone="Europe/Berlin")
    after = trigger.get_next_trigger_time(BERLIN, trigger.start_at, trigger.start_at)
    assert after is not None
    assert after.astimezone(UTC) - trigger.start_at.astimezone(UTC) == timedelta(hours=24)
    assert (after.hour, after.utcoffset()) == (13, timedelta(hours=2))


def test_interval_jitter_delays_within_bounds() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    trigger = IntervalTrigger(minutes=1, start_at=start, jitter=5)
    for _ in range(50):
        fire = trigger.get_next_trigger_time(UTC, start, start)
        assert fire is not None
        assert start + timedelta(minutes=1) <= fire <= start + timedelta(minutes=1, seconds=5)


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"seconds": -1}, "seconds"),
        ({"minutes": "5"}, "minutes"),
        ({}, "interval"),
        ({"seconds": 1, "jitter": -2}, "jitter"),
        ({"seconds": 1, "start_at": "2026-01-02", "end_at": "2026-01-01"}, "end_at"),
        ({"seconds": 1, "fortnights": 2}, "fortnights"),
    ],
)
def test_bad_interval_input_names_the_argument(kwargs: dict[str, object], argument: str) -> None:
    with pytest.raises((ValueError, TypeError), match=argument):
        IntervalTrigger(**kwargs)  # type: ignore[arg-type]


def test_triggers_pickle_round_trip_and_read_well() -> None:
    trigger = IntervalTrigger(seconds=5, start_at=datetime(2026, 1, 1, tzinfo=UTC), timezone="UTC")
    assert pickle.loads(pickle.dumps(trigger)) == trigger
    assert str(trigger) == "interval[0:00:05]"
    assert "start_at='2026-01-01T00:00:00+00:00'" in repr(trigger)
    assert str(ShutdownTrigger()) == "shutdown"
    assert ShutdownTrigger().get_next_trigger_time(UTC, None, datetime.now(UTC)) is None
