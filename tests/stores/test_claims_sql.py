"""Claims on SQL stores: each due row goes to exactly one scheduler, under a lease."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from asyncz_like.tasks.task import Task
from asyncz_like.triggers.interval import IntervalTrigger
from tests.stores import _tasks
from tests.stores._raw import write_raw_state
from tests.stores.conftest import StoreFactory

UTC = timezone.utc
T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
LEASE = 5.0


@pytest.fixture(params=["sqlite", "postgres", "mariadb"])
def make_sql_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    factory = StoreFactory(request.param, tmp_path)
    yield factory
    factory.cleanup()


def task(task_id: str, at: datetime) -> Task:
    trigger = IntervalTrigger(minutes=1, start_at=at, timezone="UTC")
    return Task(_tasks.noop, id=task_id, trigger=trigger, next_run_time=at)


def claims(store: Any) -> dict[str, Any]:
    table = store.table
    with store.engine.connect() as conn:
        return dict(conn.execute(select(table.c.id, table.c.claimed_by)).all())


def test_a_due_row_goes_to_one_owner_only(make_sql_store: StoreFactory) -> None:
    first, second = make_sql_store(), make_sql_store()
    first.add_task(task("due", T0))
    first.add_task(task("later", T0 + timedelta(hours=1)))
    assert [t.id for t in first.claim_due_tasks(T0, "a", LEASE)] == ["due"]
    assert second.claim_due_tasks(T0 + timedelta(seconds=1), "b", LEASE) == []
    assert claims(first) == {"due": "a", "later": None}


def test_an_expired_claim_is_taken_over_and_marked_interrupted(make_sql_store: StoreFactory) -> None:
    first, second = make_sql_store(), make_sql_store()
    first.add_task(task("due", T0))
    [claimed] = first.claim_due_tasks(T0, "a", LEASE)
    assert claimed.interrupted_at is None
    assert second.claim_due_tasks(T0 + timedelta(seconds=LEASE - 1), "b", LEASE) == []  # lease still live
    [taken] = second.claim_due_tasks(T0 + timedelta(seconds=LEASE + 1), "b", LEASE)
    assert taken.interrupted_at == T0
    assert claims(second) == {"due": "b"}


def test_release_needs_the_claim_and_writes_the_new_schedule(make_sql_store: StoreFactory) -> None:
    first, second = make_sql_store(), make_sql_store()
    first.add_task(task("due", T0))
    [claimed] = first.claim_due_tasks(T0, "a", LEASE)
    claimed.next_run_time = T0 + timedelta(minutes=1)
    assert second.release_task(claimed, "b") is False
    assert claims(first) == {"due": "a"}
    assert first.lookup_task("due").next_run_time == T0  # type: ignore[union-attr]
    assert first.release_task(claimed, "a") is True
    assert claims(first) == {"due": None}
    assert first.lookup_task("due").next_run_time == T0 + timedelta(minutes=1)  # type: ignore[union-attr]
    assert [t.id for t in second.claim_due_tasks(T0 + timedelta(minutes=1), "b", LEASE)] == ["due"]


def test_renewing_keeps_a_long_run_claimed(make_sql_store: StoreFactory) -> None:
    first, second = make_sql_store(), make_sql_store()
    first.add_task(task("long", T0))
    first.claim_due_tasks(T0, "a", LEASE)
    first.renew_claims("a", LEASE, T0 + timedelta(seconds=4))
    assert second.claim_due_tasks(T0 + timedelta(seconds=LEASE + 1), "b", LEASE) == []
    assert len(second.claim_due_tasks(T0 + timedelta(seconds=4 + LEASE + 1), "b", LEASE)) == 1


def test_next_run_time_looks_past_claimed_rows_to_their_expiry(make_sql_store: StoreFactory) -> None:
    store = make_sql_store()
    store.add_task(task("claimed", T0))
    store.add_task(task("future", T0 + timedelta(hours=1)))
    assert store.get_next_run_time() == T0
    store.claim_due_tasks(T0, "a", LEASE)
    assert store.get_next_run_time() == T0 + timedelta(seconds=LEASE)  # wake to take over if "a" dies
    store.claim_due_tasks(T0, "a", LEASE)
    store.renew_claims("a", 7200, T0)
    assert store.get_next_run_time() == T0 + timedelta(hours=1)


def test_an_unrestorable_row_is_set_aside_not_held(make_sql_store: StoreFactory) -> None:
    store = make_sql_store()
    store.add_task(task("broken", T0))
    store.add_task(task("healthy", T0))
    write_raw_state(store, "broken", b"not a pickle")
    assert [t.id for t in store.claim_due_tasks(T0, "a", LEASE)] == ["healthy"]
    assert claims(store) == {"broken": None, "healthy": "a"}
    assert [entry.task_id for entry in store.get_set_aside_tasks()] == ["broken"]


def test_racing_owners_each_get_a_disjoint_share(make_sql_store: StoreFactory) -> None:
    setup = make_sql_store()
    for n in range(200):
        setup.add_task(task(f"t{n:03}", T0))
    stores = [make_sql_store() for _ in range(4)]
    got: dict[str, list[str]] = {}
    barrier = threading.Barrier(len(stores))

    def claim(owner: str, store: Any) -> None:
        barrier.wait()
        mine: list[str] = []
        while batch := store.claim_due_tasks(T0, owner, LEASE, limit=25):
            mine.extend(t.id for t in batch)
        got[owner] = mine

    threads = [threading.Thread(target=claim, args=(f"owner{n}", store)) for n, store in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    counts = Counter(task_id for ids in got.values() for task_id in ids)
    assert len(counts) == 200 and set(counts.values()) == {1}
