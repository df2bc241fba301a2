"""Time helpers: aware datetimes inside, zoneinfo zones, a string or tzinfo accepted everywhere."""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from datetime import timezone as dt_timezone
from functools import lru_cache
from typing import overload
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

UTC = dt_timezone.utc


@lru_cache(maxsize=256)
def _zone(name: str) -> tzinfo:
    if name.upper() in ("UTC", "Z", "ETC/UTC"):
        return UTC
    return ZoneInfo(name)


def to_timezone(value: str | tzinfo | None, argument: str = "timezone") -> tzinfo | None:
    """Turn a zone name or tzinfo into a tzinfo; a bad name raises naming the argument."""
    if value is None or isinstance(value, tzinfo):
        return value
    if isinstance(value, str):
        try:
            return _zone(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"{argument}: unknown time zone {value!r}") from exc
    raise TypeError(f"{argument}: expected a time zone name or tzinfo, got {type(value).__name__}")


def local_timezone() -> tzinfo:
    """The machine's zone as a DST-aware zone (not a fixed offset), via tzlocal."""
    try:
        from tzlocal import get_localzone

        return get_localzone()
    except Exception:  # pragma: no cover - tzlocal missing or confused
        return UTC


@overload
def to_datetime(value: None, tz: tzinfo, argument: str) -> None: ...
@overload
def to_datetime(value: datetime | date | str, tz: tzinfo, argument: str) -> datetime: ...
def to_datetime(value: datetime | date | str | None, tz: tzinfo, argument: str) -> datetime | None:
    """Accept a datetime, date or ISO string; naive values are read in ``tz``."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError as exc:
            raise ValueError(f"{argument}: {value!r} is not an ISO 8601 date/time") from exc
    elif isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if not isinstance(value, datetime):
        raise TypeError(f"{argument}: expected a datetime, date or ISO string, got {type(value).__name__}")
    if value.tzinfo is None:
        return localize(value, tz)
    return value


def localize(naive: datetime, tz: tzinfo) -> datetime:
    """Attach ``tz`` to a wall-clock time; a time in a DST gap moves forward to a real instant."""
    aware = naive.replace(tzinfo=tz)
    round_trip = aware.astimezone(UTC).astimezone(tz)
    if round_trip.replace(tzinfo=None) != naive:
        # Nonexistent wall time (spring-forward gap): use the instant the clock jumps to.
        return round_trip
    return aware
