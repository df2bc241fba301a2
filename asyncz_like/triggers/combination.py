"""Combine triggers: ``and`` fires when all parts agree, ``or`` when any part fires."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo
from datetime import timezone as dt_timezone
from typing import Any

from asyncz_like._limits import shorten
from asyncz_like.abc import Trigger
from asyncz_like.exceptions import ArgumentError, ArgumentTypeError
from asyncz_like.triggers.base import apply_jitter, check_jitter

UTC = dt_timezone.utc


def _check_triggers(kind: str, triggers: Any) -> list[Trigger]:
    if isinstance(triggers, (str, bytes)) or not isinstance(triggers, Sequence):
        raise ArgumentTypeError("triggers", f"{kind} needs a list of triggers, got {shorten(triggers)}")
    if not triggers:
        raise ArgumentError("triggers", f"{kind} needs at least one trigger, got an empty list")
    for index, trigger in enumerate(triggers):
        if not isinstance(trigger, Trigger):
            raise ArgumentTypeError(f"triggers[{index}]", f"expected a Trigger instance, got {shorten(trigger)}")
    return list(triggers)


def _jittered(value: datetime | None, jitter: float | None) -> datetime | None:
    """Jitter added in real (UTC) time so it never lands in a DST gap, shown in the input's zone."""
    if value is None or not jitter:
        return value
    shifted = apply_jitter(value.astimezone(UTC), jitter)
    return None if shifted is None or value.tzinfo is None else shifted.astimezone(value.tzinfo)


class _Combination(Trigger):
    """What ``and`` and ``or`` share: a non-empty list of trigger instances and an optional
    jitter on the combined time. Exported as ``asyncz_like.triggers.BaseCombinationTrigger``."""

    __slots__ = ("triggers",)
    kind = ""

    def __init__(self, triggers: Sequence[Trigger], jitter: float | None = None, **kwargs: Any) -> None:
        if kwargs:
            raise TypeError(f"{self.kind} trigger: unexpected argument(s) {sorted(kwargs)}")
        self.triggers = _check_triggers(self.kind, triggers)
        self.jitter = check_jitter(jitter)

    def use_scheduler_defaults(self, timezone: tzinfo, now: datetime, first_run_time: datetime | None = None) -> None:
        for trigger in self.triggers:
            trigger.use_scheduler_defaults(timezone, now, first_run_time)

    def __str__(self) -> str:
        return f"{self.kind}[{', '.join(str(trigger) for trigger in self.triggers)}]"

    def __repr__(self) -> str:
        parts = [f"triggers=[{', '.join(repr(trigger) for trigger in self.triggers)}]"]
        if self.jitter:
            parts.append(f"jitter={self.jitter}")
        return f"<{type(self).__name__} ({', '.join(parts)})>"


class AndTrigger(_Combination):
    """Fires at the earliest time all parts agree on; finished as soon as any part is.

    The search alternates between the parts, each time asking every part for its first
    fire time at or after the latest candidate. Parts that can never agree (the 31st of
    February) end the search after ``max_rounds`` rounds with None instead of looping.
    Parts must not have their own jitter (they could never agree); put it on the ``and``.
    """

    alias = "and"
    kind = "and"
    __slots__ = ()
    max_rounds = 1000

    def __init__(self, triggers: Sequence[Trigger], jitter: float | None = None, **kwargs: Any) -> None:
        super().__init__(triggers, jitter, **kwargs)
        for index, trigger in enumerate(self.triggers):
            if getattr(trigger, "jitter", None):
                raise ValueError(
                    f"triggers[{index}]: {trigger} has jitter={trigger.jitter}; jittered parts of an 'and' "
                    "never agree, set jitter on the AndTrigger instead"
                )

    def get_next_trigger_time(
        self, timezone: tzinfo, previous_time: datetime | None, now: datetime | None = None
    ) -> datetime | None:
        times = [trigger.get_next_trigger_time(timezone, previous_time, now) for trigger in self.triggers]
        for _ in range(self.max_rounds):
            if any(time is None for time in times):
                return None
            instants = [time.astimezone(UTC) for time in times]  # type: ignore[union-attr]
            latest = max(instants)
            if min(instants) == latest:
                return _jittered(times[0], self.jitter)
            times = [
                time if instant == latest else trigger.get_next_trigger_time(timezone, None, latest)
                for trigger, time, instant in zip(self.triggers, times, instants, strict=True)
            ]
        return None


class OrTrigger(_Combination):
    """Fires at the earliest time any part fires; finished when every part is."""

    alias = "or"
    kind = "or"
    __slots__ = ()

    def get_next_trigger_time(
        self, timezone: tzinfo, previous_time: datetime | None, now: datetime | None = None
    ) -> datetime | None:
        times = [trigger.get_next_trigger_time(timezone, previous_time, now) for trigger in self.triggers]
        found = [time for time in times if time is not None]
        if not found:
            return None
        return _jittered(min(found, key=lambda time: time.astimezone(UTC)), self.jitter)
