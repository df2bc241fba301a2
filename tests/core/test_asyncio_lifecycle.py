"""The asyncio schedulers' life cycle as asyncz users rely on it: shutdown tasks run (and
are awaited) at shutdown, no run starts once shutdown began, an isolated loop is honoured,
and a run's TASK_SUBMITTED always reaches listeners before its outcome."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

from asyncz_like import (
    TASK_ERROR,
    TASK_EXECUTED,
    TASK_SUBMITTED,
    AsyncIOScheduler,
    NativeAsyncIOScheduler,
    SchedulerEvent,
)
from tests.core.event_order import outcomes_after_their_submission, runs_of

said: list[str] = []
started: list[float] = []
ran_on: list[int] = []


async def farewell() -> None:
    await asyncio.sleep(0.2)
    said.append("bye")


async def long_run() -> None:
    started.append(time.monotonic())
    await asyncio.sleep(0.3)


async def where() -> None:
    ran_on.append(threading.get_ident())


def quick() -> None:
    """Ends at once, in a worker thread."""


async def test_awaiting_native_shutdown_runs_and_awaits_the_shutdown_tasks() -> None:
    said.clear()
    scheduler = NativeAsyncIOScheduler(timezone="UTC")
    scheduler.add_task(farewell, "shutdown", id="farewell")
    await scheduler.start()
    await asyncio.sleep(0.05)
    assert said == []
    await scheduler.shutdown()
    assert said == ["bye"], "the shutdown task's coroutine ran to its end before shutdown returned"


async def test_no_run_starts_once_native_shutdown_has_begun() -> None:
    started.clear()
    scheduler = NativeAsyncIOScheduler(timezone="UTC")
    scheduler.add_task(long_run, "interval", seconds=0.02, id="busy", max_instances=5)
    await scheduler.start()
    await asyncio.sleep(0.2)
    began = time.monotonic()
    await scheduler.shutdown()
    assert started, "it ran before the shutdown"
    assert [t for t in started if t > began] == [], "runs started while shutdown waited for the others"


async def test_an_isolated_event_loop_runs_the_coroutines_on_a_loop_of_its_own() -> None:
    ran_on.clear()
    scheduler = NativeAsyncIOScheduler(timezone="UTC", isolated_event_loop=True)
    scheduler.add_task(where, "interval", seconds=0.05, id="where")
    await scheduler.start()
    await asyncio.sleep(0.3)
    await scheduler.shutdown()
    assert ran_on, "it ran"
    assert set(ran_on) != {threading.get_ident()}, "on the caller's loop thread despite isolated_event_loop"


def test_each_run_is_reported_submitted_before_its_outcome() -> None:
    order: list[tuple[int, str | None, Any]] = []

    def note(event: SchedulerEvent) -> None:
        order.extend(runs_of(event))

    scheduler = AsyncIOScheduler(timezone="UTC", executors={"default": {"type": "threadpool", "max_workers": 8}})
    scheduler.add_listener(note, TASK_SUBMITTED | TASK_EXECUTED | TASK_ERROR)
    for n in range(50):
        scheduler.add_task(quick, "interval", seconds=0.01, id=f"q{n}")
    scheduler.start()
    time.sleep(1.0)
    scheduler.shutdown()
    assert outcomes_after_their_submission(order) > 200
