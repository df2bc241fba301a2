"""Task priority on every store, against the real servers: kept across a restart; a claim of
fewer rows than are due takes the highest priorities first; data written before priorities
existed reads as priority 0 (a SQL table of the previous version gets its column); and, in
real time, with one worker and ten runs due at once, the highest priorities start first."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Column, Double, MetaData, String, Table, create_engine, inspect, select

from asyncz_like import TASK_EXECUTED, AsyncIOScheduler, ManualScheduler, SchedulerEvent
from asyncz_like.executors.pool import ThreadPoolExecutor
from asyncz_like.tasks.task import Task
from asyncz_like.triggers.interval import IntervalTrigger
from tests.core import priority_jobs
from tests.stores import _tasks
from tests.stores.conftest import ALL_KINDS, PERSISTENT_KINDS, StoreFactory

UTC = timezone.utc
T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
SHARED_KINDS = ["sqlite", "postgres", "mariadb", "redis", "mongodb"]
SQL_KINDS = ["sqlite", "postgres", "mariadb"]
#: task id -> priority; ids sort differently from priorities on purpose
PRIORITIES = {"a": 3, "b": -1, "c": 7, "d": 0, "e": 5, "f": 2, "g": 9, "h": 1, "i": -4, "j": 6}
BY_PRIORITY = sorted(PRIORITIES, key=lambda task_id: -PRIORITIES[task_id])


def factory_fixture(kinds: list[str]) -> Any:
    @pytest.fixture(params=kinds)
    def fixture(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
        factory = StoreFactory(request.param, tmp_path)
        yield factory
        factory.cleanup()

    return fixture


any_store = factory_fixture(ALL_KINDS)
persistent = factory_fixture(PERSISTENT_KINDS)
shared = factory_fixture(SHARED_KINDS)
sql = factory_fixture(SQL_KINDS)


def task(task_id: str, at: datetime | None, priority: int = 0) -> Task:
    trigger = IntervalTrigger(minutes=1, start_at=at or T0, timezone="UTC")
    made = Task(_tasks.noop, id=task_id, trigger=trigger, next_run_time=at, priority=priority)
    made.pending = False
    return made


def ids(tasks: list[Task]) -> list[str]:
    return [t.id for t in tasks]  # type: ignore[misc]


# -- kept -----------------------------------------------------------------------------------------


def test_priority_survives_a_restart_and_a_change(persistent: StoreFactory) -> None:
    first = ManualScheduler(timezone="UTC", stores={"default": persistent(start=False)})
    first.start()
    first.add_task(_tasks.noop, "interval", minutes=5, id="urgent", priority=8)
    first.add_task(_tasks.noop, "interval", minutes=5, id="plain")
    first.add_task(_tasks.noop, "interval", minutes=5, id="paused", priority=-3, next_run_time=None)
    first.shutdown()

    second = ManualScheduler(timezone="UTC", stores={"default": persistent(start=False)})
    second.start()
    try:
        assert {info.id: info.priority for info in second.get_task_infos()} == {"urgent": 8, "plain": 0, "paused": -3}
        second.update_task("plain", priority=4)
        second.resume_task("paused")
    finally:
        second.shutdown()

    third = ManualScheduler(timezone="UTC", stores={"default": persistent(start=False)})
    third.start()
    try:
        assert {task.id: task.priority for task in third.get_tasks()} == {"urgent": 8, "plain": 4, "paused": -3}
    finally:
        third.shutdown()


# -- claimed in order -----------------------------------------------------------------------------


def test_a_bounded_claim_takes_the_highest_priorities_among_the_due(shared: StoreFactory) -> None:
    store = shared()
    for n, (task_id, priority) in enumerate(PRIORITIES.items()):
        store.add_task(task(task_id, T0 - timedelta(seconds=n), priority))
    store.add_task(task("future", T0 + timedelta(minutes=5), 100))  # not due: never claimed
    first = store.claim_due_tasks(T0, owner="one", lease_seconds=30, limit=3)
    assert ids(first) == BY_PRIORITY[:3]
    second = store.claim_due_tasks(T0, owner="two", lease_seconds=30, limit=4)
    assert ids(second) == BY_PRIORITY[3:7]
    rest = store.claim_due_tasks(T0, owner="three", lease_seconds=30)
    assert ids(rest) == BY_PRIORITY[7:]


def test_equal_priorities_are_claimed_earliest_first(shared: StoreFactory) -> None:
    store = shared()
    store.add_task(task("late", T0, 1))
    store.add_task(task("early", T0 - timedelta(seconds=30), 1))
    store.add_task(task("zero-early", T0 - timedelta(minutes=5), 0))
    store.add_task(task("zero-late", T0 - timedelta(seconds=1), 0))
    store.add_task(task("low", T0 - timedelta(hours=1), -1))
    claimed = store.claim_due_tasks(T0, owner="me", lease_seconds=30, limit=5)
    assert ids(claimed) == ["early", "late", "zero-early", "zero-late", "low"]


def test_a_changed_priority_is_what_the_next_claim_sees(shared: StoreFactory) -> None:
    store = shared()
    for task_id, priority in (("x", 5), ("y", 0), ("z", -5)):
        store.add_task(task(task_id, T0, priority))
    for task_id, priority in (("x", -9), ("z", 9)):
        changed = store.lookup_task(task_id)
        changed.priority = priority
        store.update_task(changed)
    assert ids(store.claim_due_tasks(T0, owner="me", lease_seconds=30, limit=1)) == ["z"]
    # released with a new schedule: still in the claim order, by its new run time
    [z] = [t for t in store.get_all_tasks() if t.id == "z"]
    z.next_run_time = T0 + timedelta(seconds=1)
    assert store.release_tasks([z], "me") == [True]
    assert ids(store.claim_due_tasks(T0 + timedelta(seconds=1), owner="me", lease_seconds=30)) == ["z", "y", "x"]


def test_paused_resumed_and_finished_tasks_keep_the_order_right(shared: StoreFactory) -> None:
    store = shared()
    store.add_task(task("high", T0, 5))
    store.add_task(task("low", T0, 0))
    paused = store.lookup_task("high")
    paused.next_run_time = None
    store.update_task(paused)
    assert ids(store.claim_due_tasks(T0, owner="me", lease_seconds=30)) == ["low"]
    paused.next_run_time = T0
    store.update_task(paused)
    [claimed] = store.claim_due_tasks(T0, owner="me", lease_seconds=30)
    assert claimed.id == "high"
    claimed.next_run_time = None  # finished: the release deletes it
    assert store.release_tasks([claimed], "me") == [True]
    assert ids(store.get_all_tasks()) == ["low"]
    if shared.kind == "redis":  # nothing left behind in the priority keys
        assert store.redis.hlen(store.priorities_key) == 0 and store.redis.zcard(store.prioritized_key) == 0


# -- data written before priorities existed -------------------------------------------------------


def test_a_table_of_the_previous_version_gets_the_priority_column(sql: StoreFactory) -> None:
    location = sql.location()
    current = sql(start=False)
    previous = Table(  # the table as the version before priorities made it
        location["tablename"],
        MetaData(),
        Column("id", current.table.c.id.type, primary_key=True),
        Column("next_run_time", Double(), index=True, nullable=True),
        Column("state", current.table.c.state.type, nullable=False),
        Column("claimed_by", String(191), nullable=True, index=True),
        Column("claim_expires", Double(), nullable=True),
        Column("claimed_at", Double(), nullable=True),
    )
    engine = create_engine(location["url"])

    def insert_as_the_previous_version(task_id: str, at: datetime) -> None:
        state = current.encode_task(task(task_id, at))
        with engine.begin() as conn:
            conn.execute(previous.insert().values(id=task_id, next_run_time=at.timestamp(), state=state))

    try:
        with engine.begin() as conn:
            previous.create(conn)
        insert_as_the_previous_version("old", T0 - timedelta(seconds=10))
        store = sql()  # adds the column instead of failing every pass
        columns = {column["name"]: column for column in inspect(engine).get_columns(location["tablename"])}
        assert "priority" in columns and not columns["priority"]["nullable"]
        with engine.connect() as conn:
            assert conn.execute(select(store.table.c.priority)).scalar() == 0
        # a scheduler of the previous version, still running, inserts without the column
        insert_as_the_previous_version("older-writer", T0 - timedelta(seconds=5))
        store.add_task(task("new-high", T0, 2))
        store.add_task(task("new-low", T0 - timedelta(minutes=1), -2))
        claimed = store.claim_due_tasks(T0, owner="me", lease_seconds=30)
        assert ids(claimed) == ["new-high", "old", "older-writer", "new-low"]
        assert [t.priority for t in claimed] == [2, 0, 0, -2]
        sql()  # a second start finds nothing to add
    finally:
        engine.dispose()


def test_redis_keys_of_the_previous_version_read_as_priority_0(tmp_path: Path) -> None:
    factory = StoreFactory("redis", tmp_path)
    try:
        store = factory()
        old = task("old", T0 - timedelta(seconds=10))
        # what the previous version wrote: the tasks hash and the run times set, nothing else
        store.redis.hset(store.tasks_key, "old", store.encode_task(old))
        store.redis.zadd(store.run_times_key, {"old": old.next_run_time.timestamp()})  # type: ignore[union-attr]
        store.add_task(task("high", T0, 1))
        store.add_task(task("low", T0, -1))
        assert ids(store.claim_due_tasks(T0, owner="me", lease_seconds=30)) == ["high", "old", "low"]
    finally:
        factory.cleanup()


def test_redis_a_schedule_an_older_version_changed_is_still_claimed(tmp_path: Path) -> None:
    """A scheduler of the previous version sharing the keys moves a task's run time without
    knowing the priority keys: the task is still claimed when due (as priority 0)."""
    factory = StoreFactory("redis", tmp_path)
    try:
        store = factory()
        store.add_task(task("moved", T0 + timedelta(hours=1), 5))
        store.add_task(task("other", T0, 0))
        store.redis.zadd(store.run_times_key, {"moved": (T0 - timedelta(seconds=1)).timestamp()})
        assert sorted(ids(store.claim_due_tasks(T0, owner="me", lease_seconds=30))) == ["moved", "other"]
    finally:
        factory.cleanup()


def test_mongodb_documents_of_the_previous_version_get_priority_0(tmp_path: Path) -> None:
    from bson.binary import Binary

    factory = StoreFactory("mongodb", tmp_path)
    try:
        writer = factory()
        old = task("old", T0 - timedelta(seconds=10))
        writer.collection.insert_one(  # what the previous version wrote: no priority field
            {"_id": "old", "next_run_time": old.next_run_time.timestamp(), "state": Binary(writer.encode_task(old))}  # type: ignore[union-attr]
        )
        store = factory()  # starting fills in the field
        assert store.collection.find_one({"_id": "old"})["priority"] == 0
        store.add_task(task("high", T0, 1))
        store.add_task(task("low", T0 - timedelta(minutes=1), -1))
        assert ids(store.claim_due_tasks(T0, owner="me", lease_seconds=30)) == ["high", "old", "low"]
    finally:
        factory.cleanup()


# -- in real time -----------------------------------------------------------------------------------


@pytest.mark.serial
def test_with_one_worker_ten_runs_due_at_once_start_highest_priority_first(
    any_store: StoreFactory, tmp_path: Path
) -> None:
    trace = tmp_path / "started.txt"
    done: list[SchedulerEvent] = []
    scheduler = AsyncIOScheduler(
        timezone="UTC", executors={"default": ThreadPoolExecutor(max_workers=1)}, lease_seconds=30
    )
    scheduler.add_store(any_store(start=False), "default")
    scheduler.add_listener(done.append, TASK_EXECUTED)
    scheduler.start()
    try:
        run_at = datetime.now(UTC) + timedelta(seconds=1.5)
        for task_id, priority in PRIORITIES.items():  # added in id order; due at the same instant
            scheduler.add_task(
                priority_jobs.mark_start, "date", run_at=run_at, args=[str(trace), task_id], id=task_id,
                priority=priority, mistrigger_grace_time=30,
            )  # fmt: skip
        deadline = time.monotonic() + 30
        while len(done) < len(PRIORITIES):
            assert time.monotonic() < deadline, f"only {len(done)} of {len(PRIORITIES)} runs finished"
            time.sleep(0.05)
    finally:
        scheduler.shutdown()
    assert trace.read_text().split() == BY_PRIORITY
