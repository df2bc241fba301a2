"""Bursts on the stores several schedulers share: more tasks due at once than one claim takes.

A pass claims batch after batch while claims come back full, so every run of a burst that
can start within its grace does; the claimed tasks it does not submit (missed runs) are
released together at the end, after every runnable one was submitted. The stores claim and
release in bulk (MongoDB: one tagged ``update_many`` and one ``bulk_write``), and still hand
each due task to exactly one scheduler and say which releases were refused.

Every test runs against the real server (``ASYNCZ_TEST_*_URL``).
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from asyncz_like import TASK_MISSED, TASK_REMOVED, ManualScheduler, SchedulerEvent
from asyncz_like.schedulers import processing
from asyncz_like.schedulers.claims import RELEASE_SLICE
from asyncz_like.tasks.task import Task
from asyncz_like.triggers.date import DateTrigger
from tests.stores.conftest import StoreFactory
from tests.stores.test_claims import claims, ids, task

UTC = timezone.utc
T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
LEASE = 30.0
#: the task id of every run the tests' task made, in this process
RUNS: list[str] = []


def ran(task_id: str) -> None:
    """The burst's task: notes that it ran."""
    RUNS.append(task_id)


@pytest.fixture(params=["sqlite", "postgres", "mariadb", "redis", "mongodb"])
def make_shared_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    factory = StoreFactory(request.param, tmp_path)
    yield factory
    factory.cleanup()


@pytest.fixture(params=["sqlite", "postgres", "mongodb"])
def make_burst_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    """The scheduler-level tests: an embedded, a SQL server and a document store."""
    factory = StoreFactory(request.param, tmp_path)
    yield factory
    factory.cleanup()


@pytest.fixture(autouse=True)
def _no_runs_yet() -> None:
    RUNS.clear()


def one_off(task_id: str, at: datetime, grace: float | None = 1.0) -> Task:
    """A date task due at ``at`` that runs ``ran(task_id)`` once."""
    trigger = DateTrigger(run_at=at, timezone="UTC")
    return Task(
        ran,
        id=task_id,
        args=(task_id,),
        trigger=trigger,
        next_run_time=at,
        mistrigger_grace_time=grace,
    )


def scheduler_on(store: Any, scheduler_id: str = "s1") -> ManualScheduler:
    scheduler = ManualScheduler(
        timezone="UTC", stores={"default": store}, history=False, lease_seconds=LEASE, scheduler_id=scheduler_id
    )
    scheduler.start()
    return scheduler


# -- the stores -------------------------------------------------------------------------


def test_a_claim_returns_at_most_claim_batch_tasks_and_the_next_claim_the_rest(
    make_shared_store: StoreFactory,
) -> None:
    store = make_shared_store()
    batch = store.claim_batch
    assert isinstance(batch, int) and batch > 0, "a shared store tells the pass how full a claim can come back"
    for n in range(batch + 3):
        store.add_task(task(f"t{n:04}", T0))
    first = store.claim_due_tasks(T0, "a", LEASE)
    assert len(first) == batch
    assert len(store.claim_due_tasks(T0, "a", LEASE)) == 3
    assert store.claim_due_tasks(T0, "a", LEASE) == []


def test_a_bulk_release_answers_for_each_task_when_some_claims_were_lost(make_shared_store: StoreFactory) -> None:
    first, second = make_shared_store(), make_shared_store()
    for n in range(30):
        first.add_task(task(f"t{n:02}", T0))
    held = first.claim_due_tasks(T0, "a", 5)
    assert len(held) == 30
    taken = ids(second.claim_due_tasks(T0 + timedelta(seconds=6), "b", LEASE, limit=10))  # a's lease ran out
    assert taken == [f"t{n:02}" for n in range(10)]
    for n, claimed in enumerate(held):
        claimed.next_run_time = None if n % 2 else T0 + timedelta(minutes=3)  # odd ones finished

    answers = first.release_tasks(held, "a")

    assert answers == [claimed.id not in taken for claimed in held]
    for n, claimed in enumerate(held):
        kept = first.lookup_task(claimed.id)
        if claimed.id in taken:
            assert kept is not None and kept.next_run_time == T0, "b's claim: a writes nothing"
        elif n % 2:
            assert kept is None, "a's finished task is gone"
        else:
            assert kept is not None and kept.next_run_time == T0 + timedelta(minutes=3)
    assert set(claims(first).values()) == {None, "b"}
    assert first.release_tasks(held, "a") == [False] * 30, "released claims cannot be released again"


