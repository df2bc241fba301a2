"""Fire when the wall clock matches cron fields, correctly across DST changes."""

from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo
from datetime import timezone as dt_timezone
from typing import Any

from asyncz_like._limits import MAX_RUN_TIME
from asyncz_like._time import local_timezone, localize, to_datetime
from asyncz_like.abc import Trigger
from asyncz_like.exceptions import ArgumentError, ArgumentTypeError
from asyncz_like.triggers.base import apply_jitter, check_jitter, resolve_timezone, zone_name
from asyncz_like.triggers.cron.dst import transition
from asyncz_like.triggers.cron.fields import MAX_EXPRESSION_LENGTH, normalize_expression
from asyncz_like.triggers.cron.schedule import FIELD_ORDER, Schedule, compile_schedule

UTC = dt_timezone.utc
_SECOND = timedelta(seconds=1)
_TICK = timedelta(microseconds=1)

#: Keyword form: a field smaller than the smallest one given starts at its minimum.
_DEFAULTS = {
    "year": "*",
    "month": "1",
    "day": "1",
    "week": "*",
    "day_of_week": "*",
    "hour": "0",
    "minute": "0",
    "second": "0",
}
#: Order of fields in ``str()``: smallest first, as in a crontab line.
_DISPLAY_ORDER = ("second", "minute", "hour", "day", "month", "day_of_week", "week", "year")
_SHORTHANDS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}

Moment = datetime | date | str | None


def _utc(value: datetime, tz: tzinfo) -> datetime:
    """The same instant as an aware UTC datetime (a naive one is read as wall time in ``tz``)."""
    if value.tzinfo is None:
        value = localize(value, tz)
    return value.astimezone(UTC)


