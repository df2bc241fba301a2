"""Executors run what they are sent, where they promise to, and report the outcome."""

from __future__ import annotations

import asyncio
import os
import threading
from datetime import datetime, timezone

import pytest

from asyncz_like import (
    TASK_ERROR,
    TASK_EXECUTED,
    AsyncIOScheduler,
    ManualScheduler,
    MaximumInstancesError,
    SchedulerEvent,
)
from asyncz_like.executors.base import BaseExecutor
from asyncz_like.executors.debug import DebugExecutor
from asyncz_like.executors.pool import ThreadPoolExecutor
from asyncz_like.executors.process_pool import ProcessPoolExecutor
from tests.core import jobs

UTC = timezone.utc


class Outcomes:
    """Collects TASK_EXECUTED/TASK_ERROR events from any thread and waits for them."""

    def __init__(self, scheduler: ManualScheduler | AsyncIOScheduler) -> None:
        self.events: list[SchedulerEvent] = []
        self.done = threading.Event()
        self.expected = 1
        scheduler.add_listener(self.add, TASK_EXECUTED | TASK_ERROR)

    def add(self, event: SchedulerEvent) -> None:
        self.events.append(event)
        if len(self.events) >= self.expected:
            self.done.set()

    def wait(self, count: int = 1) -> list[SchedulerEvent]:
        self.expected = count
        if len(self.events) >= count:
            self.done.set()
        assert self.done.wait(10), f"only {len(self.events)} of {count} outcomes arrived"
        return self.events


def started(executor: BaseExecutor) -> tuple[ManualScheduler, Outcomes]:
    scheduler = ManualScheduler(timezone="UTC", executors={"default": executor})
    outcomes = Outcomes(scheduler)
    scheduler.start()
    return scheduler, outcomes


def submit(scheduler: ManualScheduler, fn: object, *args: object) -> None:
    task = scheduler.add_task(fn, "date", args=list(args), next_run_time=None)  # type: ignore[arg-type]
    scheduler.executors["default"].send_task(task, [datetime(2026, 1, 1, tzinfo=UTC)])


def test_debug_executor_runs_inline() -> None:
    scheduler, outcomes = started(DebugExecutor())
    submit(scheduler, jobs.double, 4)
    assert outcomes.events[0].return_value == 8  # type: ignore[attr-defined]
    submit(scheduler, jobs.async_double, 5)
    assert outcomes.events[1].return_value == 10  # type: ignore[attr-defined]


def test_thread_pool_runs_in_a_worker_thread_and_reports_errors() -> None:
    scheduler, outcomes = started(ThreadPoolExecutor(max_workers=2))
    submit(scheduler, threading.get_ident)
    submit(scheduler, jobs.fail, "in a thread")
    events = outcomes.wait(2)
    scheduler.shutdown()
    by_code = {e.code: e for e in events}
    assert by_code[TASK_EXECUTED].return_value != threading.get_ident()  # type: ignore[attr-defined]
    assert str(by_code[TASK_ERROR].exception) == "in a thread"  # type: ignore[attr-defined]


def test_process_pool_runs_module_level_functions_in_another_process() -> None:
    scheduler, outcomes = started(ProcessPoolExecutor(max_workers=1))
    submit(scheduler, jobs.process_id)
    events = outcomes.wait(1)
    scheduler.shutdown()
    assert events[0].code == TASK_EXECUTED
    assert events[0].return_value != os.getpid()  # type: ignore[attr-defined]


def test_process_pool_refuses_functions_without_a_reference() -> None:
    scheduler, _ = started(ProcessPoolExecutor(max_workers=1))
    try:
        with pytest.raises(ValueError, match=r"fn:.*process pool"):
            submit(scheduler, lambda: None)
    finally:
        scheduler.shutdown()


def test_max_instances_is_enforced_by_the_executor() -> None:
    release = threading.Event()
    scheduler, outcomes = started(ThreadPoolExecutor(max_workers=2))
    task = scheduler.add_task(release.wait, "date", args=[5], max_instances=1, next_run_time=None)
    executor = scheduler.executors["default"]
    executor.send_task(task, [datetime(2026, 1, 1, tzinfo=UTC)])
    with pytest.raises(MaximumInstancesError, match="maximum number of instances"):
        executor.send_task(task, [datetime(2026, 1, 1, tzinfo=UTC)])
    release.set()
    outcomes.wait(1)
    scheduler.shutdown()
    assert executor.running_instances(task.id) == 0  # type: ignore[attr-defined,arg-type]


@pytest.mark.parametrize("max_workers", [0, -1, "4", True])
def test_bad_pool_size_names_the_argument(max_workers: object) -> None:
    with pytest.raises(ValueError, match="max_workers"):
        ThreadPoolExecutor(max_workers=max_workers)  # type: ignore[arg-type]


async def test_asyncio_executor_runs_coroutines_on_the_loop_and_functions_in_threads() -> None:
    scheduler = AsyncIOScheduler(timezone="UTC")
    outcomes = Outcomes(scheduler)
    loop_thread = threading.get_ident()

    async def where_am_i() -> int:
        return threading.get_ident()

    scheduler.start()
    try:
        assert scheduler.event_loop is asyncio.get_running_loop()
        now = datetime.now(UTC)
        scheduler.add_task(where_am_i, "date", run_at=now)
        scheduler.add_task(threading.get_ident, "date", run_at=now)
        for _ in range(200):
            if len(outcomes.events) == 2:
                break
            await asyncio.sleep(0.01)
        values = {e.return_value for e in outcomes.events}  # type: ignore[attr-defined]
        assert len(outcomes.events) == 2
        assert loop_thread in values and len(values) == 2
    finally:
        scheduler.shutdown()


def test_a_process_pool_takes_the_start_method_it_is_given() -> None:
    """The default is the platform's (asyncz's scripts rely on it); a program with a __main__
    guard can ask for a fork server, which never forks the scheduler's threaded process."""
    import multiprocessing

    from asyncz_like.executors.process_pool import ProcessPoolExecutor

    context = multiprocessing.get_context("forkserver")
    pool = ProcessPoolExecutor(max_workers=1, pool_kwargs={"mp_context": context}).make_pool()
    try:
        assert pool._mp_context is context  # type: ignore[attr-defined]
    finally:
        pool.shutdown()