def test_two_owners_racing_for_one_burst_split_it_without_overlap(make_shared_store: StoreFactory) -> None:
    setup = make_shared_store()
    count = 2 * setup.claim_batch + 50
    for n in range(count):
        setup.add_task(task(f"t{n:04}", T0))
    racers = [make_shared_store(), make_shared_store()]
    got: dict[str, list[str]] = {}
    barrier = threading.Barrier(len(racers))

    def claim(owner: str, store: Any) -> None:
        barrier.wait()
        mine: list[str] = []
        while batch := store.claim_due_tasks(T0, owner, LEASE):
            mine.extend(ids(batch))
        got[owner] = mine

    threads = [threading.Thread(target=claim, args=(f"o{n}", store)) for n, store in enumerate(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert len(got) == 2, "both owners finished"
    counts = Counter(task_id for mine in got.values() for task_id in mine)
    assert len(counts) == count and set(counts.values()) == {1}
    stored = claims(setup)
    assert all(stored[task_id] == owner for owner, mine in got.items() for task_id in mine)


# -- the pass ---------------------------------------------------------------------------


def test_one_pass_claims_batch_after_batch_until_the_burst_is_submitted(
    make_burst_store: StoreFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(processing, "BURST_SECONDS", 120.0)  # the test judges batches, not speed
    store = make_burst_store()
    count = 2 * store.claim_batch + 7
    for n in range(count):
        store.add_task(one_off(f"t{n:04}", T0, grace=None))
    claimed: list[int] = []
    claim = store.claim_due_tasks

    def counting_claim(*args: Any, **kwargs: Any) -> list[Task]:
        got = claim(*args, **kwargs)
        claimed.append(len(got))
        return got

    store.claim_due_tasks = counting_claim
    scheduler = scheduler_on(store)

    scheduler.process_tasks(now=T0)

    assert claimed == [store.claim_batch, store.claim_batch, 7], "full claims call for another at once"
    assert sorted(RUNS) == [f"t{n:04}" for n in range(count)]
    assert store.get_all_tasks() == [], "every run done and its finished task deleted"
    scheduler.shutdown()


def test_a_pass_stops_claiming_when_its_time_is_up(
    make_burst_store: StoreFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(processing, "BURST_SECONDS", 0.0)  # store jobs queued behind it get a turn
    store = make_burst_store()
    for n in range(store.claim_batch + 1):
        store.add_task(one_off(f"t{n:04}", T0, grace=None))
    scheduler = scheduler_on(store)

    assert scheduler.process_tasks(now=T0) == 0.0, "the rest is due: the next pass comes at once"
    assert len(RUNS) == store.claim_batch
    scheduler.process_tasks(now=T0)
    assert len(RUNS) == store.claim_batch + 1
    scheduler.shutdown()


def test_missed_runs_are_released_in_bulk_after_every_runnable_run_was_submitted(
    make_burst_store: StoreFactory,
) -> None:
    store = make_burst_store()
    old = [f"old{n:04}" for n in range(store.claim_batch + 20)]  # first in run time order
    new = [f"new{n:02}" for n in range(30)]
    for task_id in old:
        store.add_task(one_off(task_id, T0 - timedelta(minutes=5)))
    for task_id in new:
        store.add_task(one_off(task_id, T0))
    releases: list[tuple[list[str], int]] = []  # (ids released, runs made by then)
    release = store.release_tasks

    def noting_release(tasks: list[Task], owner: str) -> list[bool]:
        releases.append(([t.id for t in tasks], len(RUNS)))  # type: ignore[misc]
        return release(tasks, owner)

    store.release_tasks = noting_release
    scheduler = scheduler_on(store)
    missed: list[str] = []
    removed: list[str] = []
    scheduler.add_listener(lambda event: missed.append(event.task_id), TASK_MISSED)
    scheduler.add_listener(
        lambda event: removed.append(event.task_id) if event.task_id.startswith("old") else None, TASK_REMOVED
    )

    scheduler.process_tasks(now=T0)

    assert sorted(RUNS) == new
    assert sorted(missed) == old
    with_old = [(released, runs) for released, runs in releases if any(i.startswith("old") for i in released)]
    assert sorted(i for released, _ in with_old for i in released) == old
    assert len(with_old) == math.ceil(len(old) / RELEASE_SLICE), "missed runs are released in bulk"
    assert {runs for _, runs in with_old} == {len(new)}, "written back once every runnable run was submitted"
    assert sorted(removed) == old, "a missed one-off task has finished: deleted, and reported"
    assert store.get_all_tasks() == []
    scheduler.shutdown()


def test_two_schedulers_passing_over_one_burst_run_each_task_exactly_once(
    make_burst_store: StoreFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(processing, "BURST_SECONDS", 120.0)
    setup = make_burst_store()
    count = 2 * setup.claim_batch + 100
    for n in range(count):
        setup.add_task(one_off(f"t{n:04}", T0, grace=None))
    schedulers = [scheduler_on(make_burst_store(), f"s{n}") for n in range(2)]
    barrier = threading.Barrier(len(schedulers))
    events: list[SchedulerEvent] = []

    def one_pass(scheduler: ManualScheduler) -> None:
        barrier.wait()
        scheduler.process_tasks(now=T0)

    for scheduler in schedulers:
        scheduler.add_listener(events.append, TASK_MISSED)
    threads = [threading.Thread(target=one_pass, args=(scheduler,)) for scheduler in schedulers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    for scheduler in schedulers:
        scheduler.shutdown()

    counts = Counter(RUNS)
    assert len(counts) == count, f"{count - len(counts)} tasks did not run"
    assert {task_id: n for task_id, n in counts.items() if n > 1} == {}
    assert events == []
    assert setup.get_all_tasks() == []
