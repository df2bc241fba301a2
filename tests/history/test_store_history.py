"""Run history, heartbeats and task counts in every store, against the real servers: the
store contract directly, then retries and history through a scheduler, across a restart."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from asyncz_like import TASK_ERROR, TASK_EXECUTED, TASK_RUN_ABANDONED, ManualScheduler
from asyncz_like.history import RunOutcome
from asyncz_like.history.records import STALE_BEAT_SECONDS
from tests.core.clock import FakeClock
from tests.history import jobs
from tests.history.conftest import Events, later, step
from tests.stores.conftest import StoreFactory
from tests.stores.test_store_contract import make_task

pytestmark = pytest.mark.servers


def record(run: int, task_id: str, finished: float, outcome: str = "executed", **fields: Any) -> dict[str, Any]:
    return {
        "run_id": f"r{run:04d}",
        "task_id": task_id,
        "task_name": f"name of {task_id}",
        "scheduled_run_time": finished - 1,
        "started_at": finished - 0.5,
        "finished_at": finished,
        "duration": 0.5,
        "outcome": outcome,
        "attempt": 1,
        "scheduler_id": "s1",
        "exception_type": None,
        "exception_message": None,
        "traceback": None,
        "return_value": None,
        "retry_at": None,
        **fields,
    }


# -- the contract, store by store ------------------------------------------------------------


def test_records_are_read_back_newest_first_with_every_field(persistent: StoreFactory) -> None:
    store = persistent()
    failure = record(3, "b", 1_000.0, "error", exception_type="ValueError", exception_message="ü" * 900,
                     traceback="Traceback\n" * 300, attempt=2, retry_at=None, return_value=None)  # fmt: skip
    store.record_runs([record(1, "a", 990.0), record(2, "a", 995.5, return_value="'x'"), failure])
    assert store.get_run_history(None, 10, None, None) == [failure, record(2, "a", 995.5, return_value="'x'"),
                                                           record(1, "a", 990.0)]  # fmt: skip


def test_records_filter_by_task_outcome_and_time_and_limit(persistent: StoreFactory) -> None:
    store = persistent()
    store.record_runs([record(n, "ab"[n % 2], 1_000.0 + n, "error" if n % 3 == 0 else "executed") for n in range(12)])
    run_ids = lambda rows: [row["run_id"] for row in rows]  # noqa: E731
    assert run_ids(store.get_run_history("a", 3, None, None)) == ["r0010", "r0008", "r0006"]
    assert run_ids(store.get_run_history(None, 50, ["error"], None)) == ["r0009", "r0006", "r0003", "r0000"]
    assert run_ids(store.get_run_history("b", 50, ("error", "missed"), 1_004.0)) == ["r0009"]
    assert run_ids(store.get_run_history(None, 2, None, 1_010.0)) == ["r0011", "r0010"]
    assert store.get_run_history("nobody", 5, None, None) == []


def test_equal_finish_times_order_by_run_id(persistent: StoreFactory) -> None:
    store = persistent()
    store.record_runs([record(n, "t", 5.0) for n in (3, 1, 2)])
    assert [row["run_id"] for row in store.get_run_history("t", 10, None, None)] == ["r0003", "r0002", "r0001"]


def test_pruning_keeps_the_newest_per_task_and_drops_old_records(persistent: StoreFactory) -> None:
    store = persistent()
    store.record_runs([record(n, "a", 100.0 + n) for n in range(10)])
    store.record_runs([record(50 + n, "b", 100.0 + n) for n in range(4)])
    store.prune_history({"a", "b"}, 3, None)
    assert [row["run_id"] for row in store.get_run_history("a", 50, None, None)] == ["r0009", "r0008", "r0007"]
    assert len(store.get_run_history("b", 50, None, None)) == 3
    store.prune_history(set(), 3, 102.5)  # max age: everything finished before 102.5 goes
    newest = [row["run_id"] for row in store.get_run_history(None, 50, None, None)]
    assert newest == ["r0009", "r0008", "r0007", "r0053"]


def test_task_counts_restore_nothing(persistent: StoreFactory, now: datetime) -> None:
    store = persistent()
    for n in range(3):
        store.add_task(make_task(f"s{n}", now))
    store.add_task(make_task("p", None))
    assert store.count_tasks() == (3, 1)
    store.ping()


def test_heartbeats_and_lease_holders_are_seen(shared: StoreFactory, now: datetime) -> None:
    store = shared()
    store.beat("alpha", now, later(now, 30))
    store.beat("beta", now, later(now, 30))
    store.beat("alpha", later(now, 5), later(now, 35))  # renewed
    store.add_task(make_task("t1", now))
    store.add_task(make_task("t2", now))
    store.claim_due_tasks(now, "gamma", 30)  # a scheduler seen only by its lease
    seen = {row["scheduler_id"]: row for row in store.get_schedulers(later(now, 6))}
    assert set(seen) == {"alpha", "beta", "gamma"}
    assert (seen["alpha"]["renewed_at"], seen["alpha"]["expires_at"]) == (
        later(now, 5).timestamp(),
        later(now, 35).timestamp(),
    )
    assert seen["gamma"]["runs_held"] == 2 and seen["gamma"]["renewed_at"] is None
    store.drop_beat("beta")
    assert {row["scheduler_id"] for row in store.get_schedulers(later(now, 6))} == {"alpha", "gamma"}


def test_heartbeats_of_several_schedulers_at_once_all_land(shared: StoreFactory, now: datetime) -> None:
    """Four schedulers beating at the same moments: a beat that touched other schedulers' rows
    deadlocked on MariaDB, and a scheduler whose beats fail looks dead to the others."""
    stores = [shared() for _ in range(4)]
    failures: list[BaseException] = []

    def beat_often(name: str, store: Any) -> None:
        for n in range(40):
            try:
                store.beat(name, later(now, n * 0.01), later(now, 30 + n * 0.01))
            except Exception as exc:
                failures.append(exc)

    threads = [threading.Thread(target=beat_often, args=(f"s{i}", store)) for i, store in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    seen = {row["scheduler_id"]: row for row in stores[0].get_schedulers(later(now, 1))}
    assert set(seen) == {"s0", "s1", "s2", "s3"}
    assert all(row["expires_at"] == later(now, 30.39).timestamp() for row in seen.values()), seen


def test_long_expired_heartbeats_are_swept(shared: StoreFactory, now: datetime) -> None:
    store = shared()
    store.beat("gone", now, later(now, 3))
    store.beat("here", now, later(now, 3))
    an_hour_on = later(now, STALE_BEAT_SECONDS + 10)
    store.beat("here", an_hour_on, later(an_hour_on, 3))
    assert {row["scheduler_id"] for row in store.get_schedulers(later(now, 4))} == {"gone", "here"}
    assert {row["scheduler_id"] for row in store.get_schedulers(an_hour_on)} == {"here"}
    assert {row["scheduler_id"] for row in store.get_schedulers(later(now, 4))} == {"here"}  # removed, not hidden


# -- through a scheduler, on every store -----------------------------------------------------


@pytest.fixture
def scheduler_on(clock: FakeClock) -> Iterator[Any]:
    """``scheduler_on(factory, **options)``: a started ManualScheduler on a new store instance
    at the factory's location (a second call is a restarted process), and its events."""
    made: list[ManualScheduler] = []

    def start(factory: StoreFactory, **options: Any) -> tuple[ManualScheduler, Events]:
        scheduler = ManualScheduler(timezone="UTC", clock=clock, lease_seconds=30, **options)
        scheduler.add_store(factory(start=False), "default")
        events = Events()
        scheduler.add_listener(events.append, Events.MASK | TASK_RUN_ABANDONED)
        scheduler.start()
        made.append(scheduler)
        return scheduler, events

    yield start
    for scheduler in made:
        if scheduler.running:
            scheduler.shutdown()


