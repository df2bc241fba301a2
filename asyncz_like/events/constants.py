"""Event codes, one bit each, so listeners filter with a mask (``add_listener(cb, mask)``)."""

from __future__ import annotations

SCHEDULER_START = 2**0
#: asyncz's other name for ``SCHEDULER_START``
SCHEDULER_STARTED = SCHEDULER_START
SCHEDULER_SHUTDOWN = 2**1
SCHEDULER_PAUSED = 2**2
SCHEDULER_RESUMED = 2**3
EXECUTOR_ADDED = 2**4
EXECUTOR_REMOVED = 2**5
STORE_ADDED = 2**6
STORE_REMOVED = 2**7
ALL_TASKS_REMOVED = 2**8
TASK_ADDED = 2**9
TASK_REMOVED = 2**10
TASK_MODIFIED = 2**11
TASK_EXECUTED = 2**12
TASK_ERROR = 2**13
TASK_MISSED = 2**14
TASK_SUBMITTED = 2**15
TASK_MAX_INSTANCES = 2**16
#: A stored task could not be restored and was set aside (never deleted).
TASK_RESTORE_FAILED = 2**17
#: A run claimed by a scheduler that died was dropped instead of run again (lease policy).
TASK_RUN_ABANDONED = 2**18
#: An executor had every worker busy: the run waits in its queue and starts late.
TASK_QUEUED = 2**19

ALL_EVENTS = (
    SCHEDULER_START
    | SCHEDULER_SHUTDOWN
    | SCHEDULER_PAUSED
    | SCHEDULER_RESUMED
    | EXECUTOR_ADDED
    | EXECUTOR_REMOVED
    | STORE_ADDED
    | STORE_REMOVED
    | ALL_TASKS_REMOVED
    | TASK_ADDED
    | TASK_REMOVED
    | TASK_MODIFIED
    | TASK_EXECUTED
    | TASK_ERROR
    | TASK_MISSED
    | TASK_SUBMITTED
    | TASK_MAX_INSTANCES
    | TASK_RESTORE_FAILED
    | TASK_RUN_ABANDONED
    | TASK_QUEUED
)
EVENT_ALL = ALL_EVENTS  # the alias asyncz accepts too

#: code -> name, for readable event reprs (each code once: SCHEDULER_STARTED is an alias)
EVENT_NAMES: dict[int, str] = {
    value: name
    for name, value in dict(globals()).items()
    if name.isupper() and isinstance(value, int) and name not in ("ALL_EVENTS", "EVENT_ALL", "SCHEDULER_STARTED")
}
