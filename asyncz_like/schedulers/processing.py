"""The processing pass: plain logic over stores and executors, driven by an explicit clock.

Front ends only decide *when* to call :func:`process_store`; everything about *what*
runs lives here, so it can be tested with ``now=`` and, for shared stores, the due
lookup is a claim (``Store.claim_due_tasks``) rather than a plain read.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from asyncz_like._gil import in_slices, sharing_gil
from asyncz_like._limits import MAX_RUN_TIME
from asyncz_like.abc import Store
from asyncz_like.events import (
    TASK_MAX_INSTANCES,
    TASK_MISSED,
    TASK_REMOVED,
    TASK_RUN_ABANDONED,
    TASK_SUBMITTED,
    TaskEvent,
    TaskExecutionEvent,
    TaskSubmissionEvent,
)
from asyncz_like.exceptions import MaximumInstancesError, TaskLookupError
from asyncz_like.history.retries import take_retry
from asyncz_like.schedulers.claims import RELEASE_SLICE

if TYPE_CHECKING:
    from asyncz_like.schedulers.base import BaseScheduler
    from asyncz_like.tasks.task import Task


def iso_times(times: list[datetime]) -> str:
    """Run times for a log line: ISO 8601, not datetime reprs."""
    return ", ".join(t.isoformat() for t in times)


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


#: how long one pass goes on claiming while claims come back full (more is due) on a shared
#: store, at most (a quarter of the lease if that is shorter: claims not submitted are held
#: until the end). Store jobs queued meanwhile (releases of finished runs, run records) wait
#: for it: in a burst, starting due runs within their misfire grace comes first
BURST_SECONDS = 1.0


def process_store(scheduler: BaseScheduler, alias: str, store: Store, now: datetime) -> datetime | None:
    """Run what is due in one store; return that store's next run time afterwards."""
    run_log = scheduler.run_log
    run_log.apply_retries(alias, store)  # retries of runs that finished since the last pass
    if store.supports_claims:
        process_claims(scheduler, alias, store, now)
    else:
        due = store.claim_due_tasks(now, scheduler.scheduler_id, scheduler.lease_seconds)
        process_batch(scheduler, alias, store, due, now, None)
    run_log.apply_retries(alias, store)  # and of runs an inline executor finished in this pass
    return store.get_next_run_time()


def process_claims(scheduler: BaseScheduler, alias: str, store: Store, now: datetime) -> None:
    """Claim and submit batch after batch while claims come back full, each batch judged
    against the time it is claimed at, so the first runs of a burst start at once and no
    store job waits in front of the next batch. The claimed tasks that are not submitted
    (missed, skipped, finished) are released together at the end, in bulk: writing them back
    one at a time would hold up the runnable ones behind them (10,000 missed runs on
    PostgreSQL: ~17 s of single-row releases)."""
    started = time.monotonic()
    budget = min(BURST_SECONDS, scheduler.lease_seconds / 4)
    unsubmitted: list[Task] = []
    batch_now = now
    try:
        while True:
            due = store.claim_due_tasks(batch_now, scheduler.scheduler_id, scheduler.lease_seconds)
            process_batch(scheduler, alias, store, due, batch_now, unsubmitted)
            elapsed = time.monotonic() - started
            if store.claim_batch is None or len(due) < store.claim_batch or elapsed >= budget:
                return
            batch_now = now + timedelta(seconds=elapsed)
    finally:
        release_unsubmitted(scheduler, alias, store, unsubmitted)


def process_batch(
    scheduler: BaseScheduler,
    alias: str,
    store: Store,
    due: list[Task],
    now: datetime,
    unsubmitted: list[Task] | None,
) -> None:
    for task in sharing_gil(due):  # the pass runs beside the event loop: share the GIL
        task.store_alias = alias
        task.scheduler = scheduler
        try:
            process_task(scheduler, alias, store, task, now, unsubmitted)
        except TaskLookupError:
            scheduler.logger.debug("Task %r was deleted while it was being processed", task.id)
        except Exception:
            scheduler.logger.exception("Processing task %r of store %r failed; it is retried next pass", task.id, alias)


