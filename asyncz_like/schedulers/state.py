"""The scheduler's life-cycle states."""

from __future__ import annotations

from enum import IntEnum


class SchedulerState(IntEnum):
    """Where a scheduler is in its life cycle (``scheduler.state``)."""

    STATE_STOPPED = 0
    STATE_RUNNING = 1
    STATE_PAUSED = 2
