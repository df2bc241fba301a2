"""The claim contract of every store several schedulers may share (SQLite, PostgreSQL,
MariaDB, Redis, MongoDB): each due task goes to exactly one scheduler, under a lease.

Every test runs against the real server (``ASYNCZ_TEST_*_URL``); two store instances on the
same table / keys / collection stand for two scheduler processes.
"""

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


@pytest.fixture(params=["sqlite", "postgres", "mariadb", "redis", "mongodb"])
def make_shared_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    factory = StoreFactory(request.param, tmp_path)
    yield factory
    factory.cleanup()


def task(task_id: str, at: datetime | None) -> Task:
    trigger = IntervalTrigger(minutes=1, start_at=at or T0, timezone="UTC")
    return Task(_tasks.noop, id=task_id, trigger=trigger, next_run_time=at)


def claims(store: Any) -> dict[str, str | None]:
    """Every stored task id -> the owner holding its claim (None when free), read raw."""
    if type(store).__name__ == "SQLAlchemyStore":
        table = store.table
        with store.engine.connect() as conn:
            return dict(conn.execute(select(table.c.id, table.c.claimed_by)).all())  # type: ignore[arg-type]
    if type(store).__name__ == "RedisStore":
        owners = {key.decode(): value.decode() for key, value in store.redis.hgetall(store.owners_key).items()}
        ids = [key.decode() for key in store.redis.hkeys(store.tasks_key)]
        return {task_id: owners[task_id].partition("|")[2] if task_id in owners else None for task_id in ids}
    return {document["_id"]: document.get("claimed_by") for document in store.collection.find({}, ["claimed_by"])}


def ids(tasks: list[Task]) -> list[str]:
    return [t.id for t in tasks]  # type: ignore[misc]


def test_a_due_task_goes_to_one_owner_only(make_shared_store: StoreFactory) -> None:
    first, second = make_shared_store(), make_shared_store()
    first.add_task(task("due", T0))
    first.add_task(task("later", T0 + timedelta(hours=1)))
    assert ids(first.claim_due_tasks(T0, "a", LEASE)) == ["due"]
    assert second.claim_due_tasks(T0 + timedelta(seconds=1), "b", LEASE) == []
    assert first.claim_due_tasks(T0 + timedelta(seconds=1), "a", LEASE) == [], "held, even by the same owner"
    assert claims(second) == {"due": "a", "later": None}


def test_an_expired_claim_is_taken_over_and_marked_interrupted(make_shared_store: StoreFactory) -> None:
    first, second = make_shared_store(), make_shared_store()
    first.add_task(task("due", T0))
    [claimed] = first.claim_due_tasks(T0, "a", LEASE)
    assert claimed.interrupted_at is None
    assert second.claim_due_tasks(T0 + timedelta(seconds=LEASE - 1), "b", LEASE) == [], "the lease is live"
    assert second.claim_due_tasks(T0 + timedelta(seconds=LEASE), "b", LEASE) == [], "expires after, not at"
    [taken] = second.claim_due_tasks(T0 + timedelta(seconds=LEASE + 1), "b", LEASE)
    assert taken.interrupted_at == T0  # when the dead owner claimed it
    assert claims(first) == {"due": "b"}


def test_a_takeover_takes_each_expired_claim_with_its_own_state(make_shared_store: StoreFactory) -> None:
    """Several expired claims, live ones and a free task, stored in another order than the
    claim's: each expired claim comes back as its own task, and nothing else is taken. (The
    MongoDB-wire test server once matched a takeover filter's ``$or`` without its ``_id``, so
    a takeover took whichever expired claim it met first, under the state of that one.)"""
    first, second = make_shared_store(), make_shared_store()
    live_at = T0 + timedelta(seconds=LEASE)
    for name in ("live1", "live0"):
        first.add_task(task(name, live_at))
    for n in reversed(range(5)):
        first.add_task(task(f"dead{n}", T0))
    assert sorted(ids(first.claim_due_tasks(T0, "a", LEASE))) == [f"dead{n}" for n in range(5)]
    assert sorted(ids(first.claim_due_tasks(live_at, "c", LEASE))) == ["live0", "live1"]
    second.add_task(task("free", T0))
    taken = second.claim_due_tasks(T0 + timedelta(seconds=LEASE + 1), "b", LEASE)
    assert sorted(ids(taken)) == ["dead0", "dead1", "dead2", "dead3", "dead4", "free"]
    assert {t.id: t.interrupted_at for t in taken} == {**{f"dead{n}": T0 for n in range(5)}, "free": None}
    assert second.set_aside_count() == 0
    assert claims(first) == {**{f"dead{n}": "b" for n in range(5)}, "live0": "c", "live1": "c", "free": "b"}


