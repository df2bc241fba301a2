"""Shared executor behaviour: instance counting for ``max_instances`` and reporting outcomes."""

from __future__ import annotations

import logging
import time
from abc import abstractmethod
from collections.abc import Callable, Sequence
from datetime import datetime
from threading import Lock
from typing import TYPE_CHECKING

from asyncz_like.abc import Executor
from asyncz_like.events import TASK_QUEUED, TaskSubmissionEvent
from asyncz_like.exceptions import MaximumInstancesError
from asyncz_like.executors.runner import Outcome, Scope, failure_outcome

if TYPE_CHECKING:
    from asyncz_like.schedulers.base import BaseScheduler
    from asyncz_like.tasks.task import Task


#: the least time between two "at capacity" warnings of one executor
WARN_EVERY = 10.0


class BaseExecutor(Executor):
    """Counts runs in flight per task; subclasses only say how to start a run."""

    def __init__(self) -> None:
        self.scheduler: BaseScheduler | None = None
        self.alias: str | None = None
        self.logger = logging.getLogger("asyncz_like.executors")
        self._instances: dict[str, int] = {}
        self._instances_lock = Lock()
        self._in_flight = 0
        self._queued_since_warning = 0
        self._warned_at = 0.0
        #: what runs are timed with (the run history's start and end): the scheduler's clock
        self.timer: Callable[[], float] = time.time

    def start(self, scheduler: BaseScheduler, alias: str) -> None:
        self.scheduler = scheduler
        self.alias = alias
        self.logger = logging.getLogger(f"asyncz_like.executors.{alias}")
        self.timer = _timer_of(scheduler.clock)

    def shutdown(self, wait: bool = True) -> None:
        """Nothing to release by default."""

    def send_task(self, task: Task, run_times: Sequence[datetime]) -> None:
        task_id = task.id or ""
        with self._instances_lock:
            running = self._instances.get(task_id, 0)
            if running >= task.max_instances:
                raise MaximumInstancesError(task.id, task.max_instances)
            self._instances[task_id] = running + 1
            self._in_flight += 1
            in_flight = self._in_flight
        capacity = self.capacity(task)
        if capacity is not None and in_flight > capacity:
            self.report_queued(task, run_times, capacity)
        try:
            self.do_send_task(task, run_times)
        except BaseException:
            self._release(task_id)
            raise

    def capacity(self, task: Task) -> int | None:
        """How many runs like ``task`` can run at once here (None: no limit); past it they queue."""
        return None

    def report_queued(self, task: Task, run_times: Sequence[datetime], capacity: int) -> None:
        """Every worker is busy: the run waits. Say so (a TASK_QUEUED event per run, a warning
        at most every 10 s), or a pool blocked by runs that never end would go unnoticed."""
        now = time.monotonic()
        with self._instances_lock:
            self._queued_since_warning += 1
            warn = now - self._warned_at >= WARN_EVERY
            if warn:
                queued, self._queued_since_warning, self._warned_at = self._queued_since_warning, 0, now
        if warn:
            self.logger.warning(
                "Executor %r is at capacity (%d workers busy): %d run(s) queued, the latest of task %r",
                self.alias,
                capacity,
                queued,
                task.name,
            )
        scheduler = self.scheduler
        if scheduler is not None and scheduler.listens_to(TASK_QUEUED):
            scheduler.dispatch_event(
                TaskSubmissionEvent(
                    code=TASK_QUEUED, task_id=task.id, store=task.store_alias, scheduled_run_times=list(run_times)
                )
            )

    def run_scope(self, task: Task) -> Scope | None:
        """What each run of this submission runs inside, where it runs: the tracing extra's span
        (``instrument_tracing``), made here, in the submitting thread, so that it can see the
        submitter's trace context. None, at the cost of this call, when not instrumented."""
        scheduler = self.scheduler
        scopes = None if scheduler is None else scheduler.run_scopes
        return None if scopes is None else scopes(task, self.alias)

    def running_instances(self, task_id: str) -> int:
        """How many runs of this task are in flight here (what ``max_instances`` is checked against)."""
        return self._instances.get(task_id, 0)

    @abstractmethod
    def do_send_task(self, task: Task, run_times: Sequence[datetime]) -> None:
        """Start the run without waiting for it; call ``task_finished`` when it ends."""

    def _release(self, task_id: str) -> None:
        with self._instances_lock:
            self._in_flight -= 1
            left = self._instances.get(task_id, 0) - 1
            if left > 0:
                self._instances[task_id] = left
            else:
                self._instances.pop(task_id, None)

    def task_finished(self, task: Task, outcomes: Sequence[Outcome]) -> None:
        """Free the instance slot; the scheduler's run log records the outcomes, tells
        listeners, logs failures and schedules retries; then the claim is released."""
        self._release(task.id or "")
        scheduler = self.scheduler
        if scheduler is None:
            for outcome in outcomes:
                if not outcome[1]:
                    self.logger.error("Task %r raised an exception", task.name, exc_info=outcome[3])
            return
        scheduler.run_log.finished(task, self.alias, outcomes)
        scheduler.run_finished(task)

    def runs_in_flight(self) -> int:
        """Runs submitted here and not finished yet (the health report counts them)."""
        return self._in_flight

    def task_crashed(self, task: Task, run_times: Sequence[datetime], exc: BaseException) -> None:
        """The machinery itself failed (a broken pool): every run of this submission failed."""
        self.task_finished(task, [failure_outcome(run_time, exc) for run_time in run_times])


def _timer_of(clock: Callable[[], datetime]) -> Callable[[], float]:
    """The scheduler's clock as UTC seconds; ``time.time`` itself for the default clock."""
    from asyncz_like.schedulers.base import _utc_now

    if clock is _utc_now:
        return time.time
    return lambda: clock().timestamp()
