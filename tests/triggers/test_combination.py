"""and / or triggers: agreement, finishing, jitter, bounded search, display, persistence."""

from __future__ import annotations

import pickle
import time
from datetime import datetime, timedelta, timezone

import pytest

from asyncz_like import plugins
from asyncz_like.triggers.combination import AndTrigger, OrTrigger
from asyncz_like.triggers.cron import CronTrigger
from asyncz_like.triggers.date import DateTrigger
from asyncz_like.triggers.interval import IntervalTrigger

UTC = timezone.utc
JAN_1 = datetime(2026, 1, 1, tzinfo=UTC)


def fires(trigger: AndTrigger | OrTrigger, now: datetime, count: int) -> list[str]:
    times: list[str] = []
    previous = None
    for _ in range(count):
        previous = trigger.get_next_trigger_time(UTC, previous, now)
        if previous is None:
            break
        times.append(previous.isoformat())
    return times


def test_registered_under_the_and_and_or_aliases() -> None:
    assert plugins.plugin_class("asyncz_like.triggers", "and") is AndTrigger
    assert plugins.plugin_class("asyncz_like.triggers", "or") is OrTrigger


def test_and_fires_only_where_every_part_agrees() -> None:
    friday_13th = AndTrigger([CronTrigger(day=13, timezone=UTC), CronTrigger(day_of_week="fri", timezone=UTC)])
    assert fires(friday_13th, JAN_1, 3) == [
        "2026-02-13T00:00:00+00:00",
        "2026-03-13T00:00:00+00:00",
        "2026-11-13T00:00:00+00:00",
    ]


def test_and_with_an_interval_part() -> None:
    every_90_minutes = IntervalTrigger(minutes=90, start_at=JAN_1, timezone=UTC)
    on_the_hour_in_office_hours = CronTrigger(hour="9-17", timezone=UTC)
    trigger = AndTrigger([every_90_minutes, on_the_hour_in_office_hours])
    assert fires(trigger, JAN_1, 4) == [
        "2026-01-01T09:00:00+00:00",
        "2026-01-01T12:00:00+00:00",
        "2026-01-01T15:00:00+00:00",
        "2026-01-02T09:00:00+00:00",
    ]


def test_and_is_finished_when_any_part_is() -> None:
    trigger = AndTrigger(
        [CronTrigger(hour=9, timezone=UTC, end_at="2026-01-02T12:00:00+00:00"), CronTrigger(minute=0, timezone=UTC)]
    )
    assert fires(trigger, JAN_1, 5) == ["2026-01-01T09:00:00+00:00", "2026-01-02T09:00:00+00:00"]


def test_an_impossible_and_returns_none_promptly() -> None:
    february_31st = AndTrigger([CronTrigger(month=2, timezone=UTC), CronTrigger(day=31, timezone=UTC)])
    started = time.perf_counter()
    assert february_31st.get_next_trigger_time(UTC, None, JAN_1) is None
    assert time.perf_counter() - started < 1.0
    past_date_and_cron = AndTrigger([DateTrigger(JAN_1 + timedelta(seconds=1)), CronTrigger(minute=0, timezone=UTC)])
    assert past_date_and_cron.get_next_trigger_time(UTC, None, JAN_1) is None


def test_or_fires_at_the_earliest_part_and_finishes_when_all_do() -> None:
    weekdays_9_weekends_12 = OrTrigger(
        [CronTrigger.from_crontab("0 9 * * 1-5", timezone=UTC), CronTrigger.from_crontab("0 12 * * 6,0", timezone=UTC)]
    )
    assert fires(weekdays_9_weekends_12, datetime(2026, 1, 2, 10, tzinfo=UTC), 3) == [
        "2026-01-03T12:00:00+00:00",
        "2026-01-04T12:00:00+00:00",
        "2026-01-05T09:00:00+00:00",
    ]
    two_dates = OrTrigger([DateTrigger(JAN_1 + timedelta(hours=2)), DateTrigger(JAN_1 + timedelta(hours=1))])
    assert two_dates.get_next_trigger_time(UTC, None, JAN_1) == JAN_1 + timedelta(hours=1)


@pytest.mark.parametrize("kind", [AndTrigger, OrTrigger])
def test_jitter_delays_the_combined_time_by_at_most_jitter_seconds(kind: type[AndTrigger]) -> None:
    trigger = kind([CronTrigger(hour=9, timezone=UTC), CronTrigger(minute=0, timezone=UTC)], jitter=20)
    exact = datetime(2026, 1, 1, 9, tzinfo=UTC) if kind is AndTrigger else datetime(2026, 1, 1, 1, tzinfo=UTC)
    delays = {
        (trigger.get_next_trigger_time(UTC, None, JAN_1.replace(minute=30)) - exact).total_seconds() for _ in range(40)
    }  # type: ignore[operator]
    assert all(0 <= delay <= 20 for delay in delays) and len(delays) > 1


def test_bad_input_raises_at_construction() -> None:
    with pytest.raises(ValueError, match="triggers: and needs at least one trigger"):
        AndTrigger([])
    with pytest.raises(ValueError, match=r"triggers\[1\]: expected a Trigger instance, got 'cron'"):
        OrTrigger([CronTrigger(hour=1, timezone=UTC), "cron"])  # type: ignore[list-item]
    with pytest.raises(ValueError, match=r"triggers\[0\]: .* jitter=5.0"):
        AndTrigger([CronTrigger(hour=1, timezone=UTC, jitter=5)])
    with pytest.raises(ValueError, match="jitter"):
        OrTrigger([CronTrigger(hour=1, timezone=UTC)], jitter=-2)
    with pytest.raises(TypeError, match="timezone"):
        OrTrigger([CronTrigger(hour=1, timezone=UTC)], timezone=UTC)  # type: ignore[call-arg]


def test_str_and_repr() -> None:
    trigger = AndTrigger([CronTrigger(day=13, timezone=UTC), CronTrigger(day_of_week="fri", timezone=UTC)], jitter=3)
    assert str(trigger) == "and[cron[day='13'], cron[day_of_week='fri']]"
    assert repr(trigger) == (
        "<AndTrigger (triggers=[<CronTrigger (day='13', timezone='UTC')>, "
        "<CronTrigger (day_of_week='fri', timezone='UTC')>], jitter=3.0)>"
    )
    assert str(OrTrigger([CronTrigger.from_crontab("@daily", timezone=UTC)])) == "or[cron[crontab='@daily']]"


@pytest.mark.parametrize("kind", [AndTrigger, OrTrigger])
def test_pickles_round_trip_equal_and_keep_working(kind: type[AndTrigger]) -> None:
    trigger = kind([CronTrigger(day=13, timezone="Europe/Berlin"), CronTrigger.from_crontab("0 0 * * 5", timezone=UTC)])
    restored = pickle.loads(pickle.dumps(trigger))
    assert restored == trigger
    assert restored.get_next_trigger_time(UTC, None, JAN_1) == trigger.get_next_trigger_time(UTC, None, JAN_1)
