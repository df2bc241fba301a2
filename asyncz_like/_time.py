"""Time helpers: aware datetimes inside, zoneinfo zones, a string or tzinfo accepted everywhere."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, tzinfo
from datetime import timezone as dt_timezone
from functools import lru_cache
from typing import overload
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from asyncz_like._limits import MAX_RUN_TIME, MIN_RUN_TIME, check_run_time, shorten
from asyncz_like.exceptions import ArgumentError, ArgumentTypeError

UTC = dt_timezone.utc
#: what an IANA zone name looks like ("Europe/Berlin", "Etc/GMT+5", "America/Port-au-Prince")
_ZONE_NAME = re.compile(r"^[A-Za-z0-9_+\-]+(?:/[A-Za-z0-9_+\-]+)*$")
#: naive values this far inside datetime's range can be localized in any zone without overflow
_NAIVE_MIN = MIN_RUN_TIME.replace(tzinfo=None) - timedelta(days=1)
_NAIVE_MAX = MAX_RUN_TIME.replace(tzinfo=None) + timedelta(days=1)


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
        if len(value) > 255 or not _ZONE_NAME.match(value):
            raise ArgumentError(
                argument, f"unknown time zone {shorten(value)} (expected an IANA name like 'Europe/Berlin')"
            )
        try:
            return _zone(value)
        except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
            raise ArgumentError(argument, f"unknown time zone {value!r}") from exc
    raise ArgumentTypeError(argument, f"expected a time zone name or tzinfo, got {type(value).__name__}")


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
    """Accept a datetime, date or ISO string; naive values are read in ``tz``. The result
    lies within ``MIN_RUN_TIME`` .. ``MAX_RUN_TIME``, so every store and zone can hold it."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError as exc:
            raise ArgumentError(argument, f"{shorten(value)} is not an ISO 8601 date/time") from exc
    elif isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if not isinstance(value, datetime):
        raise ArgumentTypeError(argument, f"expected a datetime, date or ISO string, got {type(value).__name__}")
    if value.utcoffset() is None:
        naive = value.replace(tzinfo=None)
        if not _NAIVE_MIN <= naive <= _NAIVE_MAX:
            raise ArgumentError(
                argument,
                f"{naive.isoformat()} is outside the supported range "
                f"{MIN_RUN_TIME.isoformat()} .. {MAX_RUN_TIME.isoformat()}",
            )
        value = localize(naive, tz)
    return check_run_time(value, argument)


def localize(naive: datetime, tz: tzinfo) -> datetime:
    """Attach ``tz`` to a wall-clock time; a time in a DST gap moves forward to a real instant."""
    aware = naive.replace(tzinfo=tz)
    round_trip = aware.astimezone(UTC).astimezone(tz)
    if round_trip.replace(tzinfo=None) != naive:
        # Nonexistent wall time (spring-forward gap): use the instant the clock jumps to.
        return round_trip
    return aware
