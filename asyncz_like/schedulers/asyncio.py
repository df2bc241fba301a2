"""Schedulers driven by an asyncio event loop.

The loop only keeps the timer. When a store does disk or network I/O the processing
pass runs in a single helper thread, so a slow database never stalls the loop; with
only in-memory stores the pass runs on the loop itself (no thread hop).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from typing import Any

from asyncz_like.abc import Executor
from asyncz_like.events import SchedulerEvent
from asyncz_like.executors.asyncio import AsyncIOExecutor
from asyncz_like.schedulers.base import BaseScheduler, SchedulerState


class AsyncIOScheduler(BaseScheduler):
    """Uses the running loop, or ``event_loop=``, or starts a loop in a daemon thread when
    there is none (``isolated_event_loop=True`` forces that)."""

    def __init__(
        self,
        global_config: dict[str, Any] | None = None,
        *,
        event_loop: asyncio.AbstractEventLoop | None = None,
        isolated_event_loop: bool = False,
        **options: Any,
    ) -> None:
        self.event_loop: asyncio.AbstractEventLoop | None = event_loop
        self.isolated_event_loop = isolated_event_loop
        self.event_loop_thread: threading.Thread | None = None
        self.timer: asyncio.TimerHandle | None = None
        self._io_pool: concurrent.futures.ThreadPoolExecutor | None = None
        self._pass_running = False
        self._pass_again = False
        self._wakeup_queued = False
        self._background: set[Any] = set()
        super().__init__(global_config, **options)

    # -- loop ownership ----------------------------------------------------------

    def _ensure_loop(self) -> None:
        if self.event_loop is not None and not self.event_loop.is_closed():
            return
        if not self.isolated_event_loop:
            try:
                self.event_loop = asyncio.get_running_loop()
                return
            except RuntimeError:
                pass
        ready = threading.Event()
        loop = asyncio.new_event_loop()

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.call_soon(ready.set)
            loop.run_forever()

        self.event_loop = loop
        self.event_loop_thread = threading.Thread(target=run, name="asyncz_like-loop", daemon=True)
        self.event_loop_thread.start()
        ready.wait()

    def _stop_own_loop(self) -> None:
        thread, loop = self.event_loop_thread, self.event_loop
        if thread is None or loop is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        if threading.current_thread() is not thread:
            thread.join(5)
            loop.close()
            self.event_loop = None
        self.event_loop_thread = None

    def start(self, paused: bool = False) -> bool:
        self._ensure_loop()
        return super().start(paused)

    def shutdown(self, wait: bool = True) -> bool:
        stopped = super().shutdown(wait)
        if stopped:
            self._stop_own_loop()
        return stopped

    def create_default_executor(self) -> Executor:
        return AsyncIOExecutor()

    # -- timer and wakeups -------------------------------------------------------

    def _call_in_loop(self, callback: Any, *args: Any) -> None:
        loop = self.event_loop
        if loop is None or loop.is_closed():
            return
        if _running_loop() is loop:
            callback(*args)
        else:
            loop.call_soon_threadsafe(callback, *args)

    def start_timer(self, wait_seconds: float | None = None) -> None:
        self.stop_timer()
        if wait_seconds is not None and self.event_loop is not None:
            self.timer = self.event_loop.call_later(wait_seconds, self._wakeup_now)

    def _time_left(self, wait_seconds: float | None) -> float | None:
        """The wait measured from now, not from when the pass began: time spent in the pass
        would otherwise make every run that much late."""
        if wait_seconds is None or self.next_wakeup_time is None:
            return wait_seconds
        return max((self.next_wakeup_time - self.clock()).total_seconds(), 0.0)

    def stop_timer(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def wakeup(self) -> None:
        """Queue one pass on the loop; many wakeups before it runs make a single pass."""
        if self._wakeup_queued:
            return
        loop = self.event_loop
        if loop is None or loop.is_closed():
            return
        self._wakeup_queued = True
        # Always deferred, even on the loop: a burst of add_task calls makes one pass.
        loop.call_soon_threadsafe(self._wakeup_now)

    def _wakeup_now(self) -> None:
        self._wakeup_queued = False
        if self.state != SchedulerState.STATE_RUNNING:
            return
        if self._pass_running:
            self._pass_again = True
            return
        self.stop_timer()
        if not any(store.blocking_io for store in self.stores.values()):
            self.start_timer(self._time_left(self.process_tasks()))
            return
        self._pass_running = True
        loop = self.event_loop
        assert loop is not None
        future = loop.run_in_executor(self._store_io_pool(), self.process_tasks)
        future.add_done_callback(self._pass_done)

    def _pass_done(self, future: asyncio.Future[float | None]) -> None:
        self._pass_running = False
        if future.cancelled():
            return
        exc = future.exception()
        wait_seconds = self.store_retry_interval if exc is not None else self._time_left(future.result())
        if exc is not None:
            self.logger.error("Processing pass failed", exc_info=exc)
        if self._pass_again:
            self._pass_again = False
            self.wakeup()
        else:
            self.start_timer(wait_seconds)

    def run_store_io(self, function: Any, *args: Any) -> None:
        """Store writes triggered by a run finishing go to the one store I/O thread, whether
        the run finished on the loop (a coroutine) or in a worker thread (a plain function):
        on the loop they would stall it, and from many worker threads they would each
        release one task at a time, in parallel, instead of one batch after another."""
        if self.event_loop is None or not any(store.blocking_io for store in self.stores.values()):
            function(*args)
            return
        self._store_io_pool().submit(function, *args)

    def _store_io_pool(self) -> concurrent.futures.ThreadPoolExecutor:
        if self._io_pool is None:
            self._io_pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="asyncz_like-store-io")
        return self._io_pool

    def flush_store_io(self) -> None:
        """Finish queued store writes (claim releases) before the stores close."""
        pool, self._io_pool = self._io_pool, None
        if pool is not None:
            pool.shutdown(wait=True)

    # -- async listeners ---------------------------------------------------------

    def run_coroutine_listener(self, result: Any, event: SchedulerEvent) -> None:
        loop = self.event_loop
        if loop is None or loop.is_closed():
            super().run_coroutine_listener(result, event)
            return

        async def guarded() -> None:
            try:
                await result
            except Exception:
                self.logger.exception("Error in async listener for %s", event)

        def schedule() -> None:
            handle = loop.create_task(guarded())
            self._background.add(handle)
            handle.add_done_callback(self._background.discard)

        self._call_in_loop(schedule)


class NativeAsyncIOScheduler(AsyncIOScheduler):
    """For code that lives in a running loop: ``await scheduler.start()`` and
    ``await scheduler.shutdown()``, which waits for runs in flight when ``wait`` is true."""

    async def start(self, paused: bool = False) -> bool:  # type: ignore[override]
        self.event_loop = asyncio.get_running_loop()
        return super().start(paused)

    async def shutdown(self, wait: bool = True) -> bool:  # type: ignore[override]
        if wait and self.ref_counter == 1:
            # Let runs in flight finish first, so their claims are released while stores are open.
            for executor in list(self.executors.values()):
                if isinstance(executor, AsyncIOExecutor):
                    await executor.wait_running()
        return BaseScheduler.shutdown(self, wait)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
