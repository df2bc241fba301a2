"""Fire every business day (Monday to Friday, not a public holiday) at one wall-clock time."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from typing import Any

import holidays

from asyncz_like._time import local_timezone, localize, to_datetime
from asyncz_like.abc import Trigger
from asyncz_like.triggers.base import apply_jitter, check_jitter, resolve_timezone, zone_name

# No real calendar has a year without a business day; the bound only stops a broken
# calendar from turning the search into an endless loop.
MAX_SEARCH_DAYS = 366


@lru_cache(maxsize=128)
def _holidays(country: str, subdiv: str | None, year: int) -> frozenset[date]:
    """One year's public holidays. Cached per process, so the trigger itself stays plain,
    picklable data (country and subdivision codes) and never carries a calendar object."""
    return frozenset(holidays.country_holidays(country, subdiv=subdiv, years=year))


def _check_part(name: str, value: Any, highest: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= highest:
        raise ValueError(f"{name}: must be an integer from 0 to {highest}, got {value!r}")
    return value


def _check_calendar(country: Any, subdiv: Any) -> None:
    if not isinstance(country, str) or not country:
        raise ValueError(f"country: must be a country code such as 'DE', got {country!r}")
    if subdiv is not None and (not isinstance(subdiv, str) or not subdiv):
        raise ValueError(f"subdiv: must be a subdivision code such as 'BY' or None, got {subdiv!r}")
    try:
        holidays.country_holidays(country)
    except NotImplementedError as exc:
        raise ValueError(
            f"country: {country!r} has no holiday calendar in the holidays package "
            "(see holidays.list_supported_countries())"
        ) from exc
    if subdiv is not None:
        try:
            holidays.country_holidays(country, subdiv=subdiv)
        except NotImplementedError as exc:
            raise ValueError(f"subdiv: {country!r} has no subdivision {subdiv!r}") from exc


class BusinessDaysTrigger(Trigger):
    """Fires at ``hour:minute:second`` local time on every weekday that is not a public
    holiday of ``country`` (optionally of the subdivision ``subdiv``, e.g. a German state).

    The time is wall-clock time in ``timezone`` (default: the machine's zone), so it stays
    at 09:00 across daylight-saving changes. A time that does not exist on a given day
    (inside a spring-forward gap) is moved forward by the length of the gap, and a time
    that occurs twice (fall-back overlap) fires at its first occurrence.
    """

    alias = "business_days"
    __slots__ = ("country", "end_at", "hour", "minute", "second", "start_at", "subdiv", "timezone")

    def __init__(
        self,
        hour: int = 9,
        minute: int = 0,
        second: int = 0,
        country: str = "DE",
        subdiv: str | None = None,
        timezone: str | tzinfo | None = None,
        start_at: datetime | date | str | None = None,
        end_at: datetime | date | str | None = None,
        jitter: float | None = None,
        **kwargs: Any,
    ) -> None:
        if kwargs:
            raise TypeError(f"business_days trigger: unexpected argument(s) {sorted(kwargs)}")
        self.hour = _check_part("hour", hour, 23)
        self.minute = _check_part("minute", minute, 59)
        self.second = _check_part("second", second, 59)
        _check_calendar(country, subdiv)
        self.country = country
        self.subdiv = subdiv
        tz = resolve_timezone(timezone, start_at if isinstance(start_at, datetime) else None) or local_timezone()
        self.timezone = tz
        self.start_at = to_datetime(start_at, tz, "start_at")
        self.end_at = to_datetime(end_at, tz, "end_at")
        if self.start_at is not None and self.end_at is not None and self.end_at < self.start_at:
            raise ValueError(f"end_at: {self.end_at.isoformat()} is before start_at {self.start_at.isoformat()}")
        self.jitter = check_jitter(jitter)

    def is_business_day(self, day: date) -> bool:
        """Monday to Friday and not a public holiday of the trigger's calendar."""
        return day.weekday() < 5 and day not in _holidays(self.country, self.subdiv, day.year)

    def get_next_trigger_time(
        self, timezone: tzinfo, previous_time: datetime | None, now: datetime | None = None
    ) -> datetime | None:
        """The first fire time strictly after ``previous_time``; without one, the first
        at or after ``now`` (and never before ``start_at``)."""
        if previous_time is not None:
            earliest, strictly_after = previous_time, True
        else:
            earliest, strictly_after = (now if now is not None else datetime.now(self.timezone)), False
        if self.start_at is not None and self.start_at > earliest:
            earliest, strictly_after = self.start_at, False
        day = earliest.astimezone(self.timezone).date()
        at = time(self.hour, self.minute, self.second)
        for _ in range(MAX_SEARCH_DAYS):
            if self.is_business_day(day):
                fire = localize(datetime.combine(day, at), self.timezone)
                if fire > earliest or (fire == earliest and not strictly_after):
                    if self.end_at is not None and fire > self.end_at:
                        return None
                    return apply_jitter(fire, self.jitter)
            day += timedelta(days=1)
        return None

    def __str__(self) -> str:
        clock = f"{self.hour:02d}:{self.minute:02d}" + (f":{self.second:02d}" if self.second else "")
        region = self.country + (f"-{self.subdiv}" if self.subdiv else "")
        return f"business_days[{clock} {region}]"

    def __repr__(self) -> str:
        parts = [f"hour={self.hour}", f"minute={self.minute}", f"second={self.second}", f"country={self.country!r}"]
        if self.subdiv:
            parts.append(f"subdiv={self.subdiv!r}")
        parts.append(f"timezone='{zone_name(self.timezone)}'")
        for name in ("start_at", "end_at"):
            value = getattr(self, name)
            if value is not None:
                parts.append(f"{name}='{value.isoformat()}'")
        if self.jitter:
            parts.append(f"jitter={self.jitter}")
        return f"<BusinessDaysTrigger ({', '.join(parts)})>"
