"""The bounds every user input is checked against, once, where it is given.

Stores keep run times as float timestamps in indexed columns, timers wait in float
seconds, and the processing pass walks fire times one by one. A value outside these
bounds (NaN, infinity, 1e20 seconds, a run time in year 10000, an id a database cannot
index) would be accepted and then fail or spin on every pass, so it is refused at once
with an error naming the argument. The docs ("Limits and validation") list the same
numbers.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from decimal import Decimal
from numbers import Real
from typing import Any

from asyncz_like.exceptions import ArgumentError, ArgumentTypeError

#: the longest duration anything accepts: a mistrigger_grace_time, a jitter, an interval (10 years)
MAX_SECONDS = 10 * 365.25 * 86_400
#: the shortest interval: a shorter one makes every pass walk thousands of missed fire times
MIN_INTERVAL = timedelta(milliseconds=1)
#: run times, start_at/end_at and next_run_time lie in this range (UTC, both ends included);
#: the margins keep every value convertible to any time zone without leaving datetime's range
MIN_RUN_TIME = datetime(1970, 1, 1, tzinfo=dt_timezone.utc)
MAX_RUN_TIME = datetime(9999, 12, 30, tzinfo=dt_timezone.utc)
#: the longest task id: what MariaDB/MySQL can index as a utf8mb4 primary key
MAX_ID_LENGTH = 191
#: a task's priority: what a 32-bit SQL INTEGER column holds (and a Lua number, exactly)
MIN_PRIORITY = -(2**31)
MAX_PRIORITY = 2**31 - 1


def shorten(value: Any, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters, so a 5,000-character input makes a readable error."""
    try:
        text = repr(value)
    except Exception:  # an int of more than 4,300 digits has no repr
        text = f"<{type(value).__name__} that cannot be shown>"
    return text if len(text) <= limit else f"{text[: limit - 5]}...{text[-2:]}"


def to_seconds(value: Any, argument: str, *, maximum: float = MAX_SECONDS, unit: str = "seconds") -> float:
    """A finite, non-negative number (of ``unit``) up to ``maximum`` (10 years), as a float.

    ``int``, ``float``, ``Fraction``, ``Decimal`` and other real numbers are accepted and
    converted; booleans, strings, NaN and infinities are refused.
    """
    kind = type(value)
    if kind is not float and kind is not int:  # the common types skip the slower ABC checks
        if isinstance(value, bool) or not isinstance(value, (Real, Decimal)):
            raise ArgumentTypeError(argument, f"expected a number of {unit}, got {kind.__name__} {shorten(value)}")
        if isinstance(value, Decimal) and not value.is_finite():
            raise ArgumentError(argument, f"must be a finite number, got {value!r}")
    try:
        seconds = float(value)
    except (OverflowError, ValueError):
        raise ArgumentError(argument, f"must be at most {maximum:g} {unit} (10 years), got {shorten(value)}") from None
    if 0 <= seconds <= maximum:  # False for NaN too
        return seconds
    if not math.isfinite(seconds):
        raise ArgumentError(argument, f"must be a finite number, got {value!r}")
    if seconds < 0:
        raise ArgumentError(argument, f"must not be negative, got {shorten(value)}")
    raise ArgumentError(argument, f"must be at most {maximum:g} {unit} (10 years), got {shorten(value)}")


def check_task_id(value: Any) -> str:
    """A task id every store accepts: 1 to 191 printable characters (``str.isprintable``:
    no NUL, control, format or surrogate characters, no line breaks or tabs)."""
    if not isinstance(value, str) or not value:
        raise ArgumentTypeError("id", f"expected a non-empty string, got {shorten(value)}")
    if len(value) > MAX_ID_LENGTH:
        raise ArgumentError("id", f"at most {MAX_ID_LENGTH} characters, got {len(value)}: {shorten(value)}")
    if not value.isprintable():
        bad = next(char for char in value if not char.isprintable())
        raise ArgumentError("id", f"must be printable text; {shorten(value)} contains the character U+{ord(bad):04X}")
    return value


def is_task_id(value: Any) -> bool:
    """Whether ``value`` is an id a task can have (see :func:`check_task_id`)."""
    return isinstance(value, str) and 0 < len(value) <= MAX_ID_LENGTH and value.isprintable()


def check_run_time(value: datetime, argument: str) -> datetime:
    """An aware datetime within ``MIN_RUN_TIME`` .. ``MAX_RUN_TIME``."""
    if not MIN_RUN_TIME <= value <= MAX_RUN_TIME:
        raise ArgumentError(
            argument,
            f"{value.isoformat()} is outside the supported range "
            f"{MIN_RUN_TIME.isoformat()} .. {MAX_RUN_TIME.isoformat()}",
        )
    return value


def check_priority(value: Any) -> int:
    """A task's ``priority``: an ``int`` (not ``bool``) from ``MIN_PRIORITY`` to ``MAX_PRIORITY``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ArgumentTypeError("priority", f"expected an integer (higher runs first), got {shorten(value)}")
    if not MIN_PRIORITY <= value <= MAX_PRIORITY:
        raise ArgumentError("priority", f"must be from {MIN_PRIORITY} to {MAX_PRIORITY}, got {shorten(value)}")
    return int(value)


def check_bool(value: Any, argument: str) -> bool:
    if not isinstance(value, bool):
        raise ArgumentTypeError(argument, f"expected True or False, got {shorten(value)}")
    return value
