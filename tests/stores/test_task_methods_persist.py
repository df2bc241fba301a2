"""The Task methods that change a task save the change, on every store.

A user porting asyncz's ``job.modify(name=...)`` writes ``task.update_task(name=...)``:
the change must reach the store (a fresh lookup sees it), not only the object in hand.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from asyncz_like import ManualScheduler, Task, TaskScheduleState
from tests.stores.conftest import StoreFactory

NOON = datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def scheduler(make_store: StoreFactory) -> ManualScheduler:
    """A running scheduler on one store of each kind, with one stored task ``report``."""
    scheduler = ManualScheduler(timezone="UTC", clock=lambda: NOON)
    scheduler.add_store(make_store(start=False))
    scheduler.start()
    scheduler.add_task("math:sqrt", "interval", minutes=5, start_at=NOON, args=[16], id="report")
    yield scheduler  # type: ignore[misc]
    scheduler.shutdown()


def fresh(scheduler: ManualScheduler) -> Task:
    task = scheduler.get_task("report")
    assert task is not None
    return task


def test_update_task_on_the_task_is_saved(scheduler: ManualScheduler) -> None:
    task = fresh(scheduler)
    task.update_task(name="nightly report", max_instances=3)
    assert (fresh(scheduler).name, fresh(scheduler).max_instances) == ("nightly report", 3)
    assert task.name == "nightly report"


def test_update_task_on_the_task_validates_everything_first(scheduler: ManualScheduler) -> None:
    task = fresh(scheduler)
    with pytest.raises(ValueError, match="max_instances"):
        task.update_task(name="never applied", max_instances=0)
    assert fresh(scheduler).name == "sqrt"
    assert task.name == "sqrt"


def test_update_pause_resume_reschedule_are_saved_and_seen_on_the_object(scheduler: ManualScheduler) -> None:
    task = fresh(scheduler)
    assert task.update(name="renamed") is task
    assert fresh(scheduler).name == "renamed"

    task.pause()
    assert task.schedule_state is TaskScheduleState.PAUSED
    assert fresh(scheduler).schedule_state is TaskScheduleState.PAUSED

    task.resume()
    assert task.next_run_time == fresh(scheduler).next_run_time == NOON  # due again from now on

    task.reschedule("cron", hour=18)
    assert str(task.trigger) == str(fresh(scheduler).trigger) == "cron[hour='18']"
    assert task.next_run_time == fresh(scheduler).next_run_time == datetime(2026, 3, 2, 18, 0, tzinfo=timezone.utc)


def test_a_task_not_yet_added_changes_only_itself() -> None:
    """Before ``add_task`` there is no store to save to: the object itself changes."""
    task = Task("math:sqrt", id="loose", args=[4])
    task.update_task(name="still loose", args=[9])
    assert (task.name, task.args) == ("still loose", (9,))


def test_a_pending_task_changes_in_the_scheduler() -> None:
    """Added before ``start()``: the change is kept for when the scheduler commits it."""
    scheduler = ManualScheduler(timezone="UTC", clock=lambda: NOON)
    task = scheduler.add_task("math:sqrt", "interval", minutes=5, args=[16], id="early")
    task.update_task(name="early bird")
    scheduler.start()
    try:
        assert fresh_name(scheduler, "early") == "early bird"
    finally:
        scheduler.shutdown()


def fresh_name(scheduler: ManualScheduler, task_id: str) -> str | None:
    task = scheduler.get_task(task_id)
    assert task is not None
    return task.name
