"""Event codes are single bits; listeners get what their mask asks for; a bad listener harms nothing."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta, timezone

import pytest

import asyncz_like.events as ev
from asyncz_like import (
    ALL_EVENTS,
    EXECUTOR_ADDED,
    EXECUTOR_REMOVED,
    SCHEDULER_PAUSED,
    SCHEDULER_RESUMED,
    SCHEDULER_SHUTDOWN,
    SCHEDULER_START,
    STORE_ADDED,
    STORE_REMOVED,
    TASK_ADDED,
    TASK_EXECUTED,
    AsyncIOScheduler,
    ManualScheduler,
    SchedulerEvent,
)
from tests.core import jobs
from tests.core.clock import FakeClock

UTC = timezone.utc
START = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def test_every_code_is_one_distinct_bit_and_all_events_is_their_union() -> None:
    codes = [
        value
        for name, value in vars(ev).items()
        if name.isupper() and name not in ("ALL_EVENTS", "EVENT_ALL", "SCHEDULER_STARTED")
    ]
    codes = [code for code in codes if isinstance(code, int)]
    assert len(codes) == len(set(codes)) >= 17
    union = 0
    for code in codes:
        assert code > 0 and code & (code - 1) == 0, code
        union |= code
    assert union == ALL_EVENTS == ev.EVENT_ALL


def test_listeners_receive_only_what_their_mask_selects() -> None:
    scheduler = ManualScheduler(timezone="UTC", clock=FakeClock(START))
    everything: list[int] = []
    lifecycle: list[int] = []
    scheduler.add_listener(lambda e: everything.append(e.code))
    scheduler.add_listener(lambda e: lifecycle.append(e.code), SCHEDULER_START | SCHEDULER_SHUTDOWN)
    scheduler.start()
    scheduler.add_store("memory", "extra")
    scheduler.remove_store("extra")
    scheduler.add_executor("debug", "side")
    scheduler.remove_executor("side")
    scheduler.pause()
    scheduler.resume()
    scheduler.shutdown()
    assert lifecycle == [SCHEDULER_START, SCHEDULER_SHUTDOWN]
    assert everything == [
        EXECUTOR_ADDED,
        STORE_ADDED,
        SCHEDULER_START,
        STORE_ADDED,
        STORE_REMOVED,
        EXECUTOR_ADDED,
        EXECUTOR_REMOVED,
        SCHEDULER_PAUSED,
        SCHEDULER_RESUMED,
        SCHEDULER_SHUTDOWN,
    ]


def test_removed_listener_hears_nothing_more() -> None:
    scheduler = ManualScheduler(timezone="UTC")
    heard: list[SchedulerEvent] = []
    scheduler.add_listener(heard.append)
    scheduler.remove_listener(heard.append)
    scheduler.start()
    assert heard == []
    assert not scheduler.listens_to(ALL_EVENTS)


def test_a_raising_listener_is_logged_and_others_still_hear(caplog: pytest.LogCaptureFixture) -> None:
    scheduler = ManualScheduler(timezone="UTC", clock=FakeClock(START))
    heard: list[int] = []

    def broken(event: SchedulerEvent) -> None:
        raise ValueError("listener bug")

    scheduler.add_listener(broken)
    scheduler.add_listener(lambda e: heard.append(e.code), TASK_ADDED | TASK_EXECUTED)
    scheduler.start()
    with caplog.at_level(logging.ERROR):
        scheduler.add_task(jobs.record, "date", run_at=START, args=["still runs"])
        scheduler.process_tasks(now=START)
    assert heard == [TASK_ADDED, TASK_EXECUTED]
    assert "listener bug" in caplog.text


def test_bad_listener_arguments_are_refused() -> None:
    scheduler = ManualScheduler()
    with pytest.raises(TypeError, match="callback"):
        scheduler.add_listener("not callable")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="mask"):
        scheduler.add_listener(print, 0)


async def test_a_coroutine_function_may_listen_on_asyncio_schedulers() -> None:
    scheduler = AsyncIOScheduler(timezone="UTC")
    heard: asyncio.Queue[int] = asyncio.Queue()

    async def listener(event: SchedulerEvent) -> None:
        await heard.put(event.code)

    async def failing(event: SchedulerEvent) -> None:
        raise RuntimeError("async listener bug")

    scheduler.add_listener(failing, TASK_EXECUTED)
    scheduler.add_listener(listener, TASK_EXECUTED)
    scheduler.start()
    try:
        scheduler.add_task(jobs.async_double, "date", run_at=datetime.now(UTC) - timedelta(milliseconds=10), args=[1])
        assert await asyncio.wait_for(heard.get(), 2) == TASK_EXECUTED
    finally:
        scheduler.shutdown()
