"""Cron trigger: fields, expressions, defaults, validation, display and persistence."""

from __future__ import annotations

import pickle
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from asyncz_like import plugins
from asyncz_like.triggers.cron import CronTrigger

UTC = timezone.utc
BERLIN = ZoneInfo("Europe/Berlin")


def fires(trigger: CronTrigger, now: datetime, count: int = 4) -> list[str]:
    """The next ``count`` fire times from ``now``, each fed back as the previous fire time."""
    times: list[str] = []
    previous = None
    for _ in range(count):
        previous = trigger.get_next_trigger_time(UTC, previous, now)
        if previous is None:
            break
        times.append(previous.isoformat())
    return times


JAN_1 = datetime(2026, 1, 1, tzinfo=UTC)  # a Thursday


def test_registered_under_the_cron_alias() -> None:
    assert plugins.plugin_class("asyncz_like.triggers", "cron") is CronTrigger


def test_first_fire_is_at_or_after_now_and_later_ones_strictly_after_the_previous() -> None:
    trigger = CronTrigger(minute="*/5", timezone=UTC)
    on_the_dot = datetime(2026, 1, 1, 10, 5, tzinfo=UTC)
    assert trigger.get_next_trigger_time(UTC, None, on_the_dot) == on_the_dot
    assert trigger.get_next_trigger_time(UTC, on_the_dot, on_the_dot).minute == 10
    assert trigger.get_next_trigger_time(UTC, None, on_the_dot.replace(microsecond=1)).minute == 10


def test_keyword_fields_smaller_than_the_smallest_given_default_to_their_minimum() -> None:
    # hour given: minute and second are 0, day/month/year are '*'
    assert fires(CronTrigger(hour=9, timezone=UTC), JAN_1, 2) == [
        "2026-01-01T09:00:00+00:00",
        "2026-01-02T09:00:00+00:00",
    ]
    # month given: day defaults to 1, time to midnight
    assert fires(CronTrigger(month="3,6", timezone=UTC), JAN_1, 2) == [
        "2026-03-01T00:00:00+00:00",
        "2026-06-01T00:00:00+00:00",
    ]


def test_week_and_day_of_week_do_not_default_to_their_minimum() -> None:
    assert fires(CronTrigger(year=2026, timezone=UTC), JAN_1, 1) == ["2026-01-01T00:00:00+00:00"]
    # ISO week 2 of 2026 runs Mon 5 Jan .. Sun 11 Jan; of 2027, Mon 11 Jan .. Sun 17 Jan
    in_week_2 = fires(CronTrigger(week=2, timezone=UTC), JAN_1, 8)
    assert [time[:10] for time in in_week_2] == [f"2026-01-{day:02}" for day in range(5, 12)] + ["2027-01-11"]
    assert {time[10:] for time in in_week_2} == {"T00:00:00+00:00"}


def test_keyword_fields_are_all_required_to_match() -> None:
    # day 13 AND Friday: Friday the 13th only
    assert fires(CronTrigger(day=13, day_of_week="fri", timezone=UTC), JAN_1, 2) == [
        "2026-02-13T00:00:00+00:00",
        "2026-03-13T00:00:00+00:00",
    ]


def test_keyword_day_of_week_counts_from_monday() -> None:
    assert fires(CronTrigger(day_of_week=0, hour=9, timezone=UTC), JAN_1, 1) == ["2026-01-05T09:00:00+00:00"]
    assert fires(CronTrigger(day_of_week="mon-fri", hour=9, timezone=UTC), datetime(2026, 1, 2, 10, tzinfo=UTC), 2) == [
        "2026-01-05T09:00:00+00:00",
        "2026-01-06T09:00:00+00:00",
    ]
    assert fires(CronTrigger(day_of_week="sun", timezone=UTC), JAN_1, 1) == ["2026-01-04T00:00:00+00:00"]


def test_expressions_ranges_steps_lists_and_names() -> None:
    assert fires(CronTrigger(minute="10-20/5", timezone=UTC), JAN_1, 4) == [
        "2026-01-01T00:10:00+00:00",
        "2026-01-01T00:15:00+00:00",
        "2026-01-01T00:20:00+00:00",
        "2026-01-01T01:10:00+00:00",
    ]
    assert fires(CronTrigger(second="50/5", timezone=UTC), JAN_1, 3) == [
        "2026-01-01T00:00:50+00:00",
        "2026-01-01T00:00:55+00:00",
        "2026-01-01T00:01:50+00:00",
    ]
    assert fires(CronTrigger(month="feb,AUG", day=1, timezone=UTC), JAN_1, 2) == [
        "2026-02-01T00:00:00+00:00",
        "2026-08-01T00:00:00+00:00",
    ]
    assert fires(CronTrigger(year="2027-2028/1", month=1, day=1, timezone=UTC), JAN_1, 3) == [
        "2027-01-01T00:00:00+00:00",
        "2028-01-01T00:00:00+00:00",
    ]


