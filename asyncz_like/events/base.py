"""The event models handed to listeners (asyncz's ``asyncz.events.base``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from asyncz_like.events.constants import EVENT_NAMES


class SchedulerEvent(BaseModel):
    """Something happened to the scheduler, an executor or a store (``alias`` names which)."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    code: int
    alias: str | None = None

    def __str__(self) -> str:
        return f"<{type(self).__name__} (code={EVENT_NAMES.get(self.code, self.code)})>"


class TaskEvent(SchedulerEvent):
    """Something happened to one task."""

    task_id: str | None
    store: str | None = None


class TaskSubmissionEvent(TaskEvent):
    """A task was (or could not be) handed to its executor for these run times."""

    scheduled_run_times: list[datetime]


class TaskExecutionEvent(TaskEvent):
    """A run finished, failed or was missed."""

    scheduled_run_time: datetime | None = None
    return_value: Any = None
    exception: BaseException | None = None
    traceback: str | None = None
    #: 1 for a run time's first attempt, 2 for its first retry, ...
    attempt: int = 1
    #: after a TASK_ERROR: attempts still to come (0 when this failure is final)
    retries_left: int = 0
    #: after a TASK_ERROR that is retried: when the next attempt is due
    retry_at: datetime | None = None
    #: no further attempt of this run time follows (always true for TASK_EXECUTED and TASK_MISSED)
    final: bool = True
    #: the run's id in the run history (None when history is off)
    run_id: str | None = None


class TaskRestoreFailedEvent(TaskEvent):
    """A stored task was set aside because it could not be restored."""

    reason: str
