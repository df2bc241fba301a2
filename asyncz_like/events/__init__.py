"""Event codes (one bit each, so listeners filter with a mask) and the event models.

Laid out as asyncz's: codes in ``events.constants``, models in ``events.base``; both
are re-exported here.
"""

from __future__ import annotations

from asyncz_like.events.base import (
    SchedulerEvent,
    TaskEvent,
    TaskExecutionEvent,
    TaskRestoreFailedEvent,
    TaskSubmissionEvent,
)
from asyncz_like.events.constants import (
    ALL_EVENTS,
    ALL_TASKS_REMOVED,
    EVENT_ALL,
    EVENT_NAMES,
    EXECUTOR_ADDED,
    EXECUTOR_REMOVED,
    SCHEDULER_PAUSED,
    SCHEDULER_RESUMED,
    SCHEDULER_SHUTDOWN,
    SCHEDULER_START,
    SCHEDULER_STARTED,
    STORE_ADDED,
    STORE_REMOVED,
    TASK_ADDED,
    TASK_ERROR,
    TASK_EXECUTED,
    TASK_MAX_INSTANCES,
    TASK_MISSED,
    TASK_MODIFIED,
    TASK_QUEUED,
    TASK_REMOVED,
    TASK_RESTORE_FAILED,
    TASK_RUN_ABANDONED,
    TASK_SUBMITTED,
)

__all__ = [
    "ALL_EVENTS",
    "ALL_TASKS_REMOVED",
    "EVENT_ALL",
    "EVENT_NAMES",
    "EXECUTOR_ADDED",
    "EXECUTOR_REMOVED",
    "SCHEDULER_PAUSED",
    "SCHEDULER_RESUMED",
    "SCHEDULER_SHUTDOWN",
    "SCHEDULER_START",
    "SCHEDULER_STARTED",
    "STORE_ADDED",
    "STORE_REMOVED",
    "TASK_ADDED",
    "TASK_ERROR",
    "TASK_EXECUTED",
    "TASK_MAX_INSTANCES",
    "TASK_MISSED",
    "TASK_MODIFIED",
    "TASK_QUEUED",
    "TASK_REMOVED",
    "TASK_RESTORE_FAILED",
    "TASK_RUN_ABANDONED",
    "TASK_SUBMITTED",
    "SchedulerEvent",
    "TaskEvent",
    "TaskExecutionEvent",
    "TaskRestoreFailedEvent",
    "TaskSubmissionEvent",
]