def test_retries_that_end_in_success(any_store: StoreFactory, scheduler_on: Any, clock: FakeClock) -> None:
    scheduler, events = scheduler_on(any_store)
    start = clock.current
    scheduler.add_task(
        jobs.fail_first, "date", run_at=later(start, 1), args=["ok", 2], id="ok", max_retries=2, retry_delay=5
    )
    assert step(scheduler, clock, 1) == 5
    assert step(scheduler, clock, 5) == 5
    assert step(scheduler, clock, 5) is None
    assert events.attempts() == [(TASK_ERROR, 1, False), (TASK_ERROR, 2, False), (TASK_EXECUTED, 3, True)]
    assert scheduler.get_task("ok") is None
    history = scheduler.get_run_history("ok")
    assert [(r.outcome, r.attempt) for r in history] == [
        (RunOutcome.EXECUTED, 3),
        (RunOutcome.RETRIED, 2),
        (RunOutcome.RETRIED, 1),
    ]
    assert history[1].retry_at == later(start, 11) and history[0].scheduled_run_time == later(start, 1)


def test_a_one_off_task_that_may_retry_is_gone_once_its_first_attempt_works(
    any_store: StoreFactory, scheduler_on: Any, clock: FakeClock
) -> None:
    scheduler, events = scheduler_on(any_store)  # runs inline: the outcome comes inside the submission
    scheduler.add_task(jobs.succeed, "date", run_at=later(clock.current, 1), args=["w"], id="w", max_retries=2)
    assert step(scheduler, clock, 1) is None
    assert events.attempts() == [(TASK_EXECUTED, 1, True)]
    assert scheduler.get_tasks() == []


