"""Run coroutine functions on the scheduler's event loop and plain functions in a thread pool."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import threading
from collections import deque
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from asyncz_like._callables import is_coroutine_callable
from asyncz_like.executors._waiting import WaitingLine
from asyncz_like.executors.base import BaseExecutor
from asyncz_like.executors.runner import Outcome, Scope, run_async, run_sync

if TYPE_CHECKING:
    from asyncz_like.tasks.task import Task


#: coroutine runs started per loop iteration when they arrive from the store thread
DRAIN_SLICE = 64


class AsyncIOExecutor(BaseExecutor):
    """The default executor of the asyncio schedulers.

    ``send_task`` may be called from any thread (the scheduler keeps store I/O off the
    loop). A coroutine run is one loop task that reports its own outcome when it ends; a
    plain function goes to the thread pool, and its worker reports the outcome: no
    completion callbacks hop through the loop. The pool is handed at most ``max_workers``
    runs at a time; the others wait in a
    :class:`~asyncz_like.executors._waiting.WaitingLine`, higher ``priority`` first.
    """

    def __init__(self, max_workers: int | None = None, **kwargs: Any) -> None:
        if kwargs:
            raise TypeError(f"asyncio executor: unexpected argument(s) {sorted(kwargs)}")
        if max_workers is not None and (
            isinstance(max_workers, bool) or not isinstance(max_workers, int) or max_workers <= 0
        ):
            raise ValueError(f"max_workers: must be a positive integer or None, got {max_workers!r}")
        super().__init__()
        self.max_workers = max_workers or min(32, (os.cpu_count() or 1) + 4)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.pool: concurrent.futures.ThreadPoolExecutor | None = None
        self.running: set[asyncio.Task[Any]] = set()
        self.running_threads: set[concurrent.futures.Future[Any]] = set()
        self._inbox: deque[tuple[Task, Sequence[datetime], Scope | None]] = deque()
        self._inbox_lock = threading.Lock()
        self._draining = False
        self.waiting = WaitingLine(self.max_workers, self._submit_to_thread, self.task_crashed)

    def start(self, scheduler: Any, alias: str) -> None:
        super().start(scheduler, alias)
        loop = getattr(scheduler, "event_loop", None)
        if loop is None:
            raise RuntimeError(f"executor {alias!r}: the asyncio executor needs an asyncio scheduler")
        self.loop = loop

    def shutdown(self, wait: bool = True) -> None:
        """Stop accepting runs. Coroutines in flight finish on the loop (blocking the loop
        thread to wait for them would deadlock: ``NativeAsyncIOScheduler.shutdown`` awaits
        them); with ``wait`` the thread pool's runs are waited for."""
        self.waiting.start_all()  # they run as before, in the pool's queue, in priority order
        self.loop = None
        pool, self.pool = self.pool, None
        if pool is not None:
            pool.shutdown(wait)

    def capacity(self, task: Task) -> int | None:
        """Coroutines share the loop without limit; plain functions share the thread pool. The
        count compared with it is of every run in flight, so it may warn a little early when
        coroutines run beside a full pool."""
        return None if _is_async(task.fn) else self.max_workers + len(self.running)

    async def wait_running(self) -> None:
        """Wait (on the loop) until the coroutine and thread runs in flight are over; for ``shutdown(wait=True)``."""
        waiting: list[Any] = list(self.running)
        waiting += [asyncio.wrap_future(future) for future in list(self.running_threads)]
        if waiting:
            await asyncio.gather(*waiting, return_exceptions=True)

    def do_send_task(self, task: Task, run_times: Sequence[datetime]) -> None:
        loop = self.loop
        if loop is None:
            raise RuntimeError(f"executor {self.alias!r} is not started")
        scope = self.run_scope(task)
        if not _is_async(task.fn):
            self.waiting.send(task, run_times, scope)
        elif _running_loop() is loop:
            self._start_coroutine(loop, task, run_times, scope)
        else:
            # From the store thread: queue it; one drain callback starts the queue in slices,
            # so a pass of thousands neither wakes the loop per run nor hogs one iteration.
            with self._inbox_lock:
                self._inbox.append((task, run_times, scope))
                wake = not self._draining
                self._draining = True
            if wake:
                loop.call_soon_threadsafe(self._drain_inbox, loop)

    def _submit_to_thread(self, task: Task, run_times: Sequence[datetime], scope: Scope | None) -> None:
        """A plain function's run, to a worker of the thread pool that is free for it."""
        if self.loop is None:
            raise RuntimeError(f"executor {self.alias!r} is not started")
        if self.pool is None:
            self.pool = concurrent.futures.ThreadPoolExecutor(
                self.max_workers, thread_name_prefix=f"asyncz_like-{self.alias}"
            )
        future = self.pool.submit(self.waiting.run_in_slot, self._execute, self.task_finished, task, run_times, scope)
        self.running_threads.add(future)
        future.add_done_callback(self.running_threads.discard)

    def _drain_inbox(self, loop: asyncio.AbstractEventLoop) -> None:
        with self._inbox_lock:
            batch = [self._inbox.popleft() for _ in range(min(DRAIN_SLICE, len(self._inbox)))]
            more = bool(self._inbox)
            self._draining = more
        for task, run_times, scope in batch:
            self._start_coroutine(loop, task, run_times, scope)
        if more:
            loop.call_soon(self._drain_inbox, loop)  # let other callbacks run in between

    def _start_coroutine(
        self, loop: asyncio.AbstractEventLoop, task: Task, run_times: Sequence[datetime], scope: Scope | None
    ) -> None:
        self.running.add(loop.create_task(self._run_coroutine(task, run_times, scope)))

    async def _run_coroutine(self, task: Task, run_times: Sequence[datetime], scope: Scope | None) -> None:
        try:
            outcomes = await run_async(task.fn, task.args, task.kwargs, run_times, self.timer, scope)  # type: ignore[arg-type]
        except BaseException as exc:  # cancelled: still free the instance and report
            self.task_crashed(task, run_times, exc)
            raise
        else:
            self.task_finished(task, outcomes)
        finally:
            self.running.discard(asyncio.current_task())  # type: ignore[arg-type]

    def _execute(self, task: Task, run_times: Sequence[datetime], scope: Scope | None) -> list[Outcome]:
        """A plain function's runs, in a worker thread (``WaitingLine.run_in_slot`` reports them)."""
        return run_sync(task.fn, task.args, task.kwargs, run_times, self.timer, scope)  # type: ignore[arg-type]


_ASYNC_CACHE: dict[Any, bool] = {}


def _is_async(fn: Any) -> bool:
    """``is_coroutine_callable``, remembered per function: inspect is slow on the hot path."""
    try:
        return _ASYNC_CACHE[fn]
    except KeyError:
        result = _ASYNC_CACHE[fn] = is_coroutine_callable(fn)
        if len(_ASYNC_CACHE) > 4096:
            _ASYNC_CACHE.clear()
        return result
    except TypeError:  # an unhashable callable
        return is_coroutine_callable(fn)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    """The loop running in this thread, or None: without raising, which off the loop (the store
    thread, at every submission) costs more than the rest of the check."""
    return asyncio._get_running_loop()


__all__ = ["AsyncIOExecutor"]