def test_a_takeover_of_a_takeover_reports_the_latest_claim(make_shared_store: StoreFactory) -> None:
    store = make_shared_store()
    store.add_task(task("due", T0))
    store.claim_due_tasks(T0, "a", LEASE)
    later = T0 + timedelta(seconds=LEASE + 0.25)
    store.claim_due_tasks(later, "b", LEASE)
    [taken] = store.claim_due_tasks(later + timedelta(seconds=LEASE + 1), "c", LEASE)
    assert taken.interrupted_at == later


def test_release_needs_the_claim_and_writes_the_new_schedule(make_shared_store: StoreFactory) -> None:
    first, second = make_shared_store(), make_shared_store()
    first.add_task(task("due", T0))
    [claimed] = first.claim_due_tasks(T0, "a", LEASE)
    claimed.next_run_time = T0 + timedelta(minutes=1)
    assert second.release_task(claimed, "b") is False
    assert claims(first) == {"due": "a"}
    assert first.lookup_task("due").next_run_time == T0  # type: ignore[union-attr]
    assert first.release_task(claimed, "a") is True
    assert claims(first) == {"due": None}
    assert second.lookup_task("due").next_run_time == T0 + timedelta(minutes=1)  # type: ignore[union-attr]
    assert first.release_task(claimed, "a") is False, "a released claim cannot be released twice"
    assert second.claim_due_tasks(T0 + timedelta(seconds=30), "b", LEASE) == []
    assert ids(second.claim_due_tasks(T0 + timedelta(minutes=1), "b", LEASE)) == ["due"]


def test_release_after_a_takeover_is_refused(make_shared_store: StoreFactory) -> None:
    first, second = make_shared_store(), make_shared_store()
    first.add_task(task("due", T0))
    [mine] = first.claim_due_tasks(T0, "a", LEASE)
    [theirs] = second.claim_due_tasks(T0 + timedelta(seconds=LEASE + 1), "b", LEASE)
    mine.next_run_time = T0 + timedelta(hours=5)
    assert first.release_task(mine, "a") is False
    assert claims(first) == {"due": "b"}
    assert first.lookup_task("due").next_run_time == T0  # type: ignore[union-attr]
    theirs.next_run_time = T0 + timedelta(minutes=1)
    assert second.release_task(theirs, "b") is True


def test_releasing_many_reports_each_task(make_shared_store: StoreFactory) -> None:
    first, second = make_shared_store(), make_shared_store()
    for name in ("x", "y", "z"):
        first.add_task(task(name, T0))
    x, y = first.claim_due_tasks(T0, "a", LEASE, limit=2)
    [z] = second.claim_due_tasks(T0, "b", LEASE)
    for claimed in (x, y, z):
        claimed.next_run_time = T0 + timedelta(minutes=1)
    assert first.release_tasks([x, z, y], "a") == [True, False, True]
    assert claims(first) == {"x": None, "y": None, "z": "b"}
    assert first.release_tasks([], "a") == []


