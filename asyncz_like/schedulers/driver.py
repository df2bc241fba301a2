"""The thread that keeps a scheduler's time and does its store I/O.

One thread per running scheduler owns everything that touches the stores on its own
initiative: processing passes, claim releases, lease renewals and polls of stores that
cannot announce changes. Keeping them on one thread makes store I/O serial and batched, and
keeps it off the event loop; keeping the *timer* here too means a busy or blocked loop (a
slow listener, a CPU-bound coroutine) never delays a run that does not need the loop.

The wake-up rule lives in :meth:`PassDriver.wake_at`: the next pass happens at the earliest
time anyone asked for — the last pass's answer (every store's next run time), a run time just
released or changed here, or one another process announced — and nothing else arms it. Polls
have a timer of their own and never stand in for a pass. Lease renewals have a thread of their
own (:class:`LeaseKeeper`): a lease says "this scheduler is alive", so it must not wait for a
long pass (thousands of due tasks, a slow server) to end, or other schedulers would take over
runs that are still in flight.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from asyncz_like.schedulers.base import BaseScheduler

logger = logging.getLogger("asyncz_like.schedulers")

#: the longest single wait; the thread looks at the clock at least this often
MAX_WAIT = 60.0


class PassDriver:
    """Runs passes at the planned times, and store jobs as they are queued."""

    def __init__(self, scheduler: BaseScheduler, name: str = "asyncz_like-scheduler") -> None:
        self.scheduler = scheduler
        self.name = name
        self._cond = threading.Condition(threading.Lock())
        self._wake_at: datetime | None = None
        self._pass_now = False
        self._jobs: deque[Callable[[], Any]] = deque()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._poll_at: datetime | None = None
        self._beat_at: datetime | None = None
        self.leases: LeaseKeeper | None = None

    # -- from any thread -------------------------------------------------------------

    def start(self) -> None:
        self._stopping = False
        self._beat_at = self.scheduler.clock()  # a heartbeat at once on shared stores
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()
        self.leases = LeaseKeeper(self.scheduler)
        self.leases.start()

    def request_pass(self) -> None:
        """A pass as soon as possible (many requests before it runs make one pass)."""
        with self._cond:
            self._pass_now = True
            self._cond.notify()

    def wake_at(self, when: datetime) -> None:
        """A pass no later than ``when``; a later time than one already planned changes nothing."""
        with self._cond:
            if self._wake_at is None or when < self._wake_at:
                self._wake_at = when
                self._cond.notify()

    @property
    def planned(self) -> datetime | None:
        return self._wake_at

    def submit(self, job: Callable[[], Any]) -> None:
        """Run ``job`` on this thread, before the next pass."""
        with self._cond:
            if self._thread is None:  # not running (yet, or any more): the caller's thread
                job_now = True
            else:
                job_now = False
                self._jobs.append(job)
                self._cond.notify()
        if job_now:
            job()

    def stop(self) -> None:
        """Finish the pass in progress, run the queued jobs, and end the thread. No pass starts
        once this is called."""
        with self._cond:
            self._stopping = True
            self._cond.notify()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()
        self._thread = None
        self.run_jobs()  # whatever was queued after the thread left

    def run_jobs(self) -> None:
        while True:
            with self._cond:
                if not self._jobs:
                    return
                job = self._jobs.popleft()
            try:
                job()
            except Exception:
                logger.exception("Store job %r failed", job)

    # -- the thread ------------------------------------------------------------------

    def _run(self) -> None:
        scheduler = self.scheduler
        while True:
            with self._cond:
                while True:
                    if self._stopping:
                        return
                    if self._jobs:
                        break
                    now = scheduler.clock()
                    due = [t for t in (self._wake_at, self._poll_at, self._beat_at) if t is not None]
                    if self._pass_now or any(t <= now for t in due):
                        break
                    wait = min((t - now).total_seconds() for t in due) if due else MAX_WAIT
                    self._cond.wait(min(max(wait, 0.0), MAX_WAIT))
            self.run_jobs()
            now = scheduler.clock()
            if self._poll_at is not None and self._poll_at <= now:
                self._poll_at = None
                self._guard(scheduler.poll_stores)
            if self._beat_at is not None and self._beat_at <= now:
                self._beat_at = None
                self._guard(scheduler.run_log.heartbeat)
            with self._cond:
                run_pass = self._pass_now or (self._wake_at is not None and self._wake_at <= now)
                if run_pass:
                    self._pass_now = False
                    self._wake_at = None  # what is asked for during the pass lands here
            if run_pass:
                self._one_pass()
            self._plan_side_timers()

    def _one_pass(self) -> None:
        scheduler = self.scheduler
        try:
            scheduler.process_tasks()
            planned = scheduler.next_wakeup_time
        except Exception:
            logger.exception("Processing pass failed")
            planned = scheduler.clock() + timedelta(seconds=scheduler.store_retry_interval)
        with self._cond:
            if planned is not None and (self._wake_at is None or planned < self._wake_at):
                self._wake_at = planned

    def _plan_side_timers(self) -> None:
        """A poll while some store cannot announce; a heartbeat (and a retry of run records not
        written yet) while some store is shared."""
        scheduler = self.scheduler
        now = scheduler.clock()
        interval = scheduler.poll_interval_now()
        if self._poll_at is None and interval is not None:
            self._poll_at = now + timedelta(seconds=interval)
        beat = scheduler.run_log.heartbeat_interval()
        if self._beat_at is None and beat is not None:
            self._beat_at = now + timedelta(seconds=beat)

    def _guard(self, function: Callable[[], Any]) -> None:
        try:
            function()
        except Exception:
            logger.exception("%s failed", getattr(function, "__name__", function))


class LeaseKeeper:
    """Renews the leases on runs in flight every ``lease_seconds / 3``, on a thread of its own
    (stores that do I/O are thread-safe), whatever the pass thread is doing."""

    def __init__(self, scheduler: BaseScheduler) -> None:
        self.scheduler = scheduler
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="asyncz_like-leases", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join()

    def _run(self) -> None:
        scheduler = self.scheduler
        while not self._stop.wait(scheduler.lease_seconds / 3):
            if scheduler.claims.holds_any():
                try:
                    scheduler.renew_leases()
                except Exception:
                    logger.exception("Renewing leases failed")
