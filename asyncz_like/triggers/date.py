"""Fire once at a given moment."""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from typing import Any

from asyncz_like._time import local_timezone, to_datetime
from asyncz_like.abc import Trigger
from asyncz_like.triggers.base import resolve_timezone


class DateTrigger(Trigger):
    """Runs the task once at ``run_at`` (default: now). Naive times are read in ``timezone``."""

    alias = "date"
    __slots__ = ("run_at", "run_now")

    def __init__(
        self, run_at: datetime | date | str | None = None, timezone: str | tzinfo | None = None, **kwargs: Any
    ) -> None:
        if kwargs:
            raise TypeError(f"date trigger: unexpected argument(s) {sorted(kwargs)}")
        tz = resolve_timezone(timezone) or local_timezone()
        self.jitter = None
        #: no ``run_at`` given: "as soon as the scheduler runs it" (a task added before
        #: ``start()`` then runs at start, never reported missed)
        self.run_now = run_at is None
        self.run_at = to_datetime(run_at, tz, "run_at") if run_at is not None else datetime.now(tz)

    def get_next_trigger_time(
        self, timezone: tzinfo, previous_time: datetime | None, now: datetime | None = None
    ) -> datetime | None:
        return self.run_at if previous_time is None else None

    def __str__(self) -> str:
        return f"date[{self.run_at.isoformat(' ')}]"

    def __repr__(self) -> str:
        return f"<DateTrigger (run_at='{self.run_at.isoformat()}')>"