def release_unsubmitted(scheduler: BaseScheduler, alias: str, store: Store, tasks: list[Task]) -> None:
    """Write back the claimed tasks the pass did not submit, in slices of one bulk release
    each. A release that fails is held and retried like a finished run's (the lease is renewed
    meanwhile), rather than left to expire and be taken for a dead scheduler's."""
    listens = scheduler.listens_to
    for chunk in in_slices(tasks, RELEASE_SLICE):
        batch = list(chunk)
        try:
            released = store.release_tasks(batch, scheduler.scheduler_id)
        except Exception as exc:
            for task in batch:
                scheduler.claims.hold(task)
            scheduler.claims.keep_for_retry(alias, batch, exc)
            continue
        for task, ok in zip(batch, released, strict=True):
            if not ok:
                scheduler.logger.warning(
                    "Task %r: lease expired before release; another scheduler took it over", task.id
                )
            elif task.next_run_time is None and listens(TASK_REMOVED):
                scheduler.dispatch_event(TaskEvent(code=TASK_REMOVED, task_id=task.id, store=alias))


def process_task(
    scheduler: BaseScheduler,
    alias: str,
    store: Store,
    task: Task,
    now: datetime,
    unsubmitted: list[Task] | None = None,
) -> None:
    """Submit the task's due runs, report the missed ones, and settle it. A claimed task that
    is not submitted goes to ``unsubmitted`` when given, for the pass to release in bulk."""
    timezone = scheduler.timezone
    listens = scheduler.listens_to
    if task.interrupted_at is not None and scheduler.claims.holds_task(alias, task.id):
        # Our own lease ran out (the store was unreachable while we held it): not a dead
        # scheduler's run. A release we could not write yet carries the real schedule.
        pending = scheduler.claims.take_pending(alias, task.id)
        if pending is None:
            return  # still running here: its completion releases the claim we now hold anew
        task = pending
        task.interrupted_at = None
    retry = take_retry(task) if task.retry is not None else None  # the regular schedule first
    if task.interrupted_at is not None:
        skip_interrupted_runs(scheduler, alias, task, task.interrupted_at)
        retry = scheduler.run_log.interrupted_retry(alias, task, retry)
        task.interrupted_at = None
    run_times, next_run_time = task.due_run_times(timezone, now)
    if next_run_time is not None and next_run_time > MAX_RUN_TIME:  # a third-party trigger's
        scheduler.logger.warning(
            "Task %r: its trigger's next time %s is past %s; the task has finished",
            task.id,
            next_run_time.isoformat(),
            MAX_RUN_TIME.date().isoformat(),
        )
        next_run_time = None
    runnable, missed = split_missed(task, run_times, now)
    if missed:
        scheduler.logger.warning(
            "Run time(s) of task %r missed by more than the grace time (%ss): %s",
            task.name,
            task.mistrigger_grace_time,
            iso_times(missed),
        )
        if listens(TASK_MISSED):
            for run_time in missed:
                scheduler.dispatch_event(
                    TaskExecutionEvent(code=TASK_MISSED, task_id=task.id, store=alias, scheduled_run_time=run_time)
                )
        scheduler.run_log.missed(task, alias, missed)
    if run_times:
        # Advance before submitting: an inline executor may finish, and settle, inside send_task.
        task.next_run_time = next_run_time
    if retry is not None:  # due: submitted with the regular runs; not yet: back on the task
        runnable = scheduler.run_log.fold_retry(alias, task, retry, runnable, now)
    if store.supports_claims:
        scheduler.claims.hold(task)  # before submitting: an inline executor finishes at once
        if runnable and submit(scheduler, alias, task, runnable):
            return  # the claim is released when the run completes (BaseScheduler.run_finished)
        scheduler.claims.drop(alias, task.id)
        if unsubmitted is not None:
            unsubmitted.append(task)
            return
    elif runnable:
        may_retry = bool(task.max_retries) and task.next_run_time is None  # finished, but it may retry
        if may_retry:  # before submitting: the outcome may come before send_task returns
            scheduler.run_log.keep_for_outcome(alias, task, runnable[-1])
        if submit(scheduler, alias, task, runnable):
            if may_retry:
                store.update_task(task)  # paused until the outcome, applied after this, deletes it or retries
                return
        elif may_retry:
            scheduler.run_log.forget_kept(alias, task)
    if settle(scheduler, store, task) and listens(TASK_REMOVED):
        scheduler.dispatch_event(TaskEvent(code=TASK_REMOVED, task_id=task.id, store=alias))


