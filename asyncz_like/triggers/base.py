"""Behaviour shared by the built-in triggers (the contract itself is in ``asyncz_like.abc``)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, tzinfo
from typing import Any

from asyncz_like._limits import MAX_RUN_TIME, to_seconds
from asyncz_like._time import to_timezone


def check_jitter(jitter: Any) -> float | None:
    """None, or a finite number of seconds from 0 to 10 years (``Fraction``/``Decimal`` converted)."""
    if jitter is None:
        return None
    return to_seconds(jitter, "jitter") or None


def apply_jitter(next_time: datetime | None, jitter: float | None) -> datetime | None:
    """Delay a fire time by up to ``jitter`` seconds, to spread load from many tasks; never
    past ``MAX_RUN_TIME`` (a fire time near it is delayed less)."""
    if next_time is None or not jitter:
        return next_time
    delay = timedelta(seconds=random.uniform(0, jitter))
    if next_time >= MAX_RUN_TIME - delay:
        return max(next_time, MAX_RUN_TIME.astimezone(next_time.tzinfo))
    return next_time + delay


def resolve_timezone(timezone: str | tzinfo | None, *fallbacks: datetime | None) -> tzinfo | None:
    """The trigger's zone: the argument, else the zone of the first aware datetime given."""
    zone = to_timezone(timezone)
    if zone is not None:
        return zone
    for value in fallbacks:
        if value is not None and value.tzinfo is not None:
            return value.tzinfo
    return None


def zone_name(tz: tzinfo | None) -> str:
    return str(getattr(tz, "key", None) or tz)
