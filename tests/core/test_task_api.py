"""The task API of the reference: adding, changing, running, deleting and inspecting tasks."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pydantic
import pytest

from asyncz_like import (
    ALL_TASKS_REMOVED,
    TASK_ADDED,
    TASK_MODIFIED,
    TASK_REMOVED,
    ConflictIdError,
    ManualScheduler,
    SchedulerEvent,
    SchedulerNotRunningError,
    TaskInfo,
    TaskLookupError,
    TaskScheduleState,
)
from asyncz_like.triggers.interval import IntervalTrigger
from tests.core import jobs
from tests.core.clock import FakeClock

UTC = timezone.utc
START = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
def scheduler() -> ManualScheduler:
    jobs.calls.clear()
    return ManualScheduler(timezone="UTC", clock=FakeClock(START))


def minutely() -> IntervalTrigger:
    return IntervalTrigger(minutes=1, start_at=START + timedelta(minutes=1), timezone="UTC")


# -- add_task ----------------------------------------------------------------------


def test_add_task_with_every_option(scheduler: ManualScheduler) -> None:
    scheduler.add_store("memory", "other")
    scheduler.add_executor("debug", "inline")
    scheduler.start()
    task = scheduler.add_task(
        jobs.two_args,
        "interval",
        args=[1],
        kwargs={"b": 2},
        id="sum",
        name="adds numbers",
        mistrigger_grace_time=30,
        coalesce=False,
        max_instances=3,
        store="other",
        executor="inline",
        minutes=5,
        start_at=START,
    )
    assert (task.id, task.name, task.args, task.kwargs) == ("sum", "adds numbers", (1,), {"b": 2})
    assert (task.mistrigger_grace_time, task.coalesce, task.max_instances) == (30.0, False, 3)
    assert (task.store_alias, task.executor) == ("other", "inline")
    assert task.next_run_time == START
    assert scheduler.get_task("sum", "other") is task
    assert scheduler.get_task("sum", "default") is None


def test_textual_reference_and_explicit_next_run_time(scheduler: ManualScheduler) -> None:
    scheduler.start()
    task = scheduler.add_task(
        "tests.core.jobs:record", minutely(), args=["ref"], next_run_time=START + timedelta(seconds=1)
    )
    assert task.fn is jobs.record and task.fn_reference == "tests.core.jobs:record"
    scheduler.process_tasks(now=START + timedelta(seconds=1))
    assert jobs.calls == ["ref"]


def test_next_run_time_none_adds_the_task_paused(scheduler: ManualScheduler) -> None:
    scheduler.start()
    task = scheduler.add_task(jobs.record, minutely(), next_run_time=None)
    assert task.paused and task.schedule_state is TaskScheduleState.PAUSED


def test_task_defaults_apply_where_an_option_is_not_given() -> None:
    scheduler = ManualScheduler(
        timezone="UTC", task_defaults={"coalesce": False, "max_instances": 4, "mistrigger_grace_time": None}
    )
    task = scheduler.add_task(jobs.record, minutely(), max_instances=2)
    assert (task.coalesce, task.max_instances, task.mistrigger_grace_time) == (False, 2, None)


def test_pending_tasks_wait_for_start(scheduler: ManualScheduler) -> None:
    task = scheduler.add_task(jobs.record, minutely(), id="early")
    assert task.pending and task.schedule_state is TaskScheduleState.PENDING
    assert scheduler.get_tasks() == [task]
    scheduler.start()
    assert not task.pending and task.next_run_time == START + timedelta(minutes=1)
    assert scheduler.stores["default"].lookup_task("early") is task


def test_duplicate_id_conflicts_unless_replacing(scheduler: ManualScheduler) -> None:
    scheduler.start()
    scheduler.add_task(jobs.record, minutely(), id="same", args=["old"])
    with pytest.raises(ConflictIdError, match="'same'"):
        scheduler.add_task(jobs.record, minutely(), id="same")
    scheduler.add_task(jobs.record, minutely(), id="same", args=["new"], replace_existing=True)
    assert scheduler.get_task("same").args == ("new",)  # type: ignore[union-attr]
    assert len(scheduler.get_tasks()) == 1


def test_decorator_mode(scheduler: ManualScheduler) -> None:
    scheduler.start()

    @scheduler.add_task(minutely(), id="decorated", args=["d"])
    def job(value: str) -> None:
        jobs.calls.append(value)

    @scheduler.add_task("interval", minutes=1, start_at=START + timedelta(minutes=1), id="by-alias")
    def other() -> None:
        jobs.calls.append("alias")

    assert callable(job)
    assert scheduler.get_task("decorated").fn is job  # type: ignore[union-attr]
    scheduler.process_tasks(now=START + timedelta(minutes=1))
    assert sorted(jobs.calls) == ["alias", "d"]


@pytest.mark.parametrize(
    ("kwargs", "error", "argument"),
    [
        ({"fn": 42}, TypeError, "fn"),
        ({"fn": "no_colon_here"}, ValueError, "fn"),
        ({"fn": "tests.core.jobs:missing"}, AttributeError, "fn"),
        ({"fn": jobs.record, "args": "abc"}, TypeError, "args"),
        ({"fn": jobs.record, "kwargs": [1]}, TypeError, "kwargs"),
        ({"fn": jobs.two_args, "args": [1, 2, 3]}, ValueError, "args/kwargs"),
        ({"fn": jobs.two_args, "kwargs": {"c": 1}}, ValueError, "args/kwargs"),
        ({"fn": jobs.record, "max_instances": 0}, ValueError, "max_instances"),
        ({"fn": jobs.record, "max_instances": 1.5}, ValueError, "max_instances"),
        ({"fn": jobs.record, "mistrigger_grace_time": -1}, ValueError, "mistrigger_grace_time"),
        ({"fn": jobs.record, "coalesce": "yes"}, TypeError, "coalesce"),
        ({"fn": jobs.record, "id": ""}, TypeError, "id"),
    ],
)
def test_bad_input_raises_at_once_naming_the_argument(
    scheduler: ManualScheduler, kwargs: dict[str, object], error: type[Exception], argument: str
) -> None:
    with pytest.raises(error, match=argument):
        scheduler.add_task(trigger=minutely(), **kwargs)  # type: ignore[arg-type]


def test_duplicate_executor_or_store_alias_is_refused(scheduler: ManualScheduler) -> None:
    scheduler.add_store("memory", "extra")
    with pytest.raises(ValueError, match="'extra'"):
        scheduler.add_store("memory", "extra")
    scheduler.add_executor("debug", "extra")
    with pytest.raises(ValueError, match="'extra'"):
        scheduler.add_executor("debug", "extra")


def test_unknown_task_id_raises_task_lookup_error(scheduler: ManualScheduler) -> None:
    scheduler.start()
    for call in (
        scheduler.update_task,
        scheduler.pause_task,
        scheduler.resume_task,
        scheduler.delete_task,
        scheduler.run_task,
    ):
        with pytest.raises(TaskLookupError, match="'ghost'"):
            call("ghost")  # type: ignore[operator]


# -- changing tasks ------------------------------------------------------------------


def test_update_is_all_or_nothing(scheduler: ManualScheduler) -> None:
    scheduler.start()
    events: list[SchedulerEvent] = []
    scheduler.add_listener(events.append, TASK_MODIFIED)
    task = scheduler.add_task(jobs.record, minutely(), id="u", name="before")
    with pytest.raises(ValueError, match="max_instances"):
        scheduler.update_task("u", name="never applied", max_instances=-5)
    assert task.name == "before"
    scheduler.update_task("u", name="after", args=["new"])
    assert (task.name, task.args) == ("after", ("new",))
    assert [e.code for e in events] == [TASK_MODIFIED]


def test_reschedule_pause_resume(scheduler: ManualScheduler) -> None:
    scheduler.start()
    task = scheduler.add_task(jobs.record, minutely(), id="r")
    scheduler.reschedule_task("r", trigger="interval", hours=1, start_at=START + timedelta(hours=1))
    assert task.next_run_time == START + timedelta(hours=1)
    assert str(task.trigger) == "interval[1:00:00]"
    scheduler.pause_task("r")
    assert task.next_run_time is None
    assert scheduler.resume_task("r") is task
    assert task.next_run_time == START + timedelta(hours=1)


def test_resume_of_a_finished_schedule_removes_it(scheduler: ManualScheduler) -> None:
    scheduler.start()
    ended = IntervalTrigger(minutes=1, start_at=START - timedelta(hours=2), end_at=START - timedelta(hours=1))
    scheduler.add_task(jobs.record, ended, id="past", next_run_time=None)
    assert scheduler.resume_task("past") is None
    assert scheduler.get_task("past") is None


def test_task_convenience_methods_go_through_the_scheduler(scheduler: ManualScheduler) -> None:
    scheduler.start()
    events: list[SchedulerEvent] = []
    scheduler.add_listener(events.append, TASK_MODIFIED | TASK_REMOVED)
    task = scheduler.add_task(jobs.record, minutely(), id="c")
    task.update(name="renamed").pause()
    assert task.paused and task.name == "renamed"
    task.resume()
    task.reschedule("interval", seconds=10, start_at=START + timedelta(seconds=10))
    assert task.next_run_time == START + timedelta(seconds=10)
    task.delete()
    assert scheduler.get_task("c") is None
    assert [e.code for e in events] == [TASK_MODIFIED] * 4 + [TASK_REMOVED]


def test_run_task_now(scheduler: ManualScheduler) -> None:
    with pytest.raises(SchedulerNotRunningError):
        scheduler.run_task("anything")
    scheduler.start()
    task = scheduler.add_task(jobs.record, minutely(), args=["now"], id="n")
    assert scheduler.run_task("n") is task  # not due: forced once, schedule unchanged
    assert jobs.calls == ["now"] and task.next_run_time == START + timedelta(minutes=1)
    assert scheduler.run_task("n", force=False) is task
    assert jobs.calls == ["now"]


def test_run_task_remove_finished(scheduler: ManualScheduler) -> None:
    scheduler.start()
    scheduler.add_task(jobs.record, "date", run_at=START, args=["a"], id="a")
    scheduler.add_task(jobs.record, "date", run_at=START, args=["b"], id="b")
    assert scheduler.run_task("a") is None and scheduler.get_task("a") is None
    kept = scheduler.run_task("b", remove_finished=False)
    assert kept is not None and kept.paused
    assert jobs.calls == ["a", "b"]


def test_delete_and_remove_all(scheduler: ManualScheduler) -> None:
    events: list[SchedulerEvent] = []
    scheduler.add_listener(events.append, TASK_ADDED | TASK_REMOVED | ALL_TASKS_REMOVED)
    scheduler.add_task(jobs.record, minutely(), id="pending-one")
    scheduler.delete_task("pending-one")
    scheduler.start()
    for n in range(3):
        scheduler.add_task(jobs.record, minutely(), id=f"t{n}")
    scheduler.delete_task("t0")
    scheduler.remove_all_tasks()
    assert scheduler.get_tasks() == []
    assert [e.code for e in events] == [TASK_REMOVED] + [TASK_ADDED] * 3 + [TASK_REMOVED, ALL_TASKS_REMOVED]


# -- inspecting tasks ------------------------------------------------------------------


def test_snapshots_are_immutable_and_detached(scheduler: ManualScheduler) -> None:
    scheduler.start()
    task = scheduler.add_task(jobs.record, minutely(), id="snap", name="snapshot me")
    info = scheduler.get_task_info("snap")
    assert isinstance(info, TaskInfo)
    assert (info.callable_name, info.callable_reference, info.trigger_alias) == (
        "record",
        "tests.core.jobs:record",
        "interval",
    )
    assert info.schedule_state is TaskScheduleState.SCHEDULED
    with pytest.raises(pydantic.ValidationError):
        info.name = "changed"  # type: ignore[misc]
    task.pause()
    assert info.schedule_state is TaskScheduleState.SCHEDULED
    assert scheduler.get_task_info("snap").schedule_state is TaskScheduleState.PAUSED  # type: ignore[union-attr]
    assert scheduler.get_task_info("missing") is None


def test_get_task_infos_filters_searches_and_sorts(scheduler: ManualScheduler) -> None:
    scheduler.add_executor("debug", "side")
    scheduler.start()
    scheduler.add_task(jobs.record, minutely(), id="b-minutely", name="Beta report")
    scheduler.add_task(
        jobs.double, "date", run_at=START + timedelta(seconds=5), args=[1], id="a-date", name="alpha", executor="side"
    )
    scheduler.add_task(jobs.record, minutely(), id="c-paused", name="gamma", next_run_time=None)
    ids = lambda infos: [info.id for info in infos]  # noqa: E731
    assert ids(scheduler.get_task_infos()) == ["a-date", "b-minutely", "c-paused"]
    assert ids(scheduler.get_task_infos(sort_by="name", descending=True)) == ["c-paused", "b-minutely", "a-date"]
    assert ids(scheduler.get_task_infos(schedule_state="paused")) == ["c-paused"]
    assert ids(scheduler.get_task_infos(schedule_state=TaskScheduleState.SCHEDULED, executor="side")) == ["a-date"]
    assert ids(scheduler.get_task_infos(trigger="interval")) == ["b-minutely", "c-paused"]
    assert ids(scheduler.get_task_infos(trigger="DateTrigger")) == ["a-date"]
    assert ids(scheduler.get_task_infos(q="REPORT")) == ["b-minutely"]
    assert ids(scheduler.get_task_infos(q="jobs:double")) == ["a-date"]
    with pytest.raises(ValueError, match="sort_by"):
        scheduler.get_task_infos(sort_by="colour")
    with pytest.raises(ValueError, match="schedule_state"):
        scheduler.get_task_infos(schedule_state="sleeping")


def test_a_forced_run_of_a_one_shot_task_is_its_run_and_finishes_it(scheduler: ManualScheduler) -> None:
    scheduler.start()
    scheduler.add_task(jobs.record, "date", run_at=START + timedelta(hours=1), args=["once"], id="once")
    assert scheduler.run_task("once") is None, "forced now, the one-shot task is finished and removed"
    assert scheduler.get_task("once") is None
    scheduler.add_task(jobs.record, "date", run_at=START + timedelta(hours=1), args=["kept"], id="kept")
    kept = scheduler.run_task("kept", remove_finished=False)
    assert kept is not None and kept.paused, "kept, paused, instead of running again at its time"
    scheduler.process_tasks(now=START + timedelta(hours=2))
    assert jobs.calls == ["once", "kept"]
