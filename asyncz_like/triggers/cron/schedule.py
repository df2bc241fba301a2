"""The compiled form of a cron schedule and its wall-clock search.

A :class:`Schedule` works purely in naive wall-clock fields (year .. second): it finds
the first wall time at or after a given one that every field allows, by bisecting the
sorted value tuples precomputed per field. Time zones and DST are handled by the trigger,
which localizes the result once. Schedules are immutable and shared (``compile_schedule``
is cached), so the same expression used by many tasks is parsed and cached only once.
"""

from __future__ import annotations

from bisect import bisect_left
from functools import lru_cache

from asyncz_like.triggers.cron.days import DayRule, parse_day_of_month
from asyncz_like.triggers.cron.fields import (
    CRONTAB_DAY_OF_WEEK,
    DAY_OF_WEEK,
    HOUR,
    MINUTE,
    MONTH,
    SECOND,
    WEEK,
    YEAR,
    parse_field,
)

#: The Gregorian calendar (weekdays and ISO weeks included) repeats every 400 years, so a
#: schedule with no match in 400 consecutive years never matches: the search stops there.
SEARCH_YEARS = 400
MAX_YEAR = 9999
_CACHE_LIMIT = 4096

Wall = tuple[int, int, int, int, int, int]


class Schedule:
    """Allowed values per field plus the per-month day cache."""

    __slots__ = ("_month_days", "days", "hours", "minutes", "months", "repeats_in_overlap", "seconds", "years")

    def __init__(
        self,
        years: tuple[int, ...] | None,
        months: tuple[int, ...],
        days: DayRule,
        hours: tuple[int, ...],
        minutes: tuple[int, ...],
        seconds: tuple[int, ...],
        repeats_in_overlap: bool,
    ) -> None:
        self.years = years
        self.months = months
        self.days = days
        self.hours = hours
        self.minutes = minutes
        self.seconds = seconds
        self.repeats_in_overlap = repeats_in_overlap
        self._month_days: dict[int, tuple[int, ...]] = {}

    def month_days(self, year: int, month: int) -> tuple[int, ...]:
        key = year * 16 + month
        found = self._month_days.get(key)
        if found is None:
            found = self.days.month_days(year, month)
            if len(self._month_days) >= _CACHE_LIMIT:
                self._month_days.clear()
            self._month_days[key] = found
        return found

    def next_wall(self, y: int, mo: int, d: int, h: int, mi: int, s: int) -> Wall | None:
        """The first allowed wall time at or after the given one, or None (none within the horizon).

        Each field is bisected in turn; an exhausted field carries into the next larger one
        (an hour of 24 or a day past the month's end simply fails the next bisect).
        """
        years, months, hours, minutes, seconds = self.years, self.months, self.hours, self.minutes, self.seconds
        horizon = MAX_YEAR if years is not None else min(MAX_YEAR, y + SEARCH_YEARS)
        while True:
            if years is not None:
                i = bisect_left(years, y)
                if i == len(years):
                    return None
                if years[i] != y:
                    y, mo, d, h, mi, s = years[i], 1, 1, 0, 0, 0
            if y > horizon:
                return None
            i = bisect_left(months, mo)
            if i == len(months):
                y, mo, d, h, mi, s = y + 1, 1, 1, 0, 0, 0
                continue
            if months[i] != mo:
                mo, d, h, mi, s = months[i], 1, 0, 0, 0
            days = self.month_days(y, mo)
            i = bisect_left(days, d)
            if i == len(days):
                mo, d, h, mi, s = mo + 1, 1, 0, 0, 0
                continue
            if days[i] != d:
                d, h, mi, s = days[i], 0, 0, 0
            i = bisect_left(hours, h)
            if i == len(hours):
                d, h, mi, s = d + 1, 0, 0, 0
                continue
            if hours[i] != h:
                h, mi, s = hours[i], 0, 0
            i = bisect_left(minutes, mi)
            if i == len(minutes):
                h, mi, s = h + 1, 0, 0
                continue
            if minutes[i] != mi:
                mi, s = minutes[i], 0
            i = bisect_left(seconds, s)
            if i == len(seconds):
                mi, s = mi + 1, 0
                continue
            return y, mo, d, h, mi, seconds[i]


FIELD_ORDER = ("year", "month", "day", "week", "day_of_week", "hour", "minute", "second")


@lru_cache(maxsize=512)
def compile_schedule(fields: tuple[tuple[str, str], ...], crontab: bool) -> Schedule:
    """Build a schedule from the effective expression of every field (``FIELD_ORDER``).

    ``crontab`` selects crontab(5) semantics: Sunday is 0 or 7 and a restricted day of
    month is OR-ed with a restricted day of week.
    """
    expr = dict(fields)
    years = None if expr["year"] == "*" else parse_field(YEAR, expr["year"])
    day_of_month = None if expr["day"] == "*" else parse_day_of_month(expr["day"], allow_relative=not crontab)
    if expr["day_of_week"] == "*":
        weekdays = None
    elif crontab:
        weekdays = frozenset((value + 6) % 7 for value in parse_field(CRONTAB_DAY_OF_WEEK, expr["day_of_week"]))
    else:
        weekdays = frozenset(parse_field(DAY_OF_WEEK, expr["day_of_week"]))
    weeks = None if expr["week"] == "*" else frozenset(parse_field(WEEK, expr["week"]))
    either = crontab and not expr["day"].startswith("*") and not expr["day_of_week"].startswith("*")
    # Like cron(8): a schedule whose second, minute or hour field is a wildcard runs on every
    # real instant of a repeated (fall-back) hour; a fixed time of day runs only once.
    repeats = any(expr[name].startswith("*") for name in ("hour", "minute", "second"))
    return Schedule(
        years,
        parse_field(MONTH, expr["month"]),
        DayRule(day_of_month, weekdays, weeks, either),
        parse_field(HOUR, expr["hour"]),
        parse_field(MINUTE, expr["minute"]),
        parse_field(SECOND, expr["second"]),
        repeats,
    )