def test_one_release_deletes_the_finished_and_reschedules_the_rest_it_still_holds(
    make_shared_store: StoreFactory,
) -> None:
    first, second = make_shared_store(), make_shared_store()
    for name in ("lost_again", "lost_done", "mine_again", "mine_done"):
        first.add_task(task(name, T0))
    held = {claimed.id: claimed for claimed in first.claim_due_tasks(T0, "a", LEASE)}
    late = T0 + timedelta(seconds=LEASE + 1)  # "a" was too slow: "b" takes two of its tasks over
    assert ids(second.claim_due_tasks(late, "b", LEASE, limit=2)) == ["lost_again", "lost_done"]
    for name, claimed in held.items():
        claimed.next_run_time = None if name.endswith("done") else T0 + timedelta(minutes=7)
        claimed.name = "a's copy"
    batch = [held["mine_done"], held["lost_again"], held["mine_again"], held["lost_done"]]

    assert first.release_tasks(batch, "a") == [True, False, True, False]

    assert first.lookup_task("mine_done") is None
    again = first.lookup_task("mine_again")
    assert again is not None and again.next_run_time == T0 + timedelta(minutes=7) and again.name == "a's copy"
    for name in ("lost_again", "lost_done"):  # untouched: b holds them now
        kept = first.lookup_task(name)
        assert kept is not None and kept.next_run_time == T0 and kept.name != "a's copy"
    assert claims(first) == {"mine_again": None, "lost_again": "b", "lost_done": "b"}


def test_renewing_keeps_a_long_run_claimed(make_shared_store: StoreFactory) -> None:
    first, second = make_shared_store(), make_shared_store()
    first.add_task(task("long", T0))
    first.add_task(task("other", T0))
    first.claim_due_tasks(T0, "a", LEASE, limit=1)
    second.claim_due_tasks(T0, "b", LEASE)
    first.renew_claims("a", LEASE, T0 + timedelta(seconds=4))
    after_first_lease = T0 + timedelta(seconds=LEASE + 1)
    assert ids(first.claim_due_tasks(after_first_lease, "a", LEASE)) == ["other"], "b's lease was not renewed"
    assert second.claim_due_tasks(after_first_lease, "b", LEASE) == [], "a's lease was"
    assert ids(second.claim_due_tasks(T0 + timedelta(seconds=4 + LEASE + 1), "b", LEASE)) == ["long"]


def test_next_run_time_looks_past_claimed_tasks_to_their_expiry(make_shared_store: StoreFactory) -> None:
    store = make_shared_store()
    store.add_task(task("claimed", T0))
    store.add_task(task("future", T0 + timedelta(hours=1)))
    assert store.get_next_run_time() == T0
    store.claim_due_tasks(T0, "a", LEASE)
    assert store.get_next_run_time() == T0 + timedelta(seconds=LEASE)  # wake to take over if "a" dies
    store.renew_claims("a", 7200, T0)
    assert store.get_next_run_time() == T0 + timedelta(hours=1)
    claimed, future = store.claim_due_tasks(T0 + timedelta(hours=3), "b", LEASE)
    claimed.next_run_time, future.next_run_time = T0 + timedelta(hours=4), T0 + timedelta(hours=5)
    assert store.release_task(future, "b")
    assert store.get_next_run_time() == T0 + timedelta(hours=3, seconds=LEASE)
    assert store.release_task(claimed, "b")
    assert store.get_next_run_time() == T0 + timedelta(hours=4)


def test_next_run_time_walks_past_many_claimed_tasks(make_shared_store: StoreFactory) -> None:
    store = make_shared_store()
    for n in range(450):
        store.add_task(task(f"t{n:03}", T0 + timedelta(seconds=n)))
    store.add_task(task("free", T0 + timedelta(seconds=500)))
    assert len(store.claim_due_tasks(T0 + timedelta(seconds=449), "a", 3600, limit=450)) == 450
    assert store.get_next_run_time() == T0 + timedelta(seconds=500)


def test_an_unrestorable_task_is_set_aside_not_held(make_shared_store: StoreFactory) -> None:
    store = make_shared_store()
    store.add_task(task("broken", T0))
    store.add_task(task("healthy", T0))
    write_raw_state(store, "broken", b"not a pickle")
    assert ids(store.claim_due_tasks(T0, "a", LEASE)) == ["healthy"]
    assert claims(store) == {"broken": None, "healthy": "a"}
    assert [entry.task_id for entry in store.get_set_aside_tasks()] == ["broken"]
    assert store.get_next_run_time() == T0 + timedelta(seconds=LEASE), "looks past the set-aside task"