def test_retries_that_run_out(any_store: StoreFactory, scheduler_on: Any, clock: FakeClock) -> None:
    scheduler, events = scheduler_on(any_store)
    scheduler.add_task(
        jobs.always_fail, "interval", seconds=60, start_at=clock.current, args=["no"], id="no",
        max_retries=1, retry_delay=10,
    )  # fmt: skip
    assert step(scheduler, clock, 0) == 10
    assert step(scheduler, clock, 10) == 50  # out of attempts: the regular run at +60 is next
    assert events.attempts() == [(TASK_ERROR, 1, False), (TASK_ERROR, 2, True)]
    info = scheduler.get_task_info("no")
    assert info is not None and info.retry_attempt is None and info.next_run_time == later(clock.current, 50)


def test_a_retry_survives_a_restart(persistent: StoreFactory, scheduler_on: Any, clock: FakeClock) -> None:
    first, _ = scheduler_on(persistent, scheduler_id="first")
    start = clock.current
    first.add_task(
        jobs.fail_first, "date", run_at=later(start, 1), args=["r", 1], id="r", max_retries=1, retry_delay=30
    )
    step(first, clock, 1)
    first.shutdown()

    second, events = scheduler_on(persistent, scheduler_id="second")
    info = second.get_task_info("r")
    assert info is not None and (info.retry_attempt, info.retry_at) == (2, later(start, 31))
    step(second, clock, 30)
    assert events.attempts() == [(TASK_EXECUTED, 2, True)]
    assert second.get_tasks() == []  # the one-off task is done
    history = second.get_run_history("r")  # the first scheduler's record too: it is in the store
    assert [(r.outcome, r.attempt, r.scheduler_id) for r in history] == [
        (RunOutcome.EXECUTED, 2, "second"),
        (RunOutcome.RETRIED, 1, "first"),
    ]