class CronTrigger(Trigger):
    """Fires at the wall-clock times the fields allow, in ``timezone``.

    Keyword form (as APScheduler 3 and asyncz): all given fields must match; fields smaller
    than the smallest one given default to their minimum, larger ones to ``*``; Monday is
    day 0. ``from_crontab`` reads a crontab(5) line instead (Sunday is 0 or 7, and a
    restricted day of month is OR-ed with a restricted day of week).

    Across DST: a time in a spring-forward gap fires once, at the instant the clock jumps
    to; in a fall-back overlap a fixed time of day fires once (its first occurrence) while
    a schedule whose hour, minute or second field is a wildcard fires on every real instant.
    """

    alias = "cron"
    __slots__ = ("_compiled", "crontab", "end_at", "fields", "given", "start_at", "timezone", "zone_default")

    def __init__(
        self,
        year: int | str | None = None,
        month: int | str | None = None,
        day: int | str | None = None,
        week: int | str | None = None,
        day_of_week: int | str | None = None,
        hour: int | str | None = None,
        minute: int | str | None = None,
        second: int | str | None = None,
        start_at: Moment = None,
        end_at: Moment = None,
        timezone: str | tzinfo | None = None,
        jitter: float | None = None,
        **kwargs: Any,
    ) -> None:
        if kwargs:
            raise TypeError(f"cron trigger: unexpected argument(s) {sorted(kwargs)}")
        values = dict(zip(FIELD_ORDER, (year, month, day, week, day_of_week, hour, minute, second), strict=True))
        given = {name: normalize_expression(name, value) for name, value in values.items() if value is not None}
        smallest = max((FIELD_ORDER.index(name) for name in given), default=-1)
        fields = tuple(
            (name, given.get(name) or (_DEFAULTS[name] if index > smallest else "*"))
            for index, name in enumerate(FIELD_ORDER)
        )
        self._setup(
            fields, tuple(name for name in _DISPLAY_ORDER if name in given), None, start_at, end_at, timezone, jitter
        )

    @classmethod
    def from_crontab(
        cls,
        expression: str,
        timezone: str | tzinfo | None = None,
        start_at: Moment = None,
        end_at: Moment = None,
        jitter: float | None = None,
    ) -> CronTrigger:
        """A trigger from ``"minute hour day month day_of_week"`` or ``@daily`` and friends,
        with crontab(5) semantics."""
        if not isinstance(expression, str):
            raise ArgumentTypeError("crontab", f"expected a string, got {type(expression).__name__}")
        if len(expression) > 5 * MAX_EXPRESSION_LENGTH:
            raise ArgumentError(
                "crontab", f"a line of {len(expression)} characters, at most {5 * MAX_EXPRESSION_LENGTH}"
            )
        text = " ".join(expression.split())
        line = _SHORTHANDS.get(text.lower(), text)
        if line.startswith("@"):
            raise ValueError(f"crontab: unknown shorthand {text!r} (known: {', '.join(_SHORTHANDS)})")
        parts = line.split(" ")
        if len(parts) != 5:
            raise ValueError(
                f"crontab: expected 5 fields (minute hour day month day_of_week), got {len(parts)} in {expression!r}"
            )
        minute, hour, day, month, day_of_week = parts
        fields = (
            ("year", "*"),
            ("month", month),
            ("day", day),
            ("week", "*"),
            ("day_of_week", day_of_week),
            ("hour", hour),
            ("minute", minute),
            ("second", "0"),
        )
        trigger = cls.__new__(cls)
        trigger._setup(fields, (), text, start_at, end_at, timezone, jitter)
        return trigger

    def _setup(
        self,
        fields: tuple[tuple[str, str], ...],
        given: tuple[str, ...],
        crontab: str | None,
        start_at: Moment,
        end_at: Moment,
        timezone: str | tzinfo | None,
        jitter: float | None,
    ) -> None:
        tz = resolve_timezone(
            timezone,
            start_at if isinstance(start_at, datetime) else None,
            end_at if isinstance(end_at, datetime) else None,
        )
        self.timezone = tz or local_timezone()
        self.zone_default = tz is None  # the scheduler's zone replaces the host's when the task is added
        self.fields = fields
        self.given = given
        self.crontab = crontab
        self.start_at = to_datetime(start_at, self.timezone, "start_at")
        self.end_at = to_datetime(end_at, self.timezone, "end_at")
        if self.start_at is not None and self.end_at is not None and self.end_at < self.start_at:
            raise ArgumentError("end_at", f"{self.end_at.isoformat()} is before start_at {self.start_at.isoformat()}")
        self.jitter = check_jitter(jitter)
        self._compile()

    def use_scheduler_defaults(self, timezone: tzinfo, now: datetime, first_run_time: datetime | None = None) -> None:
        """A trigger made without a zone (``CronTrigger(hour=9)``, ``from_crontab(...)``) runs
        in the scheduler's zone, as asyncz's does; start/end given as wall times move with it."""
        if not getattr(self, "zone_default", False):
            return
        host = self.timezone

        def rezoned(value: datetime | None) -> datetime | None:
            if value is None or value.tzinfo is not host:  # an explicit offset stays as it is
                return value
            return localize(value.replace(tzinfo=None), timezone)

        self.start_at, self.end_at = rezoned(self.start_at), rezoned(self.end_at)
        self.timezone = timezone
        self.zone_default = False
        self._compile()

    def _compile(self) -> None:
        schedule = compile_schedule(self.fields, self.crontab is not None)
        start = None if self.start_at is None else _utc(self.start_at, self.timezone)
        end = None if self.end_at is None else _utc(self.end_at, self.timezone)
        self._compiled: tuple[Schedule, datetime | None, datetime | None] = (schedule, start, end)

    # -- persistence: only the definition is state; the compiled form is rebuilt --------------

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state.pop("_compiled", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self._compile()

    # -- the hot path ---------------------------------------------------------------------------

    def get_next_trigger_time(
        self, timezone: tzinfo, previous_time: datetime | None, now: datetime | None = None
    ) -> datetime | None:
        tz = self.timezone
        schedule, start_at, end_at = self._compiled
        if previous_time is not None:
            start = _utc(previous_time, tz) + _TICK
        elif now is not None:
            start = _utc(now, tz)
        else:
            start = datetime.now(UTC)
        if start_at is not None and start < start_at:
            start = start_at
        found = self._first_at_or_after(schedule, tz, start)
        if found is None or found > MAX_RUN_TIME:
            return None
        if end_at is not None and found > end_at:
            return None
        if self.jitter:
            jittered = apply_jitter(found.astimezone(UTC), self.jitter)
            return None if jittered is None else jittered.astimezone(tz)
        return found

    @staticmethod
    def _first_at_or_after(schedule: Schedule, tz: tzinfo, start: datetime) -> datetime | None:
        """The first fire instant >= ``start`` (aware UTC), as an aware datetime in ``tz``."""
        local = start.astimezone(tz)
        wall = local
        if start.microsecond:  # fields have whole seconds: round up (offsets are whole seconds too)
            wall = (start + timedelta(microseconds=1_000_000 - start.microsecond)).astimezone(tz)
        y, mo, d, h, mi, s = wall.year, wall.month, wall.day, wall.hour, wall.minute, wall.second
        while True:
            found = schedule.next_wall(y, mo, d, h, mi, s)
            if found is None:
                return None
            candidate = datetime(*found, tzinfo=tz)
            first_offset = candidate.utcoffset()
            second_offset = candidate.replace(fold=1).utcoffset()
            if first_offset == second_offset or first_offset is None or second_offset is None:
                result = candidate
                break
            naive = candidate.replace(tzinfo=None)
            if first_offset < second_offset:  # a spring-forward gap: fire when the clock jumps
                result = transition(tz, naive - second_offset, naive - first_offset)
                break
            start_naive = start.replace(tzinfo=None)
            if naive - first_offset >= start_naive:  # the first occurrence of a repeated wall time
                result = candidate
                break
            if schedule.repeats_in_overlap and naive - second_offset >= start_naive:
                result = candidate.replace(fold=1)
                break
            nxt = naive + _SECOND
            y, mo, d, h, mi, s = nxt.year, nxt.month, nxt.day, nxt.hour, nxt.minute, nxt.second
        if schedule.repeats_in_overlap:
            repeat = CronTrigger._repeat_in_overlap(schedule, tz, local)
            if repeat is not None and repeat.astimezone(UTC) < result.astimezone(UTC):  # same zone: fold matters
                return repeat
        return result

    @staticmethod
    def _repeat_in_overlap(schedule: Schedule, tz: tzinfo, local: datetime) -> datetime | None:
        """When ``local`` lies in the first pass of a repeated hour, the wall-clock search
        above jumps past the second pass; look for a fire time inside that second pass."""
        if local.fold:
            return None
        first_offset = local.utcoffset()
        second_offset = local.replace(fold=1).utcoffset()
        if first_offset is None or second_offset is None or first_offset <= second_offset:
            return None
        wall = local.replace(tzinfo=None)
        edge = transition(tz, wall - first_offset, wall - second_offset)  # the clock goes back here
        repeat_start = edge.replace(tzinfo=None)
        repeat_end = repeat_start + (first_offset - second_offset)
        found = schedule.next_wall(
            repeat_start.year,
            repeat_start.month,
            repeat_start.day,
            repeat_start.hour,
            repeat_start.minute,
            repeat_start.second,
        )
        if found is None or datetime(*found) >= repeat_end:
            return None
        return datetime(*found, tzinfo=tz, fold=1)

    # -- display --------------------------------------------------------------------------------

    def _described_fields(self) -> list[str]:
        if self.crontab is not None:
            return [f"crontab={self.crontab!r}"]
        fields = dict(self.fields)
        return [f"{name}={fields[name]!r}" for name in self.given]

    def __str__(self) -> str:
        return f"cron[{', '.join(self._described_fields()) or '*'}]"

    def __repr__(self) -> str:
        parts = self._described_fields()
        if self.start_at is not None:
            parts.append(f"start_at='{self.start_at.isoformat()}'")
        if self.end_at is not None:
            parts.append(f"end_at='{self.end_at.isoformat()}'")
        parts.append(f"timezone='{zone_name(self.timezone)}'")
        if self.jitter:
            parts.append(f"jitter={self.jitter}")
        return f"<CronTrigger ({', '.join(parts)})>"
