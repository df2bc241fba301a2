"""Run tasks right away in the calling thread: deterministic, for tests and debugging."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from asyncz_like._callables import is_coroutine_callable
from asyncz_like.executors.base import BaseExecutor
from asyncz_like.executors.runner import run_async, run_sync

if TYPE_CHECKING:
    from asyncz_like.tasks.task import Task


class DebugExecutor(BaseExecutor):
    """Runs each submission inline before ``send_task`` returns (coroutines too, when no loop
    is running in this thread; inside a running loop they become loop tasks)."""

    def __init__(self, **kwargs: Any) -> None:
        if kwargs:
            raise TypeError(f"debug executor: unexpected argument(s) {sorted(kwargs)}")
        super().__init__()
        self._pending: set[asyncio.Task[Any]] = set()

    def do_send_task(self, task: Task, run_times: Sequence[datetime]) -> None:
        fn = task.fn
        assert fn is not None
        scope = self.run_scope(task)
        if not is_coroutine_callable(fn):
            self.task_finished(task, run_sync(fn, task.args, task.kwargs, run_times, self.timer, scope))
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.task_finished(task, asyncio.run(run_async(fn, task.args, task.kwargs, run_times, self.timer, scope)))
            return
        future = loop.create_task(run_async(fn, task.args, task.kwargs, run_times, self.timer, scope))
        self._pending.add(future)
        future.add_done_callback(lambda f: self._done(task, run_times, f))

    def _done(self, task: Task, run_times: Sequence[datetime], future: asyncio.Task[Any]) -> None:
        self._pending.discard(future)
        if future.cancelled():
            self.task_crashed(task, run_times, asyncio.CancelledError())
        elif future.exception() is not None:
            self.task_crashed(task, run_times, future.exception())  # type: ignore[arg-type]
        else:
            self.task_finished(task, future.result())
