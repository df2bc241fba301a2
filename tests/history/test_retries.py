"""Retries, on an explicit clock: a failed run runs again after its delay, as attempt N of
the same run time, without moving the regular schedule; when the attempts are used up,
TASK_ERROR says the failure is final."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from asyncz_like import TASK_ERROR, TASK_EXECUTED, ManualScheduler
from asyncz_like.exceptions import ArgumentError, ArgumentTypeError
from asyncz_like.history import RunOutcome
from tests.core.clock import FakeClock
from tests.history import jobs
from tests.history.conftest import Events, later, step

Make = Callable[..., tuple[ManualScheduler, Events]]


def test_a_failed_run_is_retried_with_backoff_until_it_succeeds(make_scheduler: Make, clock: FakeClock) -> None:
    scheduler, events = make_scheduler()
    start = clock.current
    scheduler.add_task(
        jobs.fail_first, "date", run_at=later(start, 1), args=["a", 2], id="a",
        max_retries=3, retry_delay=10, retry_backoff=2,
    )  # fmt: skip

    assert step(scheduler, clock, 1) == 10  # attempt 1 failed: the next one is due in 10 s
    info = scheduler.get_task_info("a")
    assert info is not None and (info.retry_attempt, info.retry_at) == (2, later(start, 11))
    assert info.next_run_time == later(start, 11)

    assert step(scheduler, clock, 10) == 20  # attempt 2 failed: 10 s * 2
    assert step(scheduler, clock, 20) is None  # attempt 3 succeeded; the one-off task is done

    assert events.attempts() == [(TASK_ERROR, 1, False), (TASK_ERROR, 2, False), (TASK_EXECUTED, 3, True)]
    assert [(e.retries_left, e.retry_at) for e in events] == [(3, later(start, 11)), (2, later(start, 31)), (0, None)]
    assert {e.scheduled_run_time for e in events} == {later(start, 1)}  # every attempt repeats that run time
    assert scheduler.get_task("a") is None
    assert jobs.calls["a"] == 3


def test_when_the_attempts_are_used_up_task_error_says_it_is_final(make_scheduler: Make, clock: FakeClock) -> None:
    scheduler, events = make_scheduler()
    scheduler.add_task(jobs.always_fail, "date", run_at=later(clock.current, 1), args=["b"], id="b", max_retries=2)
    step(scheduler, clock, 1)
    step(scheduler, clock, 1)  # retry_delay defaults to 1 s
    assert step(scheduler, clock, 1) is None

    assert events.attempts() == [(TASK_ERROR, 1, False), (TASK_ERROR, 2, False), (TASK_ERROR, 3, True)]
    assert events[-1].retries_left == 0 and events[-1].retry_at is None  # type: ignore[attr-defined]
    assert jobs.calls["b"] == 3
    outcomes = [(record.outcome, record.attempt) for record in scheduler.get_run_history("b")]
    assert outcomes == [(RunOutcome.ERROR, 3), (RunOutcome.RETRIED, 2), (RunOutcome.RETRIED, 1)]


def test_without_max_retries_nothing_is_retried(make_scheduler: Make, clock: FakeClock) -> None:
    scheduler, events = make_scheduler()
    scheduler.add_task(jobs.always_fail, "date", run_at=later(clock.current, 1), args=["c"], id="c")
    assert step(scheduler, clock, 1) is None
    assert events.attempts() == [(TASK_ERROR, 1, True)]
    assert scheduler.get_task("c") is None


def test_retry_on_limits_which_exceptions_are_retried(make_scheduler: Make, clock: FakeClock) -> None:
    scheduler, events = make_scheduler()
    run_at = later(clock.current, 1)
    scheduler.add_task(jobs.fatal, "date", run_at=run_at, args=["d"], id="d", max_retries=5, retry_on=jobs.Flaky)
    scheduler.add_task(
        jobs.fail_first, "date", run_at=run_at, args=["e", 1], id="e", max_retries=5,
        retry_on=["tests.history.jobs:Flaky"],
    )  # fmt: skip
    step(scheduler, clock, 1)
    step(scheduler, clock, 1)
    by_task = {(e.task_id, e.attempt): (e.code, e.final) for e in events}  # type: ignore[attr-defined]
    assert by_task == {
        ("d", 1): (TASK_ERROR, True),  # Fatal is not a Flaky: final at once
        ("e", 1): (TASK_ERROR, False),
        ("e", 2): (TASK_EXECUTED, True),
    }


def test_a_retry_does_not_move_the_regular_schedule(make_scheduler: Make, clock: FakeClock) -> None:
    scheduler, events = make_scheduler()
    start = clock.current
    scheduler.add_task(
        jobs.fail_first, "interval", seconds=60, start_at=start, args=["f", 1], id="f",
        max_retries=1, retry_delay=15,
    )  # fmt: skip
    assert step(scheduler, clock, 0) == 15  # the run at +0 failed; its retry comes before the next run
    assert step(scheduler, clock, 15) == 45  # the retry succeeded; the next regular run is still at +60
    step(scheduler, clock, 45)
    runs = [(e.scheduled_run_time, e.attempt, e.code) for e in events]  # type: ignore[attr-defined]
    assert runs == [(start, 1, TASK_ERROR), (start, 2, TASK_EXECUTED), (later(start, 60), 1, TASK_EXECUTED)]


def test_a_retry_and_a_regular_run_due_together_run_in_one_submission_retry_first(
    make_scheduler: Make, clock: FakeClock
) -> None:
    scheduler, events = make_scheduler()
    start = clock.current
    scheduler.add_task(
        jobs.fail_first, "interval", seconds=10, start_at=start, args=["g", 1], id="g",
        max_retries=1, retry_delay=10,
    )  # fmt: skip
    step(scheduler, clock, 0)  # +0 fails; the retry is due at +10, with the run of +10
    step(scheduler, clock, 10)
    runs = [(e.scheduled_run_time, e.attempt, e.code) for e in events]  # type: ignore[attr-defined]
    assert runs == [(start, 1, TASK_ERROR), (start, 2, TASK_EXECUTED), (later(start, 10), 1, TASK_EXECUTED)]
    # one instance slot for both: max_instances=1 skipped neither
    assert [r.outcome for r in scheduler.get_run_history("g")].count(RunOutcome.SKIPPED) == 0


def test_a_newer_failure_replaces_a_pending_retry(make_scheduler: Make, clock: FakeClock) -> None:
    scheduler, _ = make_scheduler()
    start = clock.current
    scheduler.add_task(
        jobs.always_fail, "interval", seconds=10, start_at=start, args=["h"], id="h",
        max_retries=1, retry_delay=25,
    )  # fmt: skip
    step(scheduler, clock, 0)  # +0 fails: retry at +25
    step(scheduler, clock, 10)  # +10 fails: its retry (at +35) replaces the one of +0
    info = scheduler.get_task_info("h")
    assert info is not None and (info.retry_attempt, info.retry_at) == (2, later(start, 35))
    assert info.next_run_time == later(start, 20)  # the regular run comes first


def test_pausing_a_task_cancels_its_pending_retry(make_scheduler: Make, clock: FakeClock) -> None:
    scheduler, _ = make_scheduler()
    scheduler.add_task(
        jobs.always_fail, "interval", seconds=60, start_at=clock.current, args=["i"], id="i", max_retries=3
    )
    step(scheduler, clock, 0)
    scheduler.pause_task("i")
    scheduler.resume_task("i")
    info = scheduler.get_task_info("i")
    assert info is not None and info.retry_attempt is None and info.retry_at is None


def test_running_a_task_by_hand_keeps_its_pending_retry(make_scheduler: Make, clock: FakeClock) -> None:
    scheduler, _ = make_scheduler()
    start = clock.current
    scheduler.add_task(
        jobs.fail_first, "interval", seconds=60, start_at=start, args=["j", 1], id="j",
        max_retries=1, retry_delay=30,
    )  # fmt: skip
    step(scheduler, clock, 0)
    scheduler.run_task("j")  # an extra run now succeeds
    info = scheduler.get_task_info("j")
    assert info is not None and (info.retry_attempt, info.retry_at, info.next_run_time) == (
        2,
        later(start, 30),
        later(start, 30),
    )


def test_a_retry_skipped_by_max_instances_is_recorded_with_its_attempt(make_scheduler: Make, clock: FakeClock) -> None:
    scheduler, _ = make_scheduler()
    start = clock.current
    task = scheduler.add_task(
        jobs.fail_first, "interval", seconds=60, start_at=start, args=["k", 5], id="k", max_retries=3
    )
    step(scheduler, clock, 0)
    executor: Any = scheduler.executors["default"]
    executor._instances["k"] = task.max_instances  # a run of it is still in flight
    step(scheduler, clock, 1)
    executor._instances.pop("k")
    records = scheduler.get_run_history("k")
    assert [(r.outcome, r.attempt) for r in records] == [(RunOutcome.SKIPPED, 2), (RunOutcome.RETRIED, 1)]
    info = scheduler.get_task_info("k")
    assert info is not None and info.retry_attempt is None  # skipped like any run: not retried later


def test_task_defaults_carry_a_retry_policy(make_scheduler: Make, clock: FakeClock) -> None:
    scheduler, events = make_scheduler(task_defaults={"max_retries": "2", "retry_delay": "5"})
    scheduler.add_task(jobs.always_fail, "date", run_at=later(clock.current, 1), args=["l"], id="l")
    for seconds in (1, 5, 5):
        step(scheduler, clock, seconds)
    assert events.attempts() == [(TASK_ERROR, 1, False), (TASK_ERROR, 2, False), (TASK_ERROR, 3, True)]


@pytest.mark.parametrize(
    ("options", "argument"),
    [
        ({"max_retries": -1}, "max_retries"),
        ({"max_retries": 1.5}, "max_retries"),
        ({"max_retries": True}, "max_retries"),
        ({"max_retries": 1001}, "max_retries"),
        ({"retry_delay": -1}, "retry_delay"),
        ({"retry_delay": float("nan")}, "retry_delay"),
        ({"retry_delay": "soon"}, "retry_delay"),
        ({"retry_backoff": 0.5}, "retry_backoff"),
        ({"retry_backoff": 1000}, "retry_backoff"),
        ({"retry_on": int}, "retry_on"),
        ({"retry_on": []}, "retry_on"),
        ({"retry_on": "nowhere.module:Error"}, "retry_on"),
        ({"retry_on": ["tests.history.jobs:Flaky", 3]}, "retry_on"),
    ],
)
def test_bad_retry_options_are_refused_at_add_task_naming_the_argument(
    make_scheduler: Make, options: dict[str, Any], argument: str
) -> None:
    scheduler, _ = make_scheduler()
    with pytest.raises((ArgumentError, ArgumentTypeError, ValueError, LookupError)) as caught:
        scheduler.add_task(jobs.succeed, "interval", seconds=1, args=["x"], **options)
    assert str(caught.value).startswith(f"{argument}:")
    assert scheduler.get_tasks() == []


def test_a_retry_on_class_without_a_reference_cannot_be_stored_persistently(
    make_scheduler: Make, tmp_path: Any
) -> None:
    class Local(Exception):
        pass

    scheduler, _ = make_scheduler()
    scheduler.add_store("file", "files", directory=str(tmp_path / "tasks"))
    scheduler.add_task(jobs.succeed, "interval", seconds=1, args=["m"], retry_on=Local, max_retries=1)  # memory: fine
    with pytest.raises(ArgumentTypeError, match=r"^retry_on: .*Local"):
        scheduler.add_task(
            jobs.succeed, "interval", seconds=1, args=["n"], retry_on=Local, max_retries=1, store="files"
        )


def test_the_retry_options_and_a_pending_retry_survive_serialization(make_scheduler: Make, now: datetime) -> None:
    from asyncz_like import Task
    from asyncz_like.serializers import JSONSerializer, PickleSerializer

    scheduler, _ = make_scheduler()
    task = scheduler.add_task(
        jobs.succeed, "interval", seconds=5, args=["o"], id="o", max_retries=4, retry_delay=2.5,
        retry_backoff=3, retry_on=[jobs.Flaky, KeyError],
    )  # fmt: skip
    from asyncz_like.history.retries import schedule_retry

    schedule_retry(task, 3, now, later(now, 7))
    for serializer in (PickleSerializer(), JSONSerializer()):
        restored = Task.from_state(serializer.loads(serializer.dumps(task.__getstate__())))
        assert (restored.max_retries, restored.retry_delay, restored.retry_backoff) == (4, 2.5, 3.0)
        assert restored.retry_on == (jobs.Flaky, KeyError)
        assert restored.retry == task.retry and restored.next_run_time == later(now, 5)  # the earlier of both