def test_last_day_last_weekday_and_nth_weekday_of_the_month() -> None:
    assert fires(CronTrigger(day="last", timezone=UTC), JAN_1, 3) == [
        "2026-01-31T00:00:00+00:00",
        "2026-02-28T00:00:00+00:00",
        "2026-03-31T00:00:00+00:00",
    ]
    assert fires(CronTrigger(day="last fri", timezone=UTC), JAN_1, 2) == [
        "2026-01-30T00:00:00+00:00",
        "2026-02-27T00:00:00+00:00",
    ]
    assert fires(CronTrigger(day="2nd wed,1st mon", hour=9, timezone=UTC), JAN_1, 3) == [
        "2026-01-05T09:00:00+00:00",
        "2026-01-14T09:00:00+00:00",
        "2026-02-02T09:00:00+00:00",
    ]
    # a 5th Friday exists only in some months
    assert fires(CronTrigger(day="5th fri", timezone=UTC), JAN_1, 2) == [
        "2026-01-30T00:00:00+00:00",
        "2026-05-29T00:00:00+00:00",
    ]


def test_day_31_skips_short_months_and_feb_29_waits_for_a_leap_year() -> None:
    assert fires(CronTrigger(day=31, timezone=UTC), datetime(2026, 3, 31, 1, tzinfo=UTC), 2) == [
        "2026-05-31T00:00:00+00:00",
        "2026-07-31T00:00:00+00:00",
    ]
    assert fires(CronTrigger(month=2, day=29, timezone=UTC), JAN_1, 2) == [
        "2028-02-29T00:00:00+00:00",
        "2032-02-29T00:00:00+00:00",
    ]


def test_a_schedule_that_can_never_match_returns_none_quickly() -> None:
    assert CronTrigger(month=2, day=30, timezone=UTC).get_next_trigger_time(UTC, None, JAN_1) is None
    assert CronTrigger(year=2025, timezone=UTC).get_next_trigger_time(UTC, None, JAN_1) is None


def test_crontab_form_reads_five_fields_with_sunday_as_zero_and_seven() -> None:
    assert fires(CronTrigger.from_crontab("30 6 * * 0", timezone=UTC), JAN_1, 1) == ["2026-01-04T06:30:00+00:00"]
    assert fires(CronTrigger.from_crontab("30 6 * * 7", timezone=UTC), JAN_1, 1) == ["2026-01-04T06:30:00+00:00"]
    assert fires(CronTrigger.from_crontab("0 0 * * MON", timezone=UTC), JAN_1, 1) == ["2026-01-05T00:00:00+00:00"]


def test_crontab_restricted_day_of_month_and_day_of_week_fire_on_either() -> None:
    # crontab(5): the 1st of the month OR any Monday
    assert fires(CronTrigger.from_crontab("0 0 1 * 1", timezone=UTC), datetime(2026, 1, 27, tzinfo=UTC), 3) == [
        "2026-02-01T00:00:00+00:00",
        "2026-02-02T00:00:00+00:00",
        "2026-02-09T00:00:00+00:00",
    ]


def test_crontab_day_field_starting_with_a_star_counts_as_unrestricted() -> None:
    # crontab(5): "restricted" means not starting with '*', so */2 with a weekday is AND-ed
    assert fires(CronTrigger.from_crontab("0 0 */2 * 1", timezone=UTC), JAN_1, 2) == [
        "2026-01-05T00:00:00+00:00",
        "2026-01-19T00:00:00+00:00",
    ]


