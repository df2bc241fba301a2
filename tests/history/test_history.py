"""Run history on an explicit clock: every outcome is recorded with its attempt, read back
newest first, filtered, and kept within the retention limits."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from asyncz_like import TASK_ERROR, ManualScheduler
from asyncz_like.exceptions import ArgumentError
from asyncz_like.history import RunOutcome, RunRecord
from asyncz_like.history.records import RETURN_VALUE_LIMIT, TRACEBACK_LIMIT
from tests.core.clock import FakeClock
from tests.history import jobs
from tests.history.conftest import Events, later, step

Make = Callable[..., tuple[ManualScheduler, Events]]


@pytest.fixture
def timed(clock: FakeClock) -> Iterator[FakeClock]:
    jobs.clock = clock
    yield clock
    jobs.clock = None


def test_a_record_has_every_field(make_scheduler: Make, timed: FakeClock) -> None:
    scheduler, _ = make_scheduler(scheduler_id="sched-1")
    start = timed.current
    scheduler.add_task(
        jobs.take_time, "date", run_at=later(start, 1), args=[2.5], id="slow", name="a slow one",
        mistrigger_grace_time=None,
    )  # fmt: skip
    step(scheduler, timed, 3)  # started 2 s late, took 2.5 s

    [record] = scheduler.get_run_history()
    assert isinstance(record, RunRecord)
    assert record.model_dump(exclude={"run_id"}) == {
        "task_id": "slow",
        "task_name": "a slow one",
        "store": "default",
        "scheduled_run_time": later(start, 1),
        "started_at": later(start, 3),
        "finished_at": later(start, 5.5),
        "duration": 2.5,
        "outcome": RunOutcome.EXECUTED,
        "attempt": 1,
        "scheduler_id": "sched-1",
        "exception_type": None,
        "exception_message": None,
        "traceback": None,
        "return_value": "'done'",
        "retry_at": None,
    }
    assert len(record.run_id) >= 16


def test_failures_keep_the_exception_and_a_trimmed_traceback(make_scheduler: Make, clock: FakeClock) -> None:
    scheduler, events = make_scheduler()
    scheduler.add_task(jobs.deep_failure, "date", run_at=later(clock.current, 1), args=[300], id="deep")
    scheduler.add_task(jobs.big_result, "date", run_at=later(clock.current, 1), args=[100_000], id="big")
    step(scheduler, clock, 1)

    (error,) = scheduler.get_run_history("deep")
    assert (error.outcome, error.exception_type) == (RunOutcome.ERROR, "tests.history.jobs.Flaky")
    assert error.exception_message is not None and len(error.exception_message) <= 1_000
    assert error.traceback is not None and len(error.traceback) <= TRACEBACK_LIMIT
    assert error.traceback.rstrip().endswith("x" * 100)  # the end of it: the error line
    assert [e.run_id for e in events if e.code == TASK_ERROR] == [error.run_id]  # type: ignore[attr-defined]
    (big,) = scheduler.get_run_history("big")
    assert big.return_value is not None and len(big.return_value) <= RETURN_VALUE_LIMIT


def test_missed_and_skipped_runs_are_recorded(make_scheduler: Make, clock: FakeClock) -> None:
    scheduler, _ = make_scheduler()
    start = clock.current
    scheduler.add_task(jobs.succeed, "interval", seconds=10, start_at=start, args=["m"], id="m", coalesce=False)
    step(scheduler, clock, 25)  # +0 and +10 are later than the 1 s grace time; +20 too
    task = scheduler.add_task(jobs.succeed, "interval", seconds=10, start_at=later(start, 30), args=["s"], id="s")
    executor: Any = scheduler.executors["default"]
    executor._instances["s"] = task.max_instances
    step(scheduler, clock, 5)
    executor._instances.pop("s")

    missed = scheduler.get_run_history("m", outcome="missed")
    assert sorted(r.scheduled_run_time for r in missed) == [start, later(start, 10), later(start, 20)]  # type: ignore[type-var]
    assert all(r.started_at is None and r.finished_at == later(start, 25) for r in missed)
    [skipped] = scheduler.get_run_history("s")
    assert (skipped.outcome, skipped.scheduled_run_time) == (RunOutcome.SKIPPED, later(start, 30))


def test_records_come_newest_first_and_filter(make_scheduler: Make, clock: FakeClock) -> None:
    scheduler, _ = make_scheduler()
    start = clock.current
    scheduler.add_task(jobs.succeed, "interval", seconds=10, start_at=start, args=["a"], id="a")
    scheduler.add_task(jobs.always_fail, "interval", seconds=10, start_at=start, args=["b"], id="b")
    for _ in range(5):
        step(scheduler, clock, 10 if scheduler.get_run_history() else 0)

    everything = scheduler.get_run_history(limit=100)
    assert len(everything) == 10
    times = [r.finished_at for r in everything]
    assert times == sorted(times, reverse=True)
    assert {r.task_id for r in scheduler.get_run_history("a")} == {"a"}
    assert {r.outcome for r in scheduler.get_run_history(outcome=RunOutcome.ERROR)} == {RunOutcome.ERROR}
    assert len(scheduler.get_run_history(outcome=["error", "executed"], limit=3)) == 3
    recent = scheduler.get_run_history(since=later(start, 30))
    assert sorted(r.scheduled_run_time for r in recent) == [later(start, 30)] * 2 + [later(start, 40)] * 2  # type: ignore[type-var]
    assert scheduler.get_run_history(since="2026-03-02T12:00:30+00:00") == recent
    assert scheduler.get_run_history("nobody") == []


@pytest.mark.parametrize(
    ("arguments", "argument"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 10_001}, "limit"),
        ({"limit": "5"}, "limit"),
        ({"outcome": "exploded"}, "outcome"),
        ({"outcome": ["executed", "nope"]}, "outcome"),
        ({"since": "yesterday-ish"}, "since"),
        ({"task_id": 5}, "task_id"),
    ],
)
def test_bad_history_queries_name_the_argument(make_scheduler: Make, arguments: dict[str, Any], argument: str) -> None:
    scheduler, _ = make_scheduler()
    with pytest.raises((ArgumentError, TypeError, ValueError)) as caught:
        scheduler.get_run_history(**arguments)
    assert str(caught.value).startswith(f"{argument}:")


def test_history_off_records_nothing_but_events_still_count_attempts(make_scheduler: Make, clock: FakeClock) -> None:
    scheduler, events = make_scheduler(history=False)
    scheduler.add_task(jobs.fail_first, "date", run_at=later(clock.current, 1), args=["q", 1], id="q", max_retries=1)
    step(scheduler, clock, 1)
    step(scheduler, clock, 1)
    assert scheduler.get_run_history() == []
    assert events.attempts()[-1][1] == 2 and all(e.run_id is None for e in events)  # type: ignore[attr-defined]


def test_retention_keeps_the_newest_records_of_each_task(make_scheduler: Make, clock: FakeClock) -> None:
    scheduler, _ = make_scheduler(history={"keep_per_task": 3})
    start = clock.current
    for name in ("x", "y"):
        scheduler.add_task(jobs.succeed, "interval", seconds=1, start_at=start, args=[name], id=name)
    step(scheduler, clock, 0)
    for _ in range(5):
        step(scheduler, clock, 1)
    for name in ("x", "y"):
        kept = scheduler.get_run_history(name)
        assert [r.scheduled_run_time for r in kept] == [later(start, s) for s in (5, 4, 3)]


def test_retention_drops_records_older_than_max_age(make_scheduler: Make, clock: FakeClock) -> None:
    scheduler, _ = make_scheduler(history={"max_age": 60, "prune_interval": 1})
    start = clock.current
    scheduler.add_task(jobs.succeed, "interval", seconds=50, start_at=start, args=["old"], id="old")
    for seconds in (0, 50, 50):
        step(scheduler, clock, seconds)
    # at +100 the record of +0 is older than 60 s
    assert [r.scheduled_run_time for r in scheduler.get_run_history()] == [later(start, 100), later(start, 50)]


def test_memory_history_is_bounded_in_all(make_scheduler: Make, clock: FakeClock) -> None:
    scheduler, _ = make_scheduler(history={"memory_limit": 25})
    for n in range(10):
        scheduler.add_task(jobs.succeed, "interval", seconds=1, start_at=clock.current, args=["t"], id=f"t{n}")
    step(scheduler, clock, 0)
    for _ in range(4):
        step(scheduler, clock, 1)
    kept = scheduler.get_run_history(limit=100)
    assert len(kept) == 25
    assert min(r.finished_at for r in kept) >= later(clock.current, -2)  # the oldest went first


@pytest.mark.parametrize(
    ("history", "argument"),
    [
        ({"keep_per_task": 0}, "history.keep_per_task"),
        ({"max_age": -1}, "history.max_age"),
        ({"prune_interval": "often"}, "history.prune_interval"),
        ({"keep": 5}, "history.keep"),
        ("yes please", "history"),
    ],
)
def test_bad_history_settings_name_the_option(history: Any, argument: str) -> None:
    with pytest.raises((ArgumentError, TypeError)) as caught:
        ManualScheduler(history=history)
    assert str(caught.value).startswith(f"{argument}:")


def test_history_settings_come_from_a_flat_config() -> None:
    scheduler = ManualScheduler({"asyncz_like.history.keep_per_task": "7", "asyncz_like.history.enabled": "true"})
    assert scheduler.run_log.settings.keep_per_task == 7 and scheduler.run_log.settings.enabled
    assert not ManualScheduler({"asyncz_like.history.enabled": "off"}).run_log.settings.enabled


def test_pruning_happens_at_most_every_prune_interval(make_scheduler: Make, clock: FakeClock, tmp_path: Any) -> None:
    scheduler, _ = make_scheduler(history={"keep_per_task": 1, "prune_interval": 30})
    scheduler.add_store("file", "files", directory=str(tmp_path / "tasks"))
    scheduler.add_task(jobs.succeed, "interval", seconds=10, start_at=clock.current, args=["p"], id="p", store="files")
    counts = []
    for seconds in (0, 10, 10, 10, 10):
        step(scheduler, clock, seconds)
        counts.append(len(scheduler.get_run_history("p", store="files")))
    assert counts == [1, 2, 3, 1, 2]  # pruned at the first write, and 30 s later
