"""Finding the instant a zone changes its UTC offset (the edge of a DST gap or overlap).

Only needed when a fire time lands in a gap or a repeated hour, which is rare, so a plain
binary search over whole seconds is fast enough and works for any ``tzinfo``.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta, tzinfo
from datetime import timezone as dt_timezone

UTC = dt_timezone.utc
_EPOCH = datetime(1970, 1, 1)


def _offset(tz: tzinfo, timestamp: int) -> timedelta | None:
    return datetime.fromtimestamp(timestamp, tz).utcoffset()


def transition(tz: tzinfo, before: datetime, after: datetime) -> datetime:
    """The first whole second in ``(before, after]`` (naive UTC) that already has the offset
    in force at ``after``; returned as an aware datetime in ``tz``."""
    low = math.floor((before - _EPOCH).total_seconds())
    high = math.ceil((after - _EPOCH).total_seconds())
    target = _offset(tz, high)
    while high - low > 1:
        middle = (low + high) // 2
        if _offset(tz, middle) == target:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, tz)
