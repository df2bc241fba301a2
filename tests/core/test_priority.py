"""Task priority: validated where it is given, kept in the task and its snapshot, and obeyed
where runs compete: a pass submits the due tasks highest priority first, and an executor
whose workers are all busy starts the waiting run of highest priority when one frees up
(among equal priorities, the one that came first)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from asyncz_like import (
    TASK_ERROR,
    TASK_EXECUTED,
    TASK_QUEUED,
    AsyncIOScheduler,
    ManualScheduler,
    SchedulerEvent,
    Task,
)
from asyncz_like.exceptions import ArgumentError, ArgumentTypeError
from asyncz_like.executors.base import BaseExecutor
from asyncz_like.executors.pool import ThreadPoolExecutor
from asyncz_like.executors.process_pool import ProcessPoolExecutor
from asyncz_like.triggers.date import DateTrigger
from tests.core import jobs, priority_jobs
from tests.core.clock import FakeClock

UTC = timezone.utc
START = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
#: (label, priority) in the order they arrive; the order they must start in is below
ARRIVALS = [("a", 1), ("b", 5), ("c", 3), ("d", 5), ("e", -2), ("f", 9), ("g", 0)]
BY_PRIORITY = ["f", "b", "d", "c", "a", "g", "e"]


class RecordingExecutor(BaseExecutor):
    """Takes every run and finishes none: records the order in which a pass submitted them."""

    def __init__(self) -> None:
        super().__init__()
        self.order: list[str | None] = []

    def do_send_task(self, task: Task, run_times: Any) -> None:
        self.order.append(task.id)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def scheduler(clock: FakeClock) -> ManualScheduler:
    scheduler = ManualScheduler(timezone="UTC", clock=clock)
    scheduler.start()
    jobs.calls.clear()
    return scheduler


def recording(scheduler: ManualScheduler) -> RecordingExecutor:
    executor = RecordingExecutor()
    scheduler.add_executor(executor, "recording")
    return executor


# -- the option ---------------------------------------------------------------------------------


def test_priority_defaults_to_0_and_shows_in_the_snapshot(scheduler: ManualScheduler) -> None:
    plain = scheduler.add_task(jobs.record, "date", run_at=START + timedelta(hours=1), id="plain")
    urgent = scheduler.add_task(jobs.record, "date", run_at=START + timedelta(hours=1), id="urgent", priority=7)
    assert (plain.priority, urgent.priority) == (0, 7)
    assert scheduler.get_task_info("plain").priority == 0
    assert scheduler.get_task_info("urgent").priority == 7
    listed = scheduler.get_task_infos(sort_by="priority")
    assert [info.id for info in listed] == ["urgent", "plain"], "sort_by='priority': the order runs are taken in"


def test_task_defaults_set_the_priority_of_tasks_that_give_none() -> None:
    scheduler = ManualScheduler(timezone="UTC", task_defaults={"priority": 5})
    scheduler.start()
    try:
        plain = scheduler.add_task(jobs.record, "date", run_at=START, id="plain")
        own = scheduler.add_task(jobs.record, "date", run_at=START, id="own", priority=-1)
        assert (plain.priority, own.priority) == (5, -1)
    finally:
        scheduler.shutdown()
    from_config = ManualScheduler({"asyncz_like.task_defaults.priority": "3"})
    assert from_config.task_defaults["priority"] == 3, "a string from a config file is read as a number"


@pytest.mark.parametrize("value", ["high", 1.5, True, 2**31])
def test_a_bad_priority_default_is_refused_naming_it(value: Any) -> None:
    with pytest.raises((TypeError, ValueError), match=r"^task_defaults\.priority: "):
        ManualScheduler(task_defaults={"priority": value})


@pytest.mark.parametrize("value", ["5", 1.5, 2.0, None, True, False, [1]])
def test_a_priority_that_is_not_an_int_is_refused_naming_it(scheduler: ManualScheduler, value: Any) -> None:
    with pytest.raises(ArgumentTypeError, match=r"^priority: expected an integer"):
        scheduler.add_task(jobs.record, "date", run_at=START, priority=value)
    task = scheduler.add_task(jobs.record, "date", run_at=START + timedelta(hours=1), id="kept", priority=3)
    with pytest.raises(TypeError, match=r"^priority: "):
        scheduler.update_task("kept", priority=value)
    with pytest.raises(TypeError, match=r"^priority: "):
        task.update(priority=value)
    assert scheduler.get_task("kept").priority == 3  # type: ignore[union-attr]


@pytest.mark.parametrize("value", [2**31, -(2**31) - 1, 10**30])
def test_a_priority_out_of_range_is_refused_naming_it(scheduler: ManualScheduler, value: int) -> None:
    with pytest.raises(ArgumentError, match=r"^priority: must be from -2147483648 to 2147483647"):
        scheduler.add_task(jobs.record, "date", run_at=START, priority=value)


def test_the_extremes_are_accepted(scheduler: ManualScheduler) -> None:
    high = scheduler.add_task(jobs.record, "date", run_at=START, priority=2**31 - 1)
    low = scheduler.add_task(jobs.record, "date", run_at=START, priority=-(2**31))
    assert (high.priority, low.priority) == (2**31 - 1, -(2**31))


def test_update_task_and_task_update_change_it(scheduler: ManualScheduler) -> None:
    task = scheduler.add_task(jobs.record, "date", run_at=START + timedelta(hours=1), id="t")
    scheduler.update_task("t", priority=4)
    assert scheduler.get_task("t").priority == 4  # type: ignore[union-attr]
    task.update(priority=-1)
    assert task.priority == -1 and scheduler.get_task_info("t").priority == -1


def test_a_decorated_task_takes_it_too(scheduler: ManualScheduler) -> None:
    @scheduler.add_task("interval", minutes=5, id="decorated", priority=2)
    def work() -> None: ...

    assert scheduler.get_task_info("decorated").priority == 2


def test_state_keeps_it_and_a_state_without_it_reads_0() -> None:
    task = Task(jobs.record, id="t", trigger=DateTrigger(START, timezone="UTC"), priority=6)
    task.next_run_time = START
    state = task.__getstate__()
    assert Task.from_state(state).priority == 6
    task.priority = 0
    state = task.__getstate__()
    assert "priority" not in state, "priority 0 is stored as before, byte for byte"
    assert Task.from_state(state).priority == 0


# -- the pass -----------------------------------------------------------------------------------


def test_a_pass_submits_the_due_tasks_highest_priority_first(scheduler: ManualScheduler) -> None:
    executor = recording(scheduler)
    for label, priority in ARRIVALS:
        scheduler.add_task(jobs.record, "date", run_at=START, id=label, priority=priority, executor="recording")
    scheduler.process_tasks(now=START)
    assert executor.order == BY_PRIORITY


def test_equal_priorities_go_earliest_first_then_by_id(scheduler: ManualScheduler) -> None:
    executor = recording(scheduler)
    for task_id, seconds_late, priority in [("x", 0, 1), ("b", 2, 1), ("a", 2, 1), ("late", 5, 1), ("top", 0, 2)]:
        scheduler.add_task(
            jobs.record, "date", run_at=START - timedelta(seconds=seconds_late), id=task_id, priority=priority,
            executor="recording", mistrigger_grace_time=None,
        )  # fmt: skip
    scheduler.process_tasks(now=START)
    assert executor.order == ["top", "late", "a", "b", "x"]


def test_inline_runs_happen_in_priority_order(scheduler: ManualScheduler) -> None:
    for label, priority in ARRIVALS:
        scheduler.add_task(jobs.record, "date", run_at=START, args=[label], id=label, priority=priority)
    scheduler.process_tasks(now=START)
    assert jobs.calls == BY_PRIORITY


def test_a_changed_priority_counts_from_the_next_pass(scheduler: ManualScheduler, clock: FakeClock) -> None:
    executor = recording(scheduler)
    for task_id in ("first", "second"):
        scheduler.add_task(jobs.record, "interval", minutes=1, id=task_id, executor="recording", max_instances=9)
    clock.advance(minutes=1)
    scheduler.process_tasks()
    scheduler.update_task("second", priority=1)
    clock.advance(minutes=1)
    scheduler.process_tasks()
    assert executor.order == ["first", "second", "second", "first"]


# -- executors: runs waiting for a worker -------------------------------------------------------


class Trace:
    """Runs that record their start in a file, behind a run that holds the only worker."""

    def __init__(self, tmp_path: Path) -> None:
        self.path = tmp_path / "started.txt"
        self.held = tmp_path / "held"
        self.release = tmp_path / "release"

    def hold_the_worker(self, scheduler: Any) -> None:
        blocker = scheduler.add_task(
            priority_jobs.hold_until, "date", args=[str(self.held), str(self.release)], next_run_time=None
        )
        scheduler.executors["default"].send_task(blocker, [START])
        wait_for(self.held.exists, "the blocking run to start")

    def send_in_turn(self, scheduler: Any) -> None:
        """Each run sent on its own, as separate passes would."""
        executor = scheduler.executors["default"]
        for label, priority in ARRIVALS:
            task = scheduler.add_task(
                priority_jobs.mark_start, "date", args=[str(self.path), label], id=label, priority=priority,
                next_run_time=None,
            )  # fmt: skip
            executor.send_task(task, [START])

    def started(self) -> list[str]:
        return self.path.read_text().split() if self.path.exists() else []

    def let_go_and_wait(self) -> list[str]:
        self.release.touch()
        wait_for(lambda: len(self.started()) == len(ARRIVALS), "every run to start")
        return self.started()


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


async def wait_on_loop(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    """``wait_for`` for tests on the event loop: the scheduler's loop must go on meanwhile.
    It returns at the timeout too; the test's assertion then says what did not happen."""
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        await asyncio.sleep(0.01)