def test_retention_limits_hold_in_the_store(any_store: StoreFactory, scheduler_on: Any, clock: FakeClock) -> None:
    scheduler, _ = scheduler_on(any_store, history={"keep_per_task": 2, "prune_interval": 1})
    scheduler.add_task(jobs.succeed, "interval", seconds=1, start_at=clock.current, args=["k"], id="k")
    step(scheduler, clock, 0)
    for _ in range(4):
        step(scheduler, clock, 1)
    assert [r.scheduled_run_time for r in scheduler.get_run_history("k")] == [
        later(clock.current, 0),
        later(clock.current, -1),
    ]


def test_records_older_than_max_age_leave_the_store(
    any_store: StoreFactory, scheduler_on: Any, clock: FakeClock
) -> None:
    scheduler, _ = scheduler_on(any_store, history={"max_age": 60, "prune_interval": 1})
    start = clock.current
    scheduler.add_task(jobs.succeed, "date", run_at=start, args=["once"], id="once")
    scheduler.add_task(jobs.succeed, "interval", seconds=50, start_at=start, args=["often"], id="often")
    for seconds in (0, 50, 50):
        step(scheduler, clock, seconds)
    # at +100 the records of +0 are older than 60 s: those of both tasks go, not only the one still running
    assert [(r.task_id, r.scheduled_run_time) for r in scheduler.get_run_history(limit=100)] == [
        ("often", later(start, 100)),
        ("often", later(start, 50)),
    ]


def test_history_is_read_from_a_stopped_scheduler(any_store: StoreFactory, scheduler_on: Any, clock: FakeClock) -> None:
    scheduler, _ = scheduler_on(any_store, scheduler_id="ran")
    scheduler.add_task(jobs.succeed, "date", run_at=later(clock.current, 1), args=["s"], id="s")
    step(scheduler, clock, 1)
    scheduler.shutdown()
    assert [(r.task_id, r.scheduler_id) for r in scheduler.get_run_history()] == [("s", "ran")]  # shut down
    scheduler.start()  # and started again: its stores work as before
    assert [r.task_id for r in scheduler.get_run_history()] == ["s"]
    scheduler.shutdown()
    if any_store.kind == "memory":
        return  # its records ended with the scheduler's memory; other stores keep them
    never_started = ManualScheduler(timezone="UTC")
    never_started.add_store(any_store(start=False), "default")
    assert [(r.task_id, r.scheduler_id) for r in never_started.get_run_history()] == [("s", "ran")]


def test_a_dead_schedulers_run_is_recorded_as_abandoned(
    shared: StoreFactory, scheduler_on: Any, clock: FakeClock
) -> None:
    scheduler, events = scheduler_on(shared)
    start = clock.current
    scheduler.add_task(
        jobs.succeed, "interval", seconds=60, start_at=later(start, 1), args=["z"], id="z",
        max_retries=1, retry_delay=5,
    )  # fmt: skip
    store = scheduler.stores["default"]
    store.claim_due_tasks(later(start, 1), "dead", 30)  # claimed by a scheduler that then died
    step(scheduler, clock, 40)  # its lease has expired: taken over, its run reported, not re-run
    abandoned = scheduler.get_run_history("z", outcome="abandoned")
    assert [(r.scheduled_run_time, r.attempt) for r in abandoned] == [(later(start, 1), 1)]
    assert [e.code for e in events] == [TASK_RUN_ABANDONED]


def test_health_sees_every_scheduler_on_a_shared_store(shared: StoreFactory, scheduler_on: Any) -> None:
    one, _ = scheduler_on(shared, scheduler_id="one")
    two, _ = scheduler_on(shared, scheduler_id="two")
    two.health_check()  # renews two's heartbeat
    report = one.health_check()
    [store] = report.stores
    assert store.reachable and store.shared
    seen = {entry.scheduler_id: entry for entry in store.schedulers}
    assert set(seen) == {"one", "two"} and seen["one"].is_self and not seen["two"].is_self
    assert seen["two"].alive and seen["two"].last_renewal_age == 0.0
    two.shutdown()  # a clean stop removes its heartbeat
    assert [entry.scheduler_id for entry in one.health_check().stores[0].schedulers] == ["one"]
