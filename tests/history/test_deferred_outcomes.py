"""Outcomes that arrive after the pass moved on, on the stores without claims (memory, file):
the retry goes into the task as it is stored *then*, so it never brings back an older
schedule, and a finished task that may retry is kept until its outcome says whether it does."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from asyncz_like import TASK_REMOVED, ManualScheduler, SchedulerEvent
from asyncz_like.executors.base import BaseExecutor
from asyncz_like.executors.runner import failure_outcome
from asyncz_like.tasks.task import Task
from tests.core.clock import FakeClock
from tests.history import jobs
from tests.history.conftest import later


class HeldExecutor(BaseExecutor):
    """Runs nothing until the test says how each submission ended."""

    def __init__(self) -> None:
        super().__init__()
        self.submitted: list[tuple[Task, Sequence[datetime]]] = []

    def do_send_task(self, task: Task, run_times: Sequence[datetime]) -> None:
        self.submitted.append((task, run_times))

    def end(self, task_id: str, ok: bool) -> None:
        """Ends the oldest submission of ``task_id`` still in flight."""
        index = next(i for i, (task, _) in enumerate(self.submitted) if task.id == task_id)
        task, run_times = self.submitted.pop(index)
        if ok:
            self.task_finished(task, [(run_time, True, None, None, None) for run_time in run_times])
        else:
            self.task_finished(task, [failure_outcome(run_time, jobs.Flaky("no")) for run_time in run_times])


@pytest.fixture(params=["memory", "file"])
def held(request: pytest.FixtureRequest, clock: FakeClock, tmp_path: Path) -> Iterator[tuple[ManualScheduler, Any]]:
    store = {"type": "memory"} if request.param == "memory" else {"type": "file", "directory": str(tmp_path / "t")}
    executor = HeldExecutor()
    scheduler = ManualScheduler(timezone="UTC", clock=clock, stores={"default": store})
    scheduler.add_executor(executor, "default")
    removed: list[SchedulerEvent] = []
    scheduler.add_listener(removed.append, TASK_REMOVED)
    scheduler.start()
    yield scheduler, (executor, removed)
    scheduler.shutdown()


def test_a_late_failure_keeps_the_schedule_the_pass_stored_since(held: Any, clock: FakeClock) -> None:
    scheduler, (executor, _) = held
    start = clock.current
    scheduler.add_task(
        jobs.succeed, "interval", seconds=10, start_at=start, args=["x"], id="x",
        max_instances=3, max_retries=1, retry_delay=30,
    )  # fmt: skip
    scheduler.process_tasks(now=start)  # the run of +0 is in flight ...
    clock.advance(seconds=10)
    scheduler.process_tasks()  # ... and so is +10: the stored next run is +20
    executor.end("x", ok=False)  # +0 failed: retry at +40
    info = scheduler.get_task_info("x")
    assert info is not None
    assert (info.next_run_time, info.retry_attempt, info.retry_at) == (later(start, 20), 2, later(start, 40))


def test_a_finished_task_that_may_retry_waits_for_its_outcome(held: Any, clock: FakeClock) -> None:
    scheduler, (executor, removed) = held
    start = clock.current
    for name in ("ok", "bad"):
        scheduler.add_task(jobs.succeed, "date", run_at=start, args=[name], id=name, max_retries=1, retry_delay=5)
    scheduler.process_tasks(now=start)
    assert {task.id for task in scheduler.get_tasks()} == {"ok", "bad"}  # kept while they run
    executor.end("ok", ok=True)
    executor.end("bad", ok=False)
    assert [task.id for task in scheduler.get_tasks()] == ["bad"] and [e.task_id for e in removed] == ["ok"]
    info = scheduler.get_task_info("bad")
    assert info is not None and (info.next_run_time, info.retry_attempt) == (later(start, 5), 2)

    clock.advance(seconds=5)
    scheduler.process_tasks()  # attempt 2 ...
    executor.end("bad", ok=False)  # ... fails for good: the task goes
    assert scheduler.get_tasks() == [] and [e.task_id for e in removed] == ["ok", "bad"]


def test_a_paused_task_with_fire_times_left_is_not_taken_for_finished(held: Any, clock: FakeClock) -> None:
    scheduler, (executor, removed) = held
    start = clock.current
    scheduler.add_task(
        jobs.succeed, "interval", seconds=10, start_at=start, end_at=later(start, 10), args=["p"], id="p",
        max_retries=1, max_instances=2,
    )  # fmt: skip
    scheduler.process_tasks(now=start)
    clock.advance(seconds=10)
    scheduler.process_tasks()  # the last run, +10, is in flight: the schedule has finished
    scheduler.pause_task("p")
    executor.end("p", ok=True)  # the run of +0 ends: +10 is still owed, so "p" stays
    assert [task.id for task in scheduler.get_tasks()] == ["p"]
    executor.end("p", ok=True)
    assert scheduler.get_tasks() == [] and [e.task_id for e in removed] == ["p"]


def test_a_finished_task_run_by_hand_and_kept_paused_stays(held: Any, clock: FakeClock) -> None:
    scheduler, (executor, removed) = held
    scheduler.add_task(jobs.succeed, "date", run_at=later(clock.current, 60), args=["h"], id="h", max_retries=1)
    scheduler.run_task("h", remove_finished=False)  # its one run, now: afterwards it is paused, not deleted
    executor.end("h", ok=True)
    info = scheduler.get_task_info("h")
    assert info is not None and info.paused and removed == []