@pytest.mark.parametrize("kind", ["thread", "process"])
def test_a_busy_pool_starts_the_waiting_run_of_highest_priority_first(kind: str, tmp_path: Path) -> None:
    """A concurrent.futures pool alone would start them in the order they came (FIFO)."""
    executor = ThreadPoolExecutor(max_workers=1) if kind == "thread" else ProcessPoolExecutor(max_workers=1)
    scheduler = ManualScheduler(timezone="UTC", executors={"default": executor})
    queued: list[SchedulerEvent] = []
    scheduler.add_listener(queued.append, TASK_QUEUED)
    scheduler.start()
    trace = Trace(tmp_path)
    try:
        trace.hold_the_worker(scheduler)
        trace.send_in_turn(scheduler)
        assert trace.started() == [] and len(executor.waiting) == len(ARRIVALS)
        assert trace.let_go_and_wait() == BY_PRIORITY
    finally:
        scheduler.shutdown()
    assert len(queued) == len(ARRIVALS), "each run that had to wait is still reported as queued"
    assert len(executor.waiting) == 0


async def test_the_asyncio_executors_thread_pool_does_the_same(tmp_path: Path) -> None:
    scheduler = AsyncIOScheduler(timezone="UTC", executors={"default": {"type": "asyncio", "max_workers": 1}})
    scheduler.start()
    trace = Trace(tmp_path)
    try:
        trace.hold_the_worker(scheduler)
        trace.send_in_turn(scheduler)
        trace.release.touch()
        await wait_on_loop(lambda: len(trace.started()) == len(ARRIVALS))
        assert trace.started() == BY_PRIORITY
    finally:
        scheduler.shutdown()