def test_plain_reads_and_writes_still_see_claimed_tasks(make_shared_store: StoreFactory) -> None:
    store = make_shared_store()
    store.add_task(task("a1", T0))
    store.add_task(task("a2", T0 + timedelta(seconds=1)))
    store.claim_due_tasks(T0, "a", LEASE)
    assert ids(store.get_due_tasks(T0 + timedelta(seconds=1))) == ["a1", "a2"]
    assert ids(store.get_all_tasks()) == ["a1", "a2"]
    store.update_task(task("a1", T0 + timedelta(minutes=5)))
    assert claims(store) == {"a1": None, "a2": None}, "a change made during a run ends its claim"
    store.delete_task("a1")
    store.add_task(task("a1", T0))
    assert claims(store) == {"a1": None, "a2": None}, "deleting drops the claim with the task"
    store.remove_all_tasks()
    assert claims(store) == {} and store.get_next_run_time() is None


def test_a_change_made_while_a_run_is_in_flight_survives_that_runs_release(make_shared_store: StoreFactory) -> None:
    """Another process pauses (or reschedules) a task that a scheduler is running: the run's
    release must not write the schedule it started with back over the change."""
    store = make_shared_store()
    store.add_task(task("a1", T0))
    (claimed,) = store.claim_due_tasks(T0, "a", LEASE)
    store.update_task(task("a1", None))  # paused elsewhere, mid-run
    claimed.next_run_time = T0 + timedelta(seconds=1)
    assert store.release_tasks([claimed], "a") == [False]
    (stored,) = store.get_all_tasks()
    assert stored.next_run_time is None, "the pause stands"


def test_claim_arguments_are_checked(make_shared_store: StoreFactory) -> None:
    store = make_shared_store()
    with pytest.raises(ValueError, match="owner"):
        store.claim_due_tasks(T0, "", LEASE)
    with pytest.raises(ValueError, match="lease_seconds"):
        store.claim_due_tasks(T0, "a", 0)


def test_racing_owners_each_get_a_disjoint_share(make_shared_store: StoreFactory) -> None:
    setup = make_shared_store()
    for n in range(200):
        setup.add_task(task(f"t{n:03}", T0))
    stores = [make_shared_store() for _ in range(4)]  # each its own client and connection
    got: dict[str, list[str]] = {}
    barrier = threading.Barrier(len(stores))

    def claim(owner: str, store: Any) -> None:
        barrier.wait()
        mine: list[str] = []
        while batch := store.claim_due_tasks(T0, owner, LEASE, limit=10):
            mine.extend(ids(batch))
        got[owner] = mine

    threads = [threading.Thread(target=claim, args=(f"owner{n}", store)) for n, store in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(got) == 4, "every thread finished"
    counts = Counter(task_id for mine in got.values() for task_id in mine)
    assert len(counts) == 200 and set(counts.values()) == {1}
    assert set(claims(setup).values()) <= set(got)


@pytest.mark.parametrize("claims_key", ["k.tasks", "k.times", ""])
def test_a_redis_claims_key_must_not_clash_with_the_task_keys(claims_key: str) -> None:
    from asyncz_like.stores.redis import RedisStore

    with pytest.raises(ValueError, match="claims_key"):
        RedisStore(tasks_key="k.tasks", run_times_key="k.times", claims_key=claims_key)


def test_releasing_a_finished_task_deletes_it_only_for_its_owner(make_shared_store: StoreFactory) -> None:
    first, second = make_shared_store(), make_shared_store()
    first.add_task(task("once", T0))
    [claimed] = first.claim_due_tasks(T0, "a", LEASE)
    claimed.next_run_time = None  # its trigger has nothing left
    assert second.release_tasks([claimed], "b") == [False]
    assert first.lookup_task("once") is not None
    assert first.release_tasks([claimed], "a") == [True]
    assert first.lookup_task("once") is None and claims(first) == {}
