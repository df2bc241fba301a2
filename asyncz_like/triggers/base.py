"""Behaviour shared by the built-in triggers (the contract itself is in ``asyncz_like.abc``)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, tzinfo
from numbers import Real
from typing import Any

from asyncz_like._time import to_timezone


def check_jitter(jitter: Any) -> float | None:
    if jitter is None:
        return None
    if isinstance(jitter, bool) or not isinstance(jitter, Real) or jitter < 0:
        raise ValueError(f"jitter: must be a non-negative number of seconds or None, got {jitter!r}")
    return float(jitter) or None


def apply_jitter(next_time: datetime | None, jitter: float | None) -> datetime | None:
    """Delay a fire time by up to ``jitter`` seconds, to spread load from many tasks."""
    if next_time is None or not jitter:
        return next_time
    return next_time + timedelta(seconds=random.uniform(0, jitter))


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
