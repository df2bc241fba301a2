"""The processing pass, driven by an explicit clock: what runs, what is missed, what is removed."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from asyncz_like import (
    ALL_EVENTS,
    TASK_ERROR,
    TASK_EXECUTED,
    TASK_MAX_INSTANCES,
    TASK_MISSED,
    TASK_REMOVED,
    TASK_SUBMITTED,
    ManualScheduler,
    SchedulerEvent,
    TaskExecutionEvent,
    TaskSubmissionEvent,
)
from asyncz_like.executors.base import BaseExecutor
from asyncz_like.triggers.interval import IntervalTrigger
from tests.core import jobs
from tests.core.clock import FakeClock

UTC = timezone.utc
START = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


class HoldingExecutor(BaseExecutor):
    """Accepts runs but never finishes them, so instances stay in flight."""

    def __init__(self) -> None:
        super().__init__()
        self.submitted: list[list[datetime]] = []

    def do_send_task(self, task, run_times) -> None:  # type: ignore[no-untyped-def]
        self.submitted.append(list(run_times))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def scheduler(clock: FakeClock) -> ManualScheduler:
    scheduler = ManualScheduler(timezone="UTC", clock=clock)
    scheduler.start()
    jobs.calls.clear()
    return scheduler


def every_minute() -> IntervalTrigger:
    return IntervalTrigger(minutes=1, start_at=START + timedelta(minutes=1), timezone="UTC")


def collect(scheduler: ManualScheduler, mask: int = ALL_EVENTS) -> list[SchedulerEvent]:
    events: list[SchedulerEvent] = []
    scheduler.add_listener(events.append, mask)
    return events


def test_nothing_runs_before_its_time(scheduler: ManualScheduler, clock: FakeClock) -> None:
    scheduler.add_task(jobs.record, every_minute(), args=["x"])
    assert scheduler.process_tasks(now=START + timedelta(seconds=59)) == pytest.approx(1.0)
    assert jobs.calls == []


def test_due_task_runs_and_is_rescheduled(scheduler: ManualScheduler) -> None:
    task = scheduler.add_task(jobs.record, every_minute(), args=["x"], id="tick")
    wait = scheduler.process_tasks(now=START + timedelta(minutes=1))
    assert jobs.calls == ["x"]
    assert task.next_run_time == START + timedelta(minutes=2)
    assert wait == pytest.approx(60.0)


def test_events_carry_their_fields(scheduler: ManualScheduler) -> None:
    events = collect(scheduler, TASK_SUBMITTED | TASK_EXECUTED | TASK_ERROR)
    scheduler.add_task(jobs.double, every_minute(), args=[21], id="ok")
    scheduler.add_task(jobs.fail, every_minute(), args=["bad input"], id="bad")
    scheduler.process_tasks(now=START + timedelta(minutes=1))
    submitted = [e for e in events if e.code == TASK_SUBMITTED]
    assert {e.task_id for e in submitted} == {"ok", "bad"}
    assert all(
        isinstance(e, TaskSubmissionEvent) and e.scheduled_run_times == [START + timedelta(minutes=1)]
        for e in submitted
    )
    executed = next(e for e in events if e.code == TASK_EXECUTED)
    assert isinstance(executed, TaskExecutionEvent)
    assert (executed.task_id, executed.return_value, executed.store) == ("ok", 42, "default")
    assert executed.scheduled_run_time == START + timedelta(minutes=1)
    error = next(e for e in events if e.code == TASK_ERROR)
    assert isinstance(error, TaskExecutionEvent)
    assert isinstance(error.exception, RuntimeError) and str(error.exception) == "bad input"
    assert error.traceback is not None and "RuntimeError: bad input" in error.traceback


def test_coalesce_runs_once_for_many_missed_run_times(scheduler: ManualScheduler) -> None:
    events = collect(scheduler, TASK_SUBMITTED)
    scheduler.add_task(jobs.record, every_minute(), args=["c"], coalesce=True, mistrigger_grace_time=None)
    scheduler.process_tasks(now=START + timedelta(minutes=5, seconds=30))
    assert jobs.calls == ["c"]
    assert isinstance(events[0], TaskSubmissionEvent)
    assert events[0].scheduled_run_times == [START + timedelta(minutes=5)]


def test_without_coalesce_every_run_time_runs(scheduler: ManualScheduler) -> None:
    scheduler.add_task(jobs.record, every_minute(), args=["n"], coalesce=False, mistrigger_grace_time=None)
    scheduler.process_tasks(now=START + timedelta(minutes=5, seconds=30))
    assert jobs.calls == ["n"] * 5


def test_runs_later_than_the_grace_time_are_missed(scheduler: ManualScheduler) -> None:
    events = collect(scheduler, TASK_MISSED)
    scheduler.add_task(jobs.record, every_minute(), args=["g"], coalesce=False, mistrigger_grace_time=90)
    scheduler.process_tasks(now=START + timedelta(minutes=4))
    # run times 12:01..12:04; at 12:04 those older than 90 s (12:01, 12:02) are missed
    assert jobs.calls == ["g", "g"]
    missed = [e.scheduled_run_time for e in events if isinstance(e, TaskExecutionEvent)]
    assert missed == [START + timedelta(minutes=1), START + timedelta(minutes=2)]


def test_max_instances_skips_a_run_and_says_so(clock: FakeClock) -> None:
    holder = HoldingExecutor()
    scheduler = ManualScheduler(timezone="UTC", clock=clock, executors={"default": holder})
    scheduler.start()
    events = collect(scheduler, TASK_MAX_INSTANCES)
    task = scheduler.add_task(jobs.record, every_minute(), max_instances=2)
    for minute in (1, 2, 3):
        scheduler.process_tasks(now=START + timedelta(minutes=minute))
    assert len(holder.submitted) == 2
    assert holder.running_instances(task.id) == 2  # type: ignore[arg-type]
    assert [e.code for e in events] == [TASK_MAX_INSTANCES]
    assert task.next_run_time == START + timedelta(minutes=4)  # the schedule still moves on


def test_a_finished_trigger_removes_the_task(scheduler: ManualScheduler) -> None:
    events = collect(scheduler, TASK_REMOVED)
    scheduler.add_task(jobs.record, "date", run_at=START + timedelta(seconds=5), args=["once"], id="once")
    scheduler.process_tasks(now=START + timedelta(seconds=5))
    assert jobs.calls == ["once"]
    assert scheduler.get_task("once") is None
    assert [e.code for e in events] == [TASK_REMOVED]


def test_paused_tasks_and_a_paused_scheduler_do_not_run(scheduler: ManualScheduler) -> None:
    scheduler.add_task(jobs.record, every_minute(), args=["p"], id="p")
    scheduler.pause_task("p")
    assert scheduler.process_tasks(now=START + timedelta(hours=1)) is None
    scheduler.resume_task("p")
    scheduler.pause()
    assert scheduler.process_tasks(now=START + timedelta(hours=2)) is None
    assert jobs.calls == []
    scheduler.resume()
    scheduler.process_tasks(now=START + timedelta(hours=2))
    assert jobs.calls == ["p"]


def test_an_unknown_executor_keeps_the_task(scheduler: ManualScheduler) -> None:
    # add_task refuses an unknown executor (tests/core/test_bad_input.py); one removed later remains possible
    scheduler.add_executor("debug", "going")
    task = scheduler.add_task(jobs.record, every_minute(), executor="going", id="lost?")
    scheduler.remove_executor("going")
    scheduler.process_tasks(now=START + timedelta(minutes=1))
    assert scheduler.get_task("lost?") is task
    assert jobs.calls == []


def test_wait_time_tracks_the_earliest_task_across_stores(scheduler: ManualScheduler) -> None:
    scheduler.add_store("memory", "second")
    scheduler.add_task(jobs.record, every_minute())
    scheduler.add_task(jobs.record, "date", run_at=START + timedelta(seconds=20), store="second")
    assert scheduler.process_tasks(now=START) == pytest.approx(20.0)
