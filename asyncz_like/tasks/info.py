"""Immutable snapshots of tasks for inspection: safe to hand to dashboards, logs and APIs."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

from pydantic import BaseModel, ConfigDict


class TaskScheduleState(str, Enum):
    """Where a task stands: not yet committed to a store, paused, or waiting to run."""

    PENDING = "pending"
    PAUSED = "paused"
    SCHEDULED = "scheduled"

    def __str__(self) -> str:
        return self.value


class TaskInfo(BaseModel):
    """What a task looked like at one moment; changing the task never changes this."""

    model_config = ConfigDict(frozen=True)

    id: str | None
    name: str | None
    callable_name: str | None
    callable_reference: str | None
    trigger_alias: str | None
    trigger_name: str | None
    trigger_description: str | None
    executor: str | None
    store_alias: str | None
    schedule_state: TaskScheduleState
    next_run_time: datetime | None
    coalesce: bool
    max_instances: int
    mistrigger_grace_time: float | None
    pending: bool
    paused: bool
    submitted: bool
    #: retries allowed after a failed run (``add_task(max_retries=...)``)
    max_retries: int = 0
    #: when more runs are due than the executor can start, higher goes first (``add_task(priority=...)``)
    priority: int = 0
    #: the attempt number of a pending retry, and when it is due (None: no retry pending)
    retry_attempt: int | None = None
    retry_at: datetime | None = None
