"""Where and when listeners are called: on the asyncio schedulers always on the loop thread, in
order (a run's TASK_SUBMITTED before its outcome, whichever executor ran it), at once when the
event happens on the loop itself; a raising listener is logged and stops nothing; the outcome
events carry the run's details."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from asyncz_like import (
    ALL_EVENTS,
    SCHEDULER_SHUTDOWN,
    TASK_ADDED,
    TASK_ERROR,
    TASK_EXECUTED,
    TASK_SUBMITTED,
    AsyncIOScheduler,
    ManualScheduler,
    NativeAsyncIOScheduler,
    SchedulerEvent,
)
from tests.core import jobs
from tests.core.clock import FakeClock
from tests.core.event_order import outcomes_after_their_submission, runs_of

UTC = timezone.utc
START = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


async def at_once() -> None:
    """A coroutine run that ends in the loop iteration it starts in."""


def quick() -> None:
    """A plain run: it ends in a worker thread."""


async def a_while() -> None:
    await asyncio.sleep(0.15)


def run_times_of(event: SchedulerEvent) -> list[Any]:
    return getattr(event, "scheduled_run_times", None) or [getattr(event, "scheduled_run_time", None)]


def test_coroutine_runs_too_are_reported_submitted_before_their_outcome() -> None:
    """The pass submits from its own thread while the loop may finish the run first: the outcome
    must still wait for the submission."""
    order: list[tuple[int, str | None, Any]] = []

    def note(event: SchedulerEvent) -> None:
        order.extend(runs_of(event))

    scheduler = AsyncIOScheduler(timezone="UTC")  # coroutines on its own loop thread
    scheduler.add_listener(note, TASK_SUBMITTED | TASK_EXECUTED)
    for n in range(100):
        scheduler.add_task(at_once, "interval", seconds=0.01, id=f"c{n}")
    scheduler.start()
    time.sleep(1.0)
    scheduler.shutdown()
    assert outcomes_after_their_submission(order) > 300


async def test_on_the_loop_listeners_hear_an_event_before_the_call_that_caused_it_returns() -> None:
    heard: list[tuple[int, int]] = []
    scheduler = AsyncIOScheduler(timezone="UTC")  # on this test's running loop
    scheduler.add_listener(lambda e: heard.append((e.code, threading.get_ident())), TASK_ADDED)
    scheduler.start(paused=True)
    try:
        scheduler.add_task(at_once, "interval", seconds=60, id="one")
        assert heard == [(TASK_ADDED, threading.get_ident())]
    finally:
        scheduler.shutdown()


async def test_events_from_other_threads_reach_listeners_on_the_loop_in_the_order_they_happened() -> None:
    heard: list[tuple[str | None, int]] = []
    scheduler = AsyncIOScheduler(timezone="UTC")
    scheduler.add_listener(lambda e: heard.append((e.task_id, threading.get_ident())), TASK_ADDED)
    scheduler.start(paused=True)
    try:

        def add_some() -> None:
            for n in range(200):
                scheduler.add_task(at_once, "interval", seconds=60, id=f"t{n}")

        await asyncio.to_thread(add_some)
        scheduler.add_task(at_once, "interval", seconds=60, id="from the loop")
        assert heard[-1][0] == "from the loop", "an event on the loop waits for those queued before it"
    finally:
        scheduler.shutdown()
    assert [task_id for task_id, _ in heard] == [f"t{n}" for n in range(200)] + ["from the loop"]
    assert {thread for _, thread in heard} == {threading.get_ident()}


@pytest.mark.parametrize("executor", ["asyncio", "threadpool"])
def test_a_raising_listener_on_the_loop_is_logged_and_runs_and_other_listeners_go_on(
    executor: str, caplog: pytest.LogCaptureFixture
) -> None:
    heard: list[str | None] = []

    def broken(event: SchedulerEvent) -> None:
        raise ValueError("listener bug")

    scheduler = AsyncIOScheduler(timezone="UTC", executors={"default": executor})
    scheduler.add_listener(broken, TASK_EXECUTED)
    scheduler.add_listener(lambda e: heard.append(e.task_id), TASK_EXECUTED)
    scheduler.add_task(at_once if executor == "asyncio" else quick, "interval", seconds=0.05, id="t")
    with caplog.at_level(logging.ERROR, logger="asyncz_like.schedulers"):
        scheduler.start()
        time.sleep(0.5)
        scheduler.shutdown()
    assert heard.count("t") >= 4, "the runs went on and the other listener heard each"
    assert caplog.text.count("listener bug") >= 4, "each failure of the listener was logged"


async def test_native_shutdown_on_the_callers_loop_reports_every_run_in_flight_and_then_shutdown_last() -> None:
    codes: list[int] = []
    scheduler = NativeAsyncIOScheduler(timezone="UTC")
    scheduler.add_listener(lambda e: codes.append(e.code), ALL_EVENTS)
    for n in range(5):
        scheduler.add_task(a_while, "date", run_at=datetime.now(UTC) - timedelta(milliseconds=10), id=f"w{n}")
    await scheduler.start()
    await asyncio.sleep(0.05)  # the runs are in flight
    await scheduler.shutdown()
    assert codes[-1] == SCHEDULER_SHUTDOWN
    assert codes.count(TASK_SUBMITTED) == codes.count(TASK_EXECUTED) == 5


def test_outcome_events_carry_the_run_its_executor_and_its_history_record() -> None:
    scheduler = ManualScheduler(timezone="UTC", clock=FakeClock(START))
    events: list[Any] = []
    scheduler.add_listener(events.append, TASK_EXECUTED | TASK_ERROR)  # inline: no thread, no loop
    scheduler.start()
    scheduler.add_task(jobs.double, "date", run_at=START, args=[21], id="ok")
    scheduler.add_task(jobs.fail, "date", run_at=START, args=["no"], id="bad")
    scheduler.process_tasks()
    assert len(events) == 2, "the listener was called during the pass"
    by_task = {event.task_id: event for event in events}
    records = {record.task_id: record for record in scheduler.get_run_history()}
    ok, bad = by_task["ok"], by_task["bad"]
    assert (ok.code, ok.alias, ok.store, ok.scheduled_run_time, ok.return_value) == (
        TASK_EXECUTED,
        "default",
        "default",
        START,
        42,
    )
    assert (ok.exception, ok.traceback, ok.attempt, ok.retries_left, ok.retry_at, ok.final) == (
        None,
        None,
        1,
        0,
        None,
        True,
    )
    assert (bad.code, type(bad.exception), str(bad.exception), bad.attempt, bad.final) == (
        TASK_ERROR,
        RuntimeError,
        "no",
        1,
        True,
    )
    assert bad.traceback is not None and "RuntimeError: no" in bad.traceback
    assert (ok.run_id, bad.run_id) == (records["ok"].run_id, records["bad"].run_id)
    assert ok.run_id != bad.run_id