def skip_interrupted_runs(scheduler: BaseScheduler, alias: str, task: Task, claimed_at: datetime) -> None:
    """The task's previous scheduler died holding it. It had claimed it at ``claimed_at`` and may
    have run the run times due then. ``rerun`` runs them again (at least once); ``report``, the
    default, skips them and says so in a TASK_RUN_ABANDONED event (at most once)."""
    interrupted, after = task.due_run_times(scheduler.timezone, claimed_at)
    if not interrupted:
        return
    if task.on_interrupted == "rerun":
        scheduler.logger.warning(
            "Task %r: re-running %s, claimed by a scheduler that died", task.id, iso_times(interrupted)
        )
        return
    scheduler.logger.warning(
        "Task %r: runs %s were interrupted by their scheduler's death; not re-run", task.id, iso_times(interrupted)
    )
    if scheduler.listens_to(TASK_RUN_ABANDONED):
        scheduler.dispatch_event(
            TaskSubmissionEvent(code=TASK_RUN_ABANDONED, task_id=task.id, store=alias, scheduled_run_times=interrupted)
        )
    scheduler.run_log.abandoned(task, alias, interrupted)
    task.next_run_time = after


def submit(scheduler: BaseScheduler, alias: str, task: Task, runnable: list[datetime]) -> bool:
    """Hand the runs to the task's executor; True when it took them.

    ``TASK_SUBMITTED`` takes its place in the event queue *before* the executor starts, so
    listeners see it before the run's outcome even when a worker finishes first."""
    listens = scheduler.listens_to
    executor = scheduler.executors.get(task.executor or "default")
    if executor is None:
        said = scheduler.missing_executors_logged
        if (task.id, task.executor) not in said:  # once per task, not at every pass
            said.add((task.id, task.executor))
            scheduler.logger.error(
                "Task %r names executor %r, which was removed; it does not run until the executor is added "
                "again or the task is changed",
                task.id,
                task.executor,
            )
        scheduler.run_log.not_submitted(task, alias, runnable)
        return False
    slot = scheduler.events.reserve() if listens(TASK_SUBMITTED | TASK_MAX_INSTANCES) else None
    code: int | None = None
    try:
        executor.send_task(task, runnable)
        code = TASK_SUBMITTED
    except MaximumInstancesError:
        scheduler.logger.warning(
            "Run of task %r skipped: %d instance(s) already running", task.name, task.max_instances
        )
        code = TASK_MAX_INSTANCES
        scheduler.run_log.skipped(task, alias, runnable)
    except Exception:
        scheduler.logger.exception("Submitting task %r to executor %r failed", task.name, task.executor)
        scheduler.run_log.not_submitted(task, alias, runnable)
    finally:
        if slot is not None:
            slot.fill(
                TaskSubmissionEvent(code=code, task_id=task.id, store=alias, scheduled_run_times=runnable)
                if code is not None and listens(code)
                else None
            )
    if code != TASK_SUBMITTED:
        return False
    task.submitted = True
    return True


def settle(scheduler: BaseScheduler, store: Store, task: Task) -> bool:
    """Write the task's new schedule and release its claim; a task that was due and has no
    next run time has finished, and the store deletes it. True when it was deleted."""
    if not store.release_task(task, scheduler.scheduler_id):
        scheduler.logger.warning("Task %r: lease expired before release; another scheduler took it over", task.id)
        return False
    return task.next_run_time is None