@pytest.mark.parametrize(
    ("shorthand", "first"),
    [
        ("@yearly", "2027-01-01T00:00:00+00:00"),
        ("@annually", "2027-01-01T00:00:00+00:00"),
        ("@monthly", "2026-02-01T00:00:00+00:00"),
        ("@weekly", "2026-01-04T00:00:00+00:00"),
        ("@daily", "2026-01-02T00:00:00+00:00"),
        ("@midnight", "2026-01-02T00:00:00+00:00"),
        ("@hourly", "2026-01-01T01:00:00+00:00"),
    ],
)
def test_crontab_shorthands(shorthand: str, first: str) -> None:
    trigger = CronTrigger.from_crontab(shorthand, timezone=UTC)
    assert trigger.get_next_trigger_time(UTC, JAN_1, JAN_1).isoformat() == first  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("kwargs", "field", "bad"),
    [
        ({"minute": 60}, "minute", "60"),
        ({"hour": "25"}, "hour", "25"),
        ({"day": 0}, "day", "0"),
        ({"month": "13"}, "month", "13"),
        ({"month": "foo"}, "month", "foo"),
        ({"day_of_week": "fry"}, "day_of_week", "fry"),
        ({"day_of_week": 7}, "day_of_week", "7"),
        ({"week": 54}, "week", "54"),
        ({"year": 1900}, "year", "1900"),
        ({"minute": "*/0"}, "minute", "0"),
        ({"minute": "*/x"}, "minute", "x"),
        ({"second": "*/61"}, "second", "61"),
        ({"hour": "17-9"}, "hour", "17-9"),
        ({"day": "last fry"}, "day", "fry"),
        ({"day": "6th mon"}, "day", "6th mon"),
        ({"minute": "1,,2"}, "minute", "1,,2"),
        ({"minute": 1.5}, "minute", "1.5"),
        ({"minute": True}, "minute", "True"),
    ],
)
def test_bad_fields_raise_at_construction_naming_field_and_value(
    kwargs: dict[str, object], field: str, bad: str
) -> None:
    with pytest.raises(ValueError, match=rf"^{field}: .*{bad}"):
        CronTrigger(timezone=UTC, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("* * * *", "crontab: expected 5 fields .* got 4"),
        ("0 0 * * * *", "crontab: expected 5 fields .* got 6"),
        ("@reboot", "crontab: unknown shorthand '@reboot'"),
        ("0 0 * * 8", "day_of_week: value 8 is out of range 0-7"),
        ("0 0 L * *", "day: unknown value 'l'"),
        ("0 0 last * *", "day: unknown value 'last'"),
        ("0 0 * * sat-sun", "day_of_week: reversed range 'sat-sun'"),
        ("60 * * * *", "minute: value 60 is out of range 0-59"),
    ],
)
def test_bad_crontab_lines_raise_naming_the_field(line: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CronTrigger.from_crontab(line, timezone=UTC)


def test_other_bad_arguments_name_themselves() -> None:
    with pytest.raises(ValueError, match="jitter"):
        CronTrigger(minute=1, jitter=-1)
    with pytest.raises(ValueError, match="timezone"):
        CronTrigger(minute=1, timezone="Mars/Olympus")
    with pytest.raises(ValueError, match="end_at"):
        CronTrigger(minute=1, start_at="2026-02-01", end_at="2026-01-01", timezone=UTC)
    with pytest.raises(TypeError, match="minutes"):
        CronTrigger(minutes=1)  # type: ignore[call-arg]


def test_start_at_and_end_at_bound_the_schedule() -> None:
    trigger = CronTrigger(hour=12, start_at="2026-01-10 13:00", end_at="2026-01-12 12:00", timezone=UTC)
    assert fires(trigger, JAN_1, 5) == [
        "2026-01-11T12:00:00+00:00",
        "2026-01-12T12:00:00+00:00",
    ]


def test_naive_times_are_read_in_the_trigger_zone_and_results_are_in_it() -> None:
    trigger = CronTrigger(hour=9, timezone="Europe/Berlin")
    found = trigger.get_next_trigger_time(UTC, None, datetime(2026, 1, 1, 10))
    assert found is not None and found.isoformat() == "2026-01-02T09:00:00+01:00"
    assert found.tzinfo is BERLIN or str(found.tzinfo) == "Europe/Berlin"


def test_jitter_delays_by_at_most_the_given_seconds() -> None:
    trigger = CronTrigger(minute=0, jitter=30, timezone=UTC)
    exact = datetime(2026, 1, 1, 1, tzinfo=UTC)
    delays = {
        (trigger.get_next_trigger_time(UTC, None, JAN_1.replace(minute=1)) - exact).total_seconds() for _ in range(50)
    }  # type: ignore[operator]
    assert all(0 <= delay <= 30 for delay in delays)
    assert len(delays) > 1


def test_str_and_repr_say_what_the_trigger_means() -> None:
    assert str(CronTrigger(hour="9-17", minute="*/5", timezone=UTC)) == "cron[minute='*/5', hour='9-17']"
    assert str(CronTrigger.from_crontab("0 9 * * 1-5", timezone=UTC)) == "cron[crontab='0 9 * * 1-5']"
    assert repr(CronTrigger(day="last fri", timezone="Europe/Berlin", jitter=5)) == (
        "<CronTrigger (day='last fri', timezone='Europe/Berlin', jitter=5.0)>"
    )
    assert repr(CronTrigger.from_crontab("@daily", timezone=UTC, end_at="2026-02-01T00:00:00+00:00")) == (
        "<CronTrigger (crontab='@daily', end_at='2026-02-01T00:00:00+00:00', timezone='UTC')>"
    )


@pytest.mark.parametrize(
    "trigger",
    [
        CronTrigger(day="last fri", hour="9-17", minute="*/5", timezone="Europe/Berlin", jitter=3),
        CronTrigger.from_crontab("0 0 13 * 5", timezone="America/New_York", start_at="2026-01-01"),
    ],
    ids=str,
)
def test_pickles_round_trip_equal_and_keep_working(trigger: CronTrigger) -> None:
    restored = pickle.loads(pickle.dumps(trigger))
    assert restored == trigger
    assert str(restored) == str(trigger)
    trigger.jitter = restored.jitter = None
    assert restored.get_next_trigger_time(UTC, None, JAN_1) == trigger.get_next_trigger_time(UTC, None, JAN_1)
    assert "_compiled" not in trigger.__getstate__()


def test_equality_depends_on_the_definition() -> None:
    assert CronTrigger(minute="*/5", timezone=UTC) == CronTrigger(minute="*/5", timezone=UTC)
    assert CronTrigger(minute="*/5", timezone=UTC) != CronTrigger(minute="*/10", timezone=UTC)
    assert CronTrigger.from_crontab("0 0 * * 1", timezone=UTC) != CronTrigger(
        minute=0, hour=0, day_of_week=1, timezone=UTC
    )
