"""Run tasks in worker processes: for CPU-bound module-level functions."""

from __future__ import annotations

import concurrent.futures
import multiprocessing
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
        """Workers are started by a fork server (spawned, where there is none), never forked
        from the scheduler's process: it runs threads (the driver, change feeds, the loop), and
        a child forked while one of them holds a lock can hang for good. ``pool_kwargs``'s
        ``mp_context`` overrides this."""
        options = dict(self.pool_kwargs)
        if "mp_context" not in options:
            method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
            options["mp_context"] = multiprocessing.get_context(method)
        return concurrent.futures.ProcessPoolExecutor(self.max_workers, **options)

    def do_send_task(self, task: Task, run_times: Sequence[datetime]) -> None:
        if task.fn_reference is None:
            raise ValueError(
                f"fn: task {task.id!r} ({task.name}) has no importable 'module:name' reference, "
                "so it cannot run in a process pool"
            )
        args = (task.fn_reference, task.args, dict(task.kwargs), list(run_times))
        try:
            future = self.started_pool().submit(run_referenced, *args)
        except BrokenProcessPool:
            self.logger.warning("Process pool of executor %r was broken; starting a new one", self.alias)
            self.started_pool().shutdown(wait=False)
            self.pool = self.make_pool()
            future = self.pool.submit(run_referenced, *args)
        self.report_when_done(task, run_times, future)
