"""The processing pass: plain logic over stores and executors, driven by an explicit clock.

Front ends only decide *when* to call :func:`process_store`; everything about *what*
runs lives here, so it can be tested with ``now=`` and, for shared stores, the due
lookup is a claim (``Store.claim_due_tasks``) rather than a plain read.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from asyncz_like.abc import Store
from asyncz_like.events import (
    TASK_MAX_INSTANCES,
    TASK_MISSED,
    TASK_REMOVED,
    TASK_SUBMITTED,
    SchedulerEvent,
    TaskEvent,
    TaskExecutionEvent,
    TaskSubmissionEvent,
)
from asyncz_like.exceptions import MaximumInstancesError, TaskLookupError

if TYPE_CHECKING:
    from asyncz_like.schedulers.base import BaseScheduler
    from asyncz_like.tasks.task import Task


def split_missed(task: Task, run_times: list[datetime], now: datetime) -> tuple[list[datetime], list[datetime]]:
    """(runnable, missed): a run later than ``mistrigger_grace_time`` is missed; coalescing
    keeps only the latest runnable one."""
    grace = task.mistrigger_grace_time
    if grace is None:
        runnable, missed = run_times, []
    else:
        limit = now - timedelta(seconds=grace)
        runnable = [run_time for run_time in run_times if run_time >= limit]
        missed = [run_time for run_time in run_times if run_time < limit]
    if task.coalesce and len(runnable) > 1:
        runnable = runnable[-1:]
    return runnable, missed


def process_store(
    scheduler: BaseScheduler, alias: str, store: Store, now: datetime, events: list[SchedulerEvent]
) -> datetime | None:
    """Run what is due in one store; return that store's next run time afterwards."""
    due = store.claim_due_tasks(now, scheduler.scheduler_id, scheduler.lease_seconds)
    for task in due:
        task.store_alias = alias
        task.scheduler = scheduler
        try:
            process_task(scheduler, alias, store, task, now, events)
        except TaskLookupError:
            scheduler.logger.debug("Task %r was deleted while it was being processed", task.id)
        except Exception:
            scheduler.logger.exception("Processing task %r of store %r failed; it is retried next pass", task.id, alias)
    return store.get_next_run_time()


def process_task(
    scheduler: BaseScheduler, alias: str, store: Store, task: Task, now: datetime, events: list[SchedulerEvent]
) -> None:
    timezone = scheduler.timezone
    run_times, next_run_time = task.due_run_times(timezone, now)
    runnable, missed = split_missed(task, run_times, now)
    listens = scheduler.listens_to
    if missed:
        scheduler.logger.warning("Run time(s) of task %r missed by more than the grace time: %s", task.name, missed)
        if listens(TASK_MISSED):
            events.extend(
                TaskExecutionEvent(code=TASK_MISSED, task_id=task.id, store=alias, scheduled_run_time=run_time)
                for run_time in missed
            )
    if runnable:
        executor = scheduler.executors.get(task.executor or "default")
        if executor is None:
            scheduler.logger.error(
                "Task %r names executor %r, which does not exist; it stays scheduled", task.id, task.executor
            )
            store.release_task(task, scheduler.scheduler_id)
            return
        try:
            executor.send_task(task, runnable)
        except MaximumInstancesError:
            scheduler.logger.warning(
                "Run of task %r skipped: %d instance(s) already running", task.name, task.max_instances
            )
            if listens(TASK_MAX_INSTANCES):
                events.append(
                    TaskSubmissionEvent(
                        code=TASK_MAX_INSTANCES, task_id=task.id, store=alias, scheduled_run_times=runnable
                    )
                )
        except Exception:
            scheduler.logger.exception("Submitting task %r to executor %r failed", task.name, task.executor)
        else:
            task.submitted = True
            if listens(TASK_SUBMITTED):
                events.append(
                    TaskSubmissionEvent(code=TASK_SUBMITTED, task_id=task.id, store=alias, scheduled_run_times=runnable)
                )
    if next_run_time is None:
        store.delete_task(task.id)  # type: ignore[arg-type]
        if listens(TASK_REMOVED):
            events.append(TaskEvent(code=TASK_REMOVED, task_id=task.id, store=alias))
    else:
        task.next_run_time = next_run_time
        store.release_task(task, scheduler.scheduler_id)
