"""Run coroutine functions on the scheduler's event loop and plain functions in its thread pool."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from asyncz_like._callables import is_coroutine_callable
from asyncz_like.executors.base import BaseExecutor
from asyncz_like.executors.runner import Outcome, run_async, run_sync

if TYPE_CHECKING:
    from asyncz_like.tasks.task import Task


class AsyncIOExecutor(BaseExecutor):
    """The default executor of the asyncio schedulers.

    ``send_task`` may be called from any thread (the scheduler keeps store I/O off the
    loop); the run itself always starts on the loop.
    """

    def __init__(self, **kwargs: Any) -> None:
        if kwargs:
            raise TypeError(f"asyncio executor: unexpected argument(s) {sorted(kwargs)}")
        super().__init__()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.running: set[asyncio.Future[Any]] = set()

    def start(self, scheduler: Any, alias: str) -> None:
        super().start(scheduler, alias)
        loop = getattr(scheduler, "event_loop", None)
        if loop is None:
            raise RuntimeError(f"executor {alias!r}: the asyncio executor needs an asyncio scheduler")
        self.loop = loop

    def shutdown(self, wait: bool = True) -> None:
        """Stop accepting runs. Runs in flight finish on the loop (blocking the loop thread
        to wait for them would deadlock); ``NativeAsyncIOScheduler.shutdown`` awaits them."""
        self.loop = None

    async def wait_running(self) -> None:
        if self.running:
            await asyncio.gather(*list(self.running), return_exceptions=True)

    def do_send_task(self, task: Task, run_times: Sequence[datetime]) -> None:
        loop = self.loop
        if loop is None:
            raise RuntimeError(f"executor {self.alias!r} is not started")
        if _running_loop() is loop:
            self._submit(task, run_times)
        else:
            loop.call_soon_threadsafe(self._submit, task, run_times)

    def _submit(self, task: Task, run_times: Sequence[datetime]) -> None:
        loop = self.loop or asyncio.get_running_loop()
        fn = task.fn
        assert fn is not None
        future: asyncio.Future[list[Outcome]]
        if is_coroutine_callable(fn):
            future = loop.create_task(run_async(fn, task.args, task.kwargs, run_times))
        else:
            future = loop.run_in_executor(None, run_sync, fn, task.args, task.kwargs, run_times)
        self.running.add(future)
        future.add_done_callback(lambda f: self._done(task, run_times, f))

    def _done(self, task: Task, run_times: Sequence[datetime], future: asyncio.Future[list[Outcome]]) -> None:
        self.running.discard(future)
        if future.cancelled():
            self.task_crashed(task, run_times, asyncio.CancelledError())
        elif future.exception() is not None:
            self.task_crashed(task, run_times, future.exception())  # type: ignore[arg-type]
        else:
            self.task_finished(task, future.result())


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


__all__ = ["AsyncIOExecutor"]
