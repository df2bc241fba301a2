"""Run once when the scheduler shuts down."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from asyncz_like.abc import Trigger


class ShutdownTrigger(Trigger):
    """Never fires on the clock; the scheduler runs such tasks once during ``shutdown``."""

    alias = "shutdown"
    __slots__ = ()

    def __init__(self, **kwargs: Any) -> None:
        kwargs.pop("timezone", None)
        if kwargs:
            raise TypeError(f"shutdown trigger: unexpected argument(s) {sorted(kwargs)}")
        self.jitter = None

    def get_next_trigger_time(
        self, timezone: tzinfo, previous_time: datetime | None, now: datetime | None = None
    ) -> datetime | None:
        return None

    def __str__(self) -> str:
        return "shutdown"

    def __repr__(self) -> str:
        return "<ShutdownTrigger>"
