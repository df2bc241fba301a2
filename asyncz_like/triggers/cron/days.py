"""Which days of a given month a schedule allows.

Day-of-month, day-of-week and ISO-week constraints interact (``last fri``, ``2nd wed``,
the crontab(5) OR rule), so instead of testing each day on every call the schedule asks
this module once per (year, month) and caches the sorted tuple of matching days.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

from asyncz_like.triggers.cron.fields import DAY, WEEKDAY_NAMES, parse_term, split_terms

_LAST_WEEKDAY = re.compile(r"^last\s+(?P<wd>[a-z]+)$")
_NTH_WEEKDAY = re.compile(r"^(?P<n>[1-5])(?:st|nd|rd|th)\s+(?P<wd>[a-z]+)$")


@dataclass(frozen=True)
class DayOfMonth:
    """Plain day numbers plus the month-relative forms: ``last``, ``last <wd>``, ``<n>th <wd>``."""

    numbers: frozenset[int]
    last_day: bool = False
    last_weekdays: frozenset[int] = frozenset()
    nth_weekdays: frozenset[tuple[int, int]] = frozenset()  # (n, weekday)

    def days(self, first_weekday: int, month_length: int) -> set[int]:
        found = {day for day in self.numbers if day <= month_length}
        if self.last_day:
            found.add(month_length)
        for weekday in self.last_weekdays:
            last_weekday = (first_weekday + month_length - 1) % 7
            found.add(month_length - (last_weekday - weekday) % 7)
        for n, weekday in self.nth_weekdays:
            day = 1 + (weekday - first_weekday) % 7 + 7 * (n - 1)
            if day <= month_length:
                found.add(day)
        return found


def _weekday(text: str, expression: str) -> int:
    if text not in WEEKDAY_NAMES:
        raise ValueError(f"day: unknown weekday {text!r} in {expression!r} (use mon..sun)")
    return WEEKDAY_NAMES.index(text)


def parse_day_of_month(expression: str, allow_relative: bool = True) -> DayOfMonth:
    """Parse the ``day`` field; the crontab form (``allow_relative=False``) takes numbers only."""
    numbers: set[int] = set()
    last_day = False
    last_weekdays: set[int] = set()
    nth_weekdays: set[tuple[int, int]] = set()
    for term in split_terms(DAY, expression):
        if allow_relative and term == "last":
            last_day = True
        elif allow_relative and (match := _LAST_WEEKDAY.match(term)):
            last_weekdays.add(_weekday(match.group("wd"), expression))
        elif allow_relative and (match := _NTH_WEEKDAY.match(term)):
            nth_weekdays.add((int(match.group("n")), _weekday(match.group("wd"), expression)))
        else:
            numbers.update(parse_term(DAY, term, expression))
    return DayOfMonth(frozenset(numbers), last_day, frozenset(last_weekdays), frozenset(nth_weekdays))


@dataclass(frozen=True)
class DayRule:
    """The day constraints of one schedule. ``None`` means unrestricted.

    ``either`` is the crontab(5) rule: when both day-of-month and day-of-week are
    restricted, a day matching either one fires. Otherwise all constraints must hold.
    """

    day_of_month: DayOfMonth | None
    weekdays: frozenset[int] | None  # 0 = Monday
    weeks: frozenset[int] | None  # ISO week numbers
    either: bool = False

    def month_days(self, year: int, month: int) -> tuple[int, ...]:
        first_weekday, length = calendar.monthrange(year, month)
        by_date = None if self.day_of_month is None else self.day_of_month.days(first_weekday, length)
        by_weekday = None
        if self.weekdays is not None:
            by_weekday = {day for day in range(1, length + 1) if (first_weekday + day - 1) % 7 in self.weekdays}
        if by_date is not None and by_weekday is not None:
            chosen = by_date | by_weekday if self.either else by_date & by_weekday
        elif by_date is not None:
            chosen = by_date
        elif by_weekday is not None:
            chosen = by_weekday
        else:
            chosen = set(range(1, length + 1))
        if self.weeks is not None:
            weeks = self.weeks
            chosen = {day for day in chosen if date(year, month, day).isocalendar()[1] in weeks}
        return tuple(sorted(chosen))
