"""Schedulers for asyncio programs.

The scheduler keeps time in a thread of its own (:class:`~asyncz_like.schedulers.driver.PassDriver`),
which also does every store I/O it starts: a slow database or a busy loop delays neither
the other. The event loop runs coroutine tasks and calls every listener, in order, so a
listener may use loop-bound objects whichever executor ran the task.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from asyncz_like.abc import Executor
from asyncz_like.events import SchedulerEvent
from asyncz_like.executors.asyncio import AsyncIOExecutor
from asyncz_like.schedulers.base import BaseScheduler
from asyncz_like.schedulers.driver import PassDriver


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
        self.driver: PassDriver | None = None
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
            if thread.is_alive():  # a listener is still busy with the last events: let it finish
                self.logger.warning("The scheduler's event loop thread is still busy after 5 s; leaving it to end")
            else:
                loop.close()
            self.event_loop = None
        self.event_loop_thread = None

    def start(self, paused: bool = False) -> bool:
        self._ensure_loop()
        return super().start(paused)

    def shutdown(self, wait: bool = True) -> bool:
        """Stop processing at once; with ``wait``, runs in flight finish first — coroutines
        too. Called on the loop's own thread, it cannot block for coroutines without stalling
        them: it then returns at once and completes (releases, closes the stores, sends
        ``SCHEDULER_SHUTDOWN``) when they are done. ``await NativeAsyncIOScheduler.shutdown()``
        waits in that case."""
        if not self.begin_shutdown():
            return False
        loop = self.event_loop
        if wait and self._coroutines_in_flight() and loop is not None and loop.is_running():
            if _running_loop() is loop:
                finishing = loop.create_task(self._finish_after_coroutines(wait))
                self._background.add(finishing)
                finishing.add_done_callback(self._background.discard)
                return True
            asyncio.run_coroutine_threadsafe(self._wait_coroutines(), loop).result()
        self.finish_shutdown(wait)
        self._stop_own_loop()
        return True

    def _coroutines_in_flight(self) -> bool:
        return any(isinstance(ex, AsyncIOExecutor) and ex.running for ex in list(self.executors.values()))

    async def _wait_coroutines(self) -> None:
        for executor in list(self.executors.values()):
            if isinstance(executor, AsyncIOExecutor):
                await executor.wait_running()

    async def _finish_after_coroutines(self, wait: bool) -> None:
        await self._wait_coroutines()
        self.finish_shutdown(wait)

    def create_default_executor(self) -> Executor:
        return AsyncIOExecutor()

    # -- time keeping (the driver thread) ------------------------------------------

    def start_driver(self) -> None:
        self.driver = PassDriver(self)
        self.driver.start()

    def stop_driver(self) -> None:
        driver = self.driver
        if driver is not None:
            driver.stop()

    def stop_leases(self) -> None:
        driver = self.driver
        if driver is not None and driver.leases is not None:
            driver.leases.stop()

    def wakeup(self) -> None:
        """A pass as soon as possible; many wakeups before it runs make a single pass."""
        driver = self.driver
        if driver is not None:
            driver.request_pass()

    def wakeup_at(self, when: datetime) -> None:
        driver = self.driver
        if driver is not None:
            driver.wake_at(when)

    def run_store_io(self, function: Any, *args: Any) -> None:
        """Store writes triggered outside a pass (claim releases when runs finish) go to the
        driver thread, whether the run finished on the loop or in a worker thread: on the loop
        they would stall it, and from many worker threads they would each release one task at a
        time, in parallel, instead of one batch after another."""
        driver = self.driver
        if driver is None:
            function(*args)
        else:
            driver.submit(lambda: function(*args))

    def _call_in_loop(self, callback: Any, *args: Any) -> None:
        loop = self.event_loop
        if loop is None or loop.is_closed():
            return
        if _running_loop() is loop:
            callback(*args)
        else:
            loop.call_soon_threadsafe(callback, *args)

    # -- events: every listener on the loop thread ------------------------------------

    def event_drain_scheduler(self) -> Callable[[Callable[[], None]], Any] | None:
        def schedule(drain: Callable[[], None]) -> None:
            loop = self.event_loop
            if loop is None or loop.is_closed():
                drain()  # no loop (yet, or any more): here and now
            elif _running_loop() is loop:
                drain()  # already on the loop: deliver now, after what is queued before
            else:
                try:
                    loop.call_soon_threadsafe(drain)
                except RuntimeError:  # closed meanwhile
                    drain()

        return schedule

    def delivers_events_here(self) -> bool:
        """On the loop thread, or when there is no loop to hop to (as ``schedule`` above)."""
        loop = self.event_loop
        return loop is None or asyncio._get_running_loop() is loop or loop.is_closed()

    def flush_events(self) -> None:
        """At shutdown: deliver what is queued here when this is the loop thread (or there is no
        running loop); otherwise the loop delivers it, after everything queued before."""
        loop = self.event_loop
        if loop is None or loop.is_closed() or not loop.is_running() or _running_loop() is loop:
            self.events.drain()

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
    ``await scheduler.shutdown()``, which waits for runs in flight when ``wait`` is true.
    With ``isolated_event_loop=True`` the scheduler runs its coroutines and listeners on a
    fresh loop in a thread of its own instead of the caller's."""

    async def start(self, paused: bool = False) -> bool:  # type: ignore[override]
        if not self.isolated_event_loop:
            self.event_loop = asyncio.get_running_loop()
        return super().start(paused)

    async def shutdown(self, wait: bool = True) -> bool:  # type: ignore[override]
        """No new run starts once this is called; with ``wait`` the runs in flight (shutdown
        tasks included) finish before their claims are released and the stores close."""
        if not self.begin_shutdown():
            return False
        loop = self.event_loop
        if wait and loop is not None:
            if loop is asyncio.get_running_loop():
                await self._wait_coroutines()
            elif loop.is_running():  # our own isolated loop
                await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(self._wait_coroutines(), loop))
        self.finish_shutdown(wait)
        self._stop_own_loop()
        return True


def _running_loop() -> asyncio.AbstractEventLoop | None:
    """The loop running in this thread, or None: without raising, which off the loop (the store
    thread, at every submission) costs more than the rest of the check."""
    return asyncio._get_running_loop()
