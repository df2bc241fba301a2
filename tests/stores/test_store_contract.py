"""The store contract, held against every store (memory, file, SQLite, PostgreSQL,
MariaDB, Redis, MongoDB-wire) on real servers."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from asyncz_like.exceptions import ConflictIdError, TaskLookupError
from asyncz_like.tasks.task import Task
from asyncz_like.triggers.cron.trigger import CronTrigger
from asyncz_like.triggers.interval import IntervalTrigger
from tests.stores import _tasks

UTC = timezone.utc
T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def make_task(task_id: str, next_run_time: datetime | None, **options: Any) -> Task:
    options.setdefault("trigger", IntervalTrigger(minutes=5, start_at=T0, timezone="UTC"))
    options.setdefault("fn", _tasks.noop)
    return Task(id=task_id, next_run_time=next_run_time, **options)


def ids(tasks: list[Task]) -> list[str | None]:
    return [task.id for task in tasks]


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_added_task_is_found_by_id_with_everything_it_was_given(store: Any) -> None:
    trigger = CronTrigger(hour="*/2", minute=5, timezone="Europe/Berlin")
    store.add_task(
        make_task("a", at(10), args=(1, "two"), kwargs={"three": [3]}, trigger=trigger, name="nightly", coalesce=False)
    )

    found = store.lookup_task("a")

    assert found is not None
    assert (found.id, found.name, found.fn, found.args, found.kwargs) == (
        "a",
        "nightly",
        _tasks.noop,
        (1, "two"),
        {"three": [3]},
    )
    assert found.trigger == trigger
    assert found.next_run_time == at(10)
    assert found.coalesce is False


def test_lookup_of_an_unknown_id_is_none(store: Any) -> None:
    assert store.lookup_task("nope") is None


def test_adding_an_existing_id_raises_conflict_and_keeps_the_first(store: Any) -> None:
    store.add_task(make_task("a", at(10), args=(1,)))

    with pytest.raises(ConflictIdError, match="'a'"):
        store.add_task(make_task("a", at(20), args=(2,)))

    assert store.lookup_task("a").args == (1,)
    assert ids(store.get_all_tasks()) == ["a"]


def test_update_replaces_the_stored_task(store: Any) -> None:
    store.add_task(make_task("a", at(10), args=(1,)))

    store.update_task(make_task("a", at(30), args=(2,)))

    found = store.lookup_task("a")
    assert (found.args, found.next_run_time) == ((2,), at(30))
    assert store.get_next_run_time() == at(30)


def test_update_of_an_unknown_id_raises_lookup_error_and_adds_nothing(store: Any) -> None:
    with pytest.raises(TaskLookupError, match="'ghost'"):
        store.update_task(make_task("ghost", at(10)))
    assert store.get_all_tasks() == []


def test_delete_removes_the_task(store: Any) -> None:
    store.add_task(make_task("a", at(10)))
    store.add_task(make_task("b", at(20)))

    store.delete_task("a")

    assert store.lookup_task("a") is None
    assert ids(store.get_all_tasks()) == ["b"]
    assert store.get_due_tasks(at(100)) and ids(store.get_due_tasks(at(100))) == ["b"]


def test_delete_of_an_unknown_id_raises_lookup_error(store: Any) -> None:
    with pytest.raises(TaskLookupError, match="'ghost'"):
        store.delete_task("ghost")


def test_due_tasks_come_in_next_run_order_without_paused_or_future_ones(store: Any) -> None:
    store.add_task(make_task("late", at(30)))
    store.add_task(make_task("early", at(10)))
    store.add_task(make_task("paused", None))
    store.add_task(make_task("future", at(90)))
    store.add_task(make_task("middle", at(20)))

    assert ids(store.get_due_tasks(at(30))) == ["early", "middle", "late"]  # due at exactly now counts
    assert ids(store.get_due_tasks(at(29.999))) == ["early", "middle"]
    assert store.get_due_tasks(at(9)) == []


def test_pausing_through_update_takes_a_task_out_of_the_due_list(store: Any) -> None:
    store.add_task(make_task("a", at(10)))

    store.update_task(make_task("a", None))

    assert store.get_due_tasks(at(1000)) == []
    assert store.get_next_run_time() is None
    assert ids(store.get_all_tasks()) == ["a"]


def test_next_run_time_is_the_earliest_scheduled_one(store: Any) -> None:
    assert store.get_next_run_time() is None
    store.add_task(make_task("paused", None))
    assert store.get_next_run_time() is None

    store.add_task(make_task("b", at(20)))
    store.add_task(make_task("a", at(10.5)))

    assert store.get_next_run_time() == at(10.5)


def test_all_tasks_are_ordered_by_next_run_time_with_paused_last(store: Any) -> None:
    store.add_task(make_task("p2", None))
    store.add_task(make_task("c", at(30)))
    store.add_task(make_task("p1", None))
    store.add_task(make_task("a", at(10)))
    store.add_task(make_task("b", at(20)))

    found = ids(store.get_all_tasks())
    assert found[:3] == ["a", "b", "c"]
    assert sorted(found[3:]) == ["p1", "p2"]  # the contract leaves the order of paused tasks open


def test_remove_all_tasks_empties_the_store(store: Any) -> None:
    for index in range(3):
        store.add_task(make_task(f"t{index}", at(index)))
    store.add_task(make_task("paused", None))

    store.remove_all_tasks()

    assert store.get_all_tasks() == []
    assert store.get_due_tasks(at(1000)) == []
    assert store.get_next_run_time() is None
    store.add_task(make_task("t0", at(1)))  # the id is free again
    assert ids(store.get_all_tasks()) == ["t0"]


def test_tasks_survive_a_new_store_instance(make_persistent_store: Any) -> None:
    first = make_persistent_store()
    first.add_task(make_task("a", at(10), args=("kept",)))
    first.add_task(make_task("paused", None))
    first.shutdown()

    second = make_persistent_store()

    assert ids(second.get_all_tasks()) == ["a", "paused"]  # paused last
    assert ids(second.get_due_tasks(at(10))) == ["a"]
    assert second.lookup_task("a").args == ("kept",)
    assert second.get_next_run_time() == at(10)


def test_ids_with_odd_characters_are_kept_apart(store: Any) -> None:
    odd = ["a/b", "a b", "ä:ö", "../x", "A", "a"]
    for index, task_id in enumerate(odd):
        store.add_task(make_task(task_id, at(index)))

    assert ids(store.get_due_tasks(at(100))) == odd
    assert store.lookup_task("../x").id == "../x"
