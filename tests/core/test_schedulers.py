"""Scheduler front ends: loops, life cycle, configuration."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from asyncz_like import (
    AsyncIOScheduler,
    ManualScheduler,
    NativeAsyncIOScheduler,
    SchedulerAlreadyRunningError,
    SchedulerNotRunningError,
    SchedulerState,
)
from asyncz_like.executors.pool import ThreadPoolExecutor
from asyncz_like.stores.memory import MemoryStore
from tests.core import jobs

UTC = timezone.utc


def wait_for(condition, timeout: float = 2.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.005)


def test_without_a_running_loop_the_scheduler_runs_its_own_loop_thread() -> None:
    ran = threading.Event()
    scheduler = AsyncIOScheduler(timezone="UTC")
    scheduler.add_task(ran.set, "interval", seconds=0.05)
    scheduler.start()
    try:
        assert scheduler.event_loop_thread is not None and scheduler.event_loop_thread.is_alive()
        assert ran.wait(2)
    finally:
        scheduler.shutdown()
    assert scheduler.state is SchedulerState.STATE_STOPPED
    assert scheduler.event_loop_thread is None


async def test_inside_a_running_loop_the_scheduler_uses_it() -> None:
    done = asyncio.Event()

    async def job() -> None:
        done.set()

    scheduler = AsyncIOScheduler(timezone="UTC")
    scheduler.start()
    try:
        assert scheduler.event_loop is asyncio.get_running_loop()
        scheduler.add_task(job, "date", run_at=datetime.now(UTC))
        await asyncio.wait_for(done.wait(), 2)
    finally:
        scheduler.shutdown()


async def test_native_scheduler_starts_and_waits_for_runs_on_shutdown() -> None:
    finished: list[str] = []

    async def slow() -> None:
        await asyncio.sleep(0.1)
        finished.append("slow")

    scheduler = NativeAsyncIOScheduler(timezone="UTC")
    assert await scheduler.start() is True
    scheduler.add_task(slow, "date", run_at=datetime.now(UTC))
    await asyncio.sleep(0.03)  # let the pass submit it
    assert await scheduler.shutdown(wait=True) is True
    assert finished == ["slow"]


def test_start_and_shutdown_are_reference_counted() -> None:
    scheduler = ManualScheduler()
    assert scheduler.start() is True
    assert scheduler.start() is False  # a second user: still one scheduler
    assert scheduler.shutdown() is False
    assert scheduler.running
    assert scheduler.shutdown() is True
    assert not scheduler.running
    with pytest.raises(SchedulerNotRunningError):
        scheduler.shutdown()


def test_pause_and_resume_need_a_started_scheduler() -> None:
    scheduler = ManualScheduler()
    with pytest.raises(SchedulerNotRunningError):
        scheduler.pause()
    with pytest.raises(SchedulerNotRunningError):
        scheduler.resume()
    scheduler.start(paused=True)
    assert scheduler.state is SchedulerState.STATE_PAUSED
    scheduler.resume()
    assert scheduler.state is SchedulerState.STATE_RUNNING


def test_pausing_the_asyncio_scheduler_stops_runs_until_resumed() -> None:
    calls: list[float] = []
    scheduler = AsyncIOScheduler(timezone="UTC")
    scheduler.add_task(lambda: calls.append(time.monotonic()), "interval", seconds=0.02)
    scheduler.start(paused=True)
    try:
        time.sleep(0.1)
        assert calls == []
        scheduler.resume()
        wait_for(lambda: len(calls) >= 2)
        scheduler.pause()
        time.sleep(0.05)
        count = len(calls)
        time.sleep(0.1)
        assert len(calls) == count
    finally:
        scheduler.shutdown()


def test_setup_reads_a_flat_global_config_with_prefix() -> None:
    scheduler = AsyncIOScheduler(
        {
            "asyncz_like.timezone": "Europe/Berlin",
            "asyncz_like.executors.default.type": "threadpool",
            "asyncz_like.executors.default.max_workers": 3,
            "asyncz_like.stores.second.type": "memory",
            "asyncz_like.task_defaults.coalesce": "false",
            "asyncz_like.task_defaults.max_instances": "5",
            "unrelated.key": "ignored",
        }
    )
    assert scheduler.timezone == ZoneInfo("Europe/Berlin")
    executor = scheduler.executors["default"]
    assert isinstance(executor, ThreadPoolExecutor) and executor.max_workers == 3
    assert isinstance(scheduler.stores["second"], MemoryStore)
    assert scheduler.task_defaults["coalesce"] is False and scheduler.task_defaults["max_instances"] == 5


def test_keyword_options_override_the_global_config_and_setup_needs_a_stopped_scheduler() -> None:
    scheduler = ManualScheduler()
    scheduler.setup({"myapp.timezone": "Asia/Tokyo"}, prefix="myapp.", timezone="UTC")
    assert scheduler.timezone == UTC
    scheduler.start()
    with pytest.raises(SchedulerAlreadyRunningError):
        scheduler.setup(timezone="UTC")


@pytest.mark.parametrize(
    ("options", "argument"),
    [
        ({"timezone": "Nowhere/Special"}, "timezone"),
        ({"task_defaults": {"max_instances": 0}}, "max_instances"),
        ({"task_defaults": {"colour": "red"}}, "task_defaults"),
        ({"executors": {"default": {"max_workers": 2}}}, "executors.default"),
        ({"stores": {"default": "no-such-store"}}, "store"),
        ({"frobnicate": True}, "frobnicate"),
        ({"lease_seconds": 0}, "lease_seconds"),
        ({"lease_seconds": "soon"}, "lease_seconds"),
    ],
)
def test_bad_configuration_names_the_option(options: dict[str, object], argument: str) -> None:
    with pytest.raises((ValueError, TypeError, LookupError), match=argument):
        ManualScheduler(**options)


def test_timezone_applies_to_triggers_built_by_alias() -> None:
    scheduler = ManualScheduler(timezone="America/New_York")
    task = scheduler.add_task(jobs.record, "interval", hours=1, start_at="2026-07-01 09:00")
    assert task.trigger.start_at == datetime(2026, 7, 1, 13, 0, tzinfo=UTC)  # type: ignore[union-attr]


def test_shutdown_trigger_runs_once_at_shutdown() -> None:
    scheduler = ManualScheduler(timezone="UTC")
    jobs.calls.clear()
    scheduler.add_task(jobs.record, "shutdown", args=["bye"], id="farewell")
    scheduler.start()
    scheduler.process_tasks(now=datetime.now(UTC) + timedelta(days=365))
    assert jobs.calls == []
    scheduler.shutdown()
    assert jobs.calls == ["bye"]
    assert scheduler.stores["default"].lookup_task("farewell") is None


def test_adding_many_tasks_does_not_queue_a_wakeup_each() -> None:
    passes: list[float] = []
    scheduler = AsyncIOScheduler(timezone="UTC")
    original = scheduler.process_tasks

    def counting(now: datetime | None = None) -> float | None:
        passes.append(time.monotonic())
        return original(now)

    scheduler.process_tasks = counting  # type: ignore[method-assign]
    scheduler.start()
    try:
        wait_for(lambda: len(passes) >= 1)
        start = datetime.now(UTC) + timedelta(hours=1)
        for n in range(500):
            scheduler.add_task(jobs.record, "interval", minutes=1, start_at=start + timedelta(seconds=n))
        time.sleep(0.1)
        # the first add is earlier than "no wakeup planned"; later ones are not earlier
        assert len(passes) <= 3
    finally:
        scheduler.shutdown()
