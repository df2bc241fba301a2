"""Run tasks in worker processes: for CPU-bound module-level functions."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Sequence
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime
from typing import TYPE_CHECKING

from asyncz_like.executors.pool import PoolExecutor
from asyncz_like.executors.runner import run_referenced

if TYPE_CHECKING:
    from asyncz_like.tasks.task import Task


class ProcessPoolExecutor(PoolExecutor):
    """The function travels by its ``module:name`` reference, so it must be importable at
    module level; a broken pool (a worker killed) is replaced for the next submission."""

    kind = "processpool"

    def make_pool(self) -> concurrent.futures.Executor:
        """The platform's default start method, as asyncz (and a script without an
        ``if __name__ == "__main__":`` guard) expects: "fork" on Linux before Python 3.14.
        Forking a process that runs threads (the scheduler's own) can hang a child that needs a
        lock another thread held; a program with a ``__main__`` guard should pass
        ``pool_kwargs={"mp_context": multiprocessing.get_context("forkserver")}``."""
        return concurrent.futures.ProcessPoolExecutor(self.max_workers, **self.pool_kwargs)

    def do_send_task(self, task: Task, run_times: Sequence[datetime]) -> None:
        if task.fn_reference is None:
            raise ValueError(
                f"fn: task {task.id!r} ({task.name}) has no importable 'module:name' reference, "
                "so it cannot run in a process pool"
            )
        function, args = run_referenced, (task.fn_reference, task.args, dict(task.kwargs), list(run_times))
        scope = self.run_scope(task)
        if scope is not None:
            function, args = scope.remote(*args)
        try:
            future = self.started_pool().submit(function, *args)
        except BrokenProcessPool:
            self.logger.warning("Process pool of executor %r was broken; starting a new one", self.alias)
            self.started_pool().shutdown(wait=False)
            self.pool = self.make_pool()
            future = self.pool.submit(function, *args)
        self.report_when_done(task, run_times, future)