@pytest.mark.parametrize("executor_type", ["threadpool", "asyncio"])
async def test_a_failed_outcome_report_costs_no_slot_and_the_line_goes_on(
    executor_type: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The worker whose run ended goes on with the waiting runs itself; a report that raises
    is logged, and neither the runs behind it nor the slot are lost."""
    scheduler = AsyncIOScheduler(timezone="UTC", executors={"default": {"type": executor_type, "max_workers": 1}})
    scheduler.start()
    executor = scheduler.executors["default"]
    real_finished = executor.task_finished
    broken: list[str] = []

    def finished_once_broken(task: Task, outcomes: Any) -> None:
        if not broken:
            broken.append(task.id)  # type: ignore[arg-type]
            raise RuntimeError("the report broke")
        real_finished(task, outcomes)

    executor.task_finished = finished_once_broken  # type: ignore[method-assign]
    trace = Trace(tmp_path)
    try:
        trace.hold_the_worker(scheduler)
        trace.send_in_turn(scheduler)
        trace.release.touch()
        await wait_on_loop(lambda: len(trace.started()) == len(ARRIVALS))
        assert trace.started() == BY_PRIORITY
        assert len(broken) == 1 and "Reporting the outcome of a run of task" in caplog.text
        late = scheduler.add_task(priority_jobs.mark_start, "date", args=[str(trace.path), "late"], next_run_time=None)
        executor.send_task(late, [START])  # the slot is free again
        await wait_on_loop(lambda: trace.started()[-1:] == ["late"])
        assert trace.started()[-1] == "late"
    finally:
        scheduler.shutdown()


def test_shutdown_with_wait_still_runs_the_waiting_runs_in_priority_order(tmp_path: Path) -> None:
    executor = ThreadPoolExecutor(max_workers=1)
    scheduler = ManualScheduler(timezone="UTC", executors={"default": executor})
    scheduler.start()
    trace = Trace(tmp_path)
    trace.hold_the_worker(scheduler)
    trace.send_in_turn(scheduler)
    trace.release.touch()
    scheduler.shutdown(wait=True)
    assert trace.started() == BY_PRIORITY


def test_a_waiting_run_still_runs_when_the_run_ahead_broke_the_process_pool(tmp_path: Path) -> None:
    executor = ProcessPoolExecutor(max_workers=1)
    scheduler = ManualScheduler(timezone="UTC", executors={"default": executor})
    outcomes: list[SchedulerEvent] = []
    scheduler.add_listener(outcomes.append, TASK_EXECUTED | TASK_ERROR)
    scheduler.start()
    try:
        dying = scheduler.add_task(priority_jobs.die, "date", id="dying", next_run_time=None)
        after = scheduler.add_task(
            priority_jobs.mark_start, "date", args=[str(tmp_path / "ran"), "after"], id="after", next_run_time=None
        )
        executor.send_task(dying, [START])
        executor.send_task(after, [START])
        wait_for(lambda: len(outcomes) == 2, "both outcomes")
    finally:
        scheduler.shutdown()
    assert {(event.task_id, event.code) for event in outcomes} == {("dying", TASK_ERROR), ("after", TASK_EXECUTED)}
    assert (tmp_path / "ran").read_text() == "after\n"


def test_the_line_hands_on_runs_that_end_at_once_without_nesting_and_loses_no_slot() -> None:
    """A pool calls a done callback at once for a future already done: thousands of runs that
    end inside ``start`` are handed on by a loop (no RecursionError), and a run that cannot
    start, whose report fails too, still passes its slot on."""
    from asyncz_like.executors._waiting import WaitingLine

    started: list[int] = []
    failed: list[int] = []
    line: WaitingLine

    def start(task: Task, run_times: Any, scope: Any = None) -> None:
        if task.priority == 13:
            raise RuntimeError("the pool is broken")
        started.append(task.priority)
        if len(started) > 1:
            line.done()  # ended before start returned

    def report(task: Task, run_times: Any, exc: BaseException) -> None:
        failed.append(task.priority)
        raise RuntimeError("and reporting it failed too")

    line = WaitingLine(1, start, report)
    line.send(Task(jobs.record, id="first", priority=0), [START])  # holds the only slot
    for n in range(5000):
        line.send(Task(jobs.record, id=f"t{n}", priority=n % 7 if n != 42 else 13), [START])
    assert len(line) == 5000
    line.done()  # the first run ends: each next one ends at once, down the whole line
    assert failed == [13] and len(started) == 5000 and len(line) == 0
    assert started[1:] == sorted(started[1:], reverse=True)
    line.send(Task(jobs.record, id="again", priority=1), [START])  # the slot was freed, not lost
    assert started[-1] == 1 and len(line) == 0
