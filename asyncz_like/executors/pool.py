"""Run tasks in a pool of threads (coroutine functions get an event loop of their own there)."""

from __future__ import annotations

import asyncio
import concurrent.futures
from abc import abstractmethod
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from asyncz_like._callables import is_coroutine_callable
from asyncz_like.executors._waiting import WaitingLine
from asyncz_like.executors.base import BaseExecutor
from asyncz_like.executors.runner import Clock, Outcome, Scope, run_async, run_sync

if TYPE_CHECKING:
    from asyncz_like.tasks.task import Task


def _run_in_thread(task: Task, run_times: Sequence[datetime], clock: Clock, scope: Scope | None) -> list[Outcome]:
    fn = task.fn
    assert fn is not None
    if is_coroutine_callable(fn):
        return asyncio.run(run_async(fn, task.args, task.kwargs, run_times, clock, scope))
    return run_sync(fn, task.args, task.kwargs, run_times, clock, scope)


def check_max_workers(max_workers: Any) -> int:
    if isinstance(max_workers, bool) or not isinstance(max_workers, int) or max_workers <= 0:
        raise ValueError(f"max_workers: must be a positive integer, got {max_workers!r}")
    return max_workers


class PoolExecutor(BaseExecutor):
    """Shared life cycle of the executors built on a ``concurrent.futures`` pool. The pool is
    handed at most ``max_workers`` runs at a time; the others wait in a
    :class:`~asyncz_like.executors._waiting.WaitingLine`, higher ``priority`` first."""

    kind = "pool"

    def __init__(self, max_workers: int = 10, pool_kwargs: dict[str, Any] | None = None, **kwargs: Any) -> None:
        if kwargs:
            raise TypeError(f"{self.kind} executor: unexpected argument(s) {sorted(kwargs)}")
        super().__init__()
        self.max_workers = check_max_workers(max_workers)
        self.pool_kwargs = dict(pool_kwargs or {})
        self.pool: concurrent.futures.Executor | None = None
        self.waiting = WaitingLine(self.max_workers, self.submit, self.task_crashed)

    @abstractmethod
    def make_pool(self) -> concurrent.futures.Executor:
        """A new pool of ``max_workers`` workers."""

    @abstractmethod
    def submit(self, task: Task, run_times: Sequence[datetime], scope: Scope | None) -> None:
        """Hand the run to the pool, which has a free worker for it, and see its outcome reported."""

    def do_send_task(self, task: Task, run_times: Sequence[datetime]) -> None:
        self.started_pool()  # not started: refused, rather than left waiting
        self.waiting.send(task, run_times, self.run_scope(task))  # the scope: made in the submitting thread

    def start(self, scheduler: Any, alias: str) -> None:
        super().start(scheduler, alias)
        if self.pool is None:
            self.pool = self.make_pool()

    def shutdown(self, wait: bool = True) -> None:
        if self.pool is not None:
            self.waiting.start_all()  # they run as before, in the pool's queue, in priority order
            self.pool.shutdown(wait)
            self.pool = None

    def capacity(self, task: Task) -> int | None:
        return self.max_workers

    def started_pool(self) -> concurrent.futures.Executor:
        """The pool, once ``start`` made it; a RuntimeError naming the executor before that."""
        if self.pool is None:
            raise RuntimeError(f"executor {self.alias!r} is not started")
        return self.pool

    def report_when_done(
        self, task: Task, run_times: Sequence[datetime], future: concurrent.futures.Future[Any]
    ) -> None:
        """Report the runs' outcomes to the scheduler when ``future`` completes."""
        future.add_done_callback(lambda done: self._done(task, run_times, done))

    def _done(
        self, task: Task, run_times: Sequence[datetime], future: concurrent.futures.Future[list[Outcome]]
    ) -> None:
        try:
            exc = future.exception()
            if exc is not None:
                self.task_crashed(task, run_times, exc)
            else:
                self.task_finished(task, future.result())
        finally:
            self.waiting.done()  # the worker is free: the first waiting run takes it


class ThreadPoolExecutor(PoolExecutor):
    """``max_workers`` threads; ``pool_kwargs`` go to ``concurrent.futures.ThreadPoolExecutor``."""

    kind = "threadpool"

    def make_pool(self) -> concurrent.futures.Executor:
        return concurrent.futures.ThreadPoolExecutor(
            self.max_workers, thread_name_prefix=f"asyncz_like-{self.alias}", **self.pool_kwargs
        )

    def submit(self, task: Task, run_times: Sequence[datetime], scope: Scope | None) -> None:
        pool = self.started_pool()
        pool.submit(self.waiting.run_in_slot, self._execute, self.task_finished, task, run_times, scope)

    def _execute(self, task: Task, run_times: Sequence[datetime], scope: Scope | None) -> list[Outcome]:
        return _run_in_thread(task, run_times, self.timer, scope)
