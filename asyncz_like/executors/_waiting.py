"""The line where runs wait for a worker of a bounded pool: highest ``priority`` first.

A ``concurrent.futures`` pool queues what it cannot start yet first in, first out, so a
high-priority run due now would wait behind every lower-priority run queued earlier (by an
earlier pass, or by another store). So a pool is handed at most ``slots`` runs at a time,
and the rest wait here: when a run ends, its slot goes to the waiting run with the highest
priority, and among equal priorities to the one that came first. A run that already
started is never interrupted.
"""

from __future__ import annotations

import heapq
import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from itertools import count
from threading import Lock, local
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from asyncz_like.executors.runner import Outcome, Scope
    from asyncz_like.tasks.task import Task

logger = logging.getLogger("asyncz_like.executors")

Start = Callable[["Task", Sequence[datetime], "Scope | None"], None]
Failed = Callable[["Task", Sequence[datetime], BaseException], None]
Execute = Callable[["Task", Sequence[datetime], "Scope | None"], "list[Outcome]"]
Finished = Callable[["Task", "list[Outcome]"], None]


def _report_safely(report: Callable[..., None], task: Task, *args: Any) -> None:
    """Report a run's outcome from a worker that goes on with the next run: a failure to report
    is logged, and must not cost the slot (a pool's future logged it the same way)."""
    try:
        report(task, *args)
    except Exception:
        logger.exception("Reporting the outcome of a run of task %r failed", task.id)


class WaitingLine:
    """``send`` starts a run at once while fewer than ``slots`` are out, else keeps it
    waiting; the executor calls ``done`` when a run it started has ended (reported)."""

    def __init__(self, slots: int, start: Start, failed: Failed) -> None:
        self.slots = slots
        self._start = start
        self._failed = failed
        self._out = 0
        self._waiting: list[tuple[int, int, Task, Sequence[datetime], Scope | None]] = []
        self._order = count()
        self._lock = Lock()
        self._handing_on = local()  # .ends: ends to hand on, while this thread hands them on

    def __len__(self) -> int:
        """How many runs are waiting."""
        return len(self._waiting)

    def send(self, task: Task, run_times: Sequence[datetime], scope: Scope | None = None) -> None:
        """Start the run now if a slot is free, else let it wait. What ``start`` raises is
        raised here, after the slot went on to a waiting run. ``scope`` (tracing, made where
        the run was submitted) goes with the run to ``start``."""
        with self._lock:
            if self._out >= self.slots:
                heapq.heappush(self._waiting, (-task.priority, next(self._order), task, run_times, scope))
                return
            self._out += 1
        try:
            self._start(task, run_times, scope)
        except BaseException:
            self.done()
            raise

    def run_in_slot(
        self, execute: Execute, finished: Finished, task: Task, run_times: Sequence[datetime], scope: Scope | None
    ) -> None:
        """In a worker thread that a started run holds: ``execute`` it and report it (to
        ``finished``, or ``failed`` if it raised), then each waiting run that takes this slot."""
        run: tuple[Task, Sequence[datetime], Scope | None] | None = (task, run_times, scope)
        while run is not None:
            task, run_times, scope = run
            try:
                outcomes = execute(task, run_times, scope)
            except BaseException as exc:
                _report_safely(self._failed, task, run_times, exc)
            else:
                _report_safely(finished, task, outcomes)
            run = self.take_next()

    def take_next(self) -> tuple[Task, Sequence[datetime], Scope | None] | None:
        """From a worker thread whose run has ended (reported): the first waiting run, for that
        same thread to run next, its slot still taken; None when none waits (the slot is free).
        A thread that goes on with the next run itself saves waking another one per run: handing
        each run back to the pool made the thread pool's fire path ~2.4x slower."""
        with self._lock:
            if not self._waiting:
                self._out -= 1
                return None
            _, _, task, run_times, scope = heapq.heappop(self._waiting)
        return task, run_times, scope

    def done(self) -> None:
        """A run started here has ended: start the first waiting run in its slot. One that
        cannot start (the pool broke, or was shut down) is reported through ``failed``, and
        the slot goes on to the next. A run that ends inside ``start`` (a pool calls a done
        callback at once for a future already done) is handed on by the loop here, not by
        a nested call, however many do."""
        state = self._handing_on
        if getattr(state, "ends", 0):
            state.ends += 1
            return
        state.ends = 1
        try:
            while state.ends:
                self._hand_on()
                state.ends -= 1
        finally:
            state.ends = 0

    def _hand_on(self) -> None:
        while (run := self.take_next()) is not None:
            try:
                self._start(*run)
                return
            except BaseException as exc:
                self._report(run[0], run[1], exc)

    def _report(self, task: Task, run_times: Sequence[datetime], exc: BaseException) -> None:
        try:
            self._failed(task, run_times, exc)
        except Exception:  # the line goes on: a slot must never be lost
            logger.exception("Reporting the failed start of a run of task %r failed", task.id)

    def start_all(self) -> None:
        """At shutdown: start every waiting run now, in order (the pool queues them, so they
        still run in that order, and a pool shut down with ``wait`` waits for them)."""
        while True:
            with self._lock:
                if not self._waiting:
                    return
                _, _, task, run_times, scope = heapq.heappop(self._waiting)
                self._out += 1
            try:
                self._start(task, run_times, scope)
            except BaseException as exc:
                with self._lock:
                    self._out -= 1
                self._report(task, run_times, exc)
