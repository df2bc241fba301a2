"""Fire every fixed span of elapsed time."""

from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from asyncz_like._limits import MAX_RUN_TIME, MAX_SECONDS, MIN_INTERVAL, to_seconds
from asyncz_like._time import UTC, local_timezone, to_datetime
from asyncz_like.abc import Trigger
from asyncz_like.exceptions import ArgumentError
from asyncz_like.triggers.base import apply_jitter, check_jitter, resolve_timezone, zone_name

_UNIT_SECONDS = {"weeks": 604_800, "days": 86_400, "hours": 3_600, "minutes": 60, "seconds": 1}


class IntervalTrigger(Trigger):
    """Fires at ``start_at + k * interval``. The span is elapsed (real) time, so across a
    DST change a daily interval keeps 24 real hours and the wall-clock hour moves; use
    the cron trigger for "every day at 09:00".

    Fire times sit on a grid anchored at ``start_at`` (default: now + interval), so
    jitter and late runs never make the schedule drift.

    The interval is at least 1 ms and at most 10 years; each unit takes a finite,
    non-negative real number (``Fraction`` and ``Decimal`` are converted to float).
    """

    alias = "interval"
    __slots__ = ("end_at", "interval", "start_at", "start_default", "timezone")

    def __init__(
        self,
        weeks: float = 0,
        days: float = 0,
        hours: float = 0,
        minutes: float = 0,
        seconds: float = 0,
        start_at: datetime | date | str | None = None,
        end_at: datetime | date | str | None = None,
        timezone: str | tzinfo | None = None,
        jitter: float | None = None,
        **kwargs: Any,
    ) -> None:
        if kwargs:
            raise TypeError(f"interval trigger: unexpected argument(s) {sorted(kwargs)}")
        self.interval = interval = _interval(weeks=weeks, days=days, hours=hours, minutes=minutes, seconds=seconds)
        tz = resolve_timezone(timezone, start_at if isinstance(start_at, datetime) else None) or local_timezone()
        self.timezone = tz
        self.start_at = to_datetime(start_at, tz, "start_at") if start_at is not None else datetime.now(tz) + interval
        self.start_default = start_at is None  # moved onto the scheduler's clock when the task is added
        self.end_at = to_datetime(end_at, tz, "end_at")
        if self.end_at is not None and self.end_at < self.start_at:
            raise ArgumentError("end_at", f"{self.end_at.isoformat()} is before start_at {self.start_at.isoformat()}")
        self.jitter = check_jitter(jitter)

    def use_scheduler_defaults(self, timezone: tzinfo, now: datetime, first_run_time: datetime | None = None) -> None:
        """Without ``start_at`` the grid starts at the task's explicit first run time, else at
        the scheduler's now + interval (its ``clock=``), as asyncz's starts at its first run."""
        if getattr(self, "start_default", False):
            self.start_at = (first_run_time or now + self.interval).astimezone(self.timezone)
            self.start_default = False

    def get_next_trigger_time(
        self, timezone: tzinfo, previous_time: datetime | None, now: datetime | None = None
    ) -> datetime | None:
        # Arithmetic in UTC: Python adds timedeltas to same-zone datetimes on the wall clock.
        start = self.start_at.astimezone(UTC)
        if previous_time is None:
            reference = (now or datetime.now(UTC)).astimezone(UTC)
            if reference <= start:
                next_time = start
            else:
                steps = -((start - reference) // self.interval)  # ceil division
                if steps > (MAX_RUN_TIME - start) // self.interval:
                    return None
                next_time = start + self.interval * steps
        else:
            steps = max((previous_time.astimezone(UTC) - start) // self.interval + 1, 0)
            if steps > (MAX_RUN_TIME - start) // self.interval:
                return None  # past the latest supported run time: finished
            next_time = start + self.interval * steps
        if next_time > MAX_RUN_TIME or (self.end_at is not None and next_time > self.end_at):
            return None
        return apply_jitter(next_time.astimezone(self.timezone), self.jitter)

    def __str__(self) -> str:
        return f"interval[{self.interval}]"

    def __repr__(self) -> str:
        parts = [f"interval={self.interval!r}", f"start_at='{self.start_at.isoformat()}'"]
        if self.end_at is not None:
            parts.append(f"end_at='{self.end_at.isoformat()}'")
        parts.append(f"timezone='{zone_name(self.timezone)}'")
        if self.jitter:
            parts.append(f"jitter={self.jitter}")
        return f"<IntervalTrigger ({', '.join(parts)})>"


def _interval(**units: Any) -> timedelta:
    """The span the units add up to: each a finite non-negative number, the sum 1 ms .. 10 years."""
    total = 0.0
    for name, value in units.items():
        if type(value) is int and value == 0:  # an unused unit (the default)
            continue
        units[name] = amount = to_seconds(value, name, maximum=MAX_SECONDS / _UNIT_SECONDS[name], unit=name)
        total += amount * _UNIT_SECONDS[name]
    if total > MAX_SECONDS:
        raise ArgumentError("interval", f"weeks/days/hours/minutes/seconds add up to {total:g} s, more than 10 years")
    interval = timedelta(**units)
    if interval < MIN_INTERVAL:
        raise ArgumentError(
            "interval",
            f"weeks/days/hours/minutes/seconds must add up to at least 1 ms, got {interval.total_seconds()} s",
        )
    return interval
