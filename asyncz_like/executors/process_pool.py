"""Run tasks in worker processes: for CPU-bound module-level functions."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Sequence
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime
from typing import TYPE_CHECKING, Any

from asyncz_like.executors.base import BaseExecutor
from asyncz_like.executors.pool import check_max_workers
from asyncz_like.executors.runner import Outcome, run_referenced

if TYPE_CHECKING:
    from asyncz_like.tasks.task import Task


class ProcessPoolExecutor(BaseExecutor):
    """The function travels by its ``module:name`` reference, so it must be importable at
    module level; a broken pool (a worker killed) is replaced for the next submission."""

    def __init__(self, max_workers: int = 10, pool_kwargs: dict[str, Any] | None = None, **kwargs: Any) -> None:
        if kwargs:
            raise TypeError(f"processpool executor: unexpected argument(s) {sorted(kwargs)}")
        super().__init__()
        self.max_workers = check_max_workers(max_workers)
        self.pool_kwargs = dict(pool_kwargs or {})
        self.pool: concurrent.futures.ProcessPoolExecutor | None = None

    def start(self, scheduler: Any, alias: str) -> None:
        super().start(scheduler, alias)
        if self.pool is None:
            self.pool = concurrent.futures.ProcessPoolExecutor(self.max_workers, **self.pool_kwargs)

    def shutdown(self, wait: bool = True) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait)
            self.pool = None

    def do_send_task(self, task: Task, run_times: Sequence[datetime]) -> None:
        if task.fn_reference is None:
            raise ValueError(
                f"fn: task {task.id!r} ({task.name}) has no importable 'module:name' reference, "
                "so it cannot run in a process pool"
            )
        if self.pool is None:
            raise RuntimeError(f"executor {self.alias!r} is not started")
        args = (task.fn_reference, task.args, dict(task.kwargs), list(run_times))
        try:
            future = self.pool.submit(run_referenced, *args)
        except BrokenProcessPool:
            self.logger.warning("Process pool of executor %r was broken; starting a new one", self.alias)
            self.pool.shutdown(wait=False)
            self.pool = concurrent.futures.ProcessPoolExecutor(self.max_workers, **self.pool_kwargs)
            future = self.pool.submit(run_referenced, *args)
        future.add_done_callback(lambda f: self._done(task, run_times, f))

    def _done(
        self, task: Task, run_times: Sequence[datetime], future: concurrent.futures.Future[list[Outcome]]
    ) -> None:
        exc = future.exception()
        if exc is not None:
            self.task_crashed(task, run_times, exc)
        else:
            self.task_finished(task, future.result())
