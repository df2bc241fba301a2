"""Small behaviours that differed from the asyncz reference, each stated as asyncz has it.

Every scheduler here runs on an explicit clock (``ManualScheduler(clock=...)``), so the
tests say exactly when things happen without sleeping.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from asyncz_like import ManualScheduler
from asyncz_like.triggers import CronTrigger, IntervalTrigger, OrTrigger
from tests.compat import asyncz_jobs
from tests.core.clock import FakeClock

UTC = timezone.utc
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
START = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
def scheduler() -> ManualScheduler:
    asyncz_jobs.calls.clear()
    return ManualScheduler(timezone="UTC", clock=FakeClock(START))


# -- Task methods return the task -----------------------------------------------------------


def test_task_delete_and_resume_return_the_task_as_in_asyncz(scheduler: ManualScheduler) -> None:
    scheduler.start()
    task = scheduler.add_task(asyncz_jobs.tick, "interval", minutes=5, id="t")
    assert task.pause() is task
    assert task.resume() is task
    assert task.update(name="renamed") is task
    assert task.reschedule("interval", minutes=10) is task
    assert task.delete() is task
    assert scheduler.get_task("t") is None


# -- TaskInfo.submitted: asyncz's meaning ----------------------------------------------------


def test_submitted_means_handed_to_a_scheduler_even_before_it_starts(scheduler: ManualScheduler) -> None:
    scheduler.add_task(asyncz_jobs.tick, "interval", minutes=5, id="early")
    info = scheduler.get_task_info("early")
    assert info is not None and info.pending and info.submitted
    scheduler.start()
    info = scheduler.get_task_info("early")
    assert info is not None and not info.pending and info.submitted


def test_tasks_restored_from_a_persistent_store_are_submitted(tmp_path: Path) -> None:
    scheduler = ManualScheduler(timezone="UTC", clock=FakeClock(START))
    scheduler.add_store(f"sqlite:///{tmp_path / 'tasks.db'}", "db")
    scheduler.start()
    scheduler.add_task("tests.compat.asyncz_jobs:tick", "interval", minutes=5, id="stored", store="db")
    infos = scheduler.get_task_infos(store="db")
    assert [(info.id, info.submitted) for info in infos] == [("stored", True)]
    scheduler.shutdown()


# -- get_task_infos: trigger filter and stable order ------------------------------------------


def test_the_trigger_filter_ignores_case_and_surrounding_spaces(scheduler: ManualScheduler) -> None:
    scheduler.start()
    scheduler.add_task(asyncz_jobs.tick, "cron", minute="*/5", id="c")
    scheduler.add_task(asyncz_jobs.tick, "interval", minutes=5, id="i")
    for wanted in ("cron", " CRON ", "Cron", "crontrigger", "CronTrigger "):
        assert [info.id for info in scheduler.get_task_infos(trigger=wanted)] == ["c"], wanted


@pytest.mark.parametrize("sort_by", ["next_run_time", "name", "executor", "store", "trigger", "schedule_state"])
def test_ties_in_sort_by_are_listed_by_id(scheduler: ManualScheduler, sort_by: str) -> None:
    scheduler.start()
    first = START + timedelta(hours=1)
    for task_id in ("c", "a", "B", "d"):  # same run time, name, executor, store and trigger
        scheduler.add_task(asyncz_jobs.tick, "date", run_at=first, id=task_id, name="same")
    listed = [info.id for info in scheduler.get_task_infos(sort_by=sort_by)]
    assert listed == ["a", "B", "c", "d"]
    descending = [info.id for info in scheduler.get_task_infos(sort_by=sort_by, descending=True)]
    assert descending == ["d", "c", "B", "a"]


# -- exception classes: what asyncz raises is still what they are -----------------------------


def test_an_unimportable_module_reference_is_a_lookup_error_and_an_import_error(scheduler: ManualScheduler) -> None:
    with pytest.raises(LookupError, match="no_such_module_xyz") as caught:
        scheduler.add_task("no_such_module_xyz:run", "interval", minutes=1)
    assert isinstance(caught.value, ImportError)


def test_a_missing_name_in_a_reference_is_a_lookup_error_and_an_attribute_error(scheduler: ManualScheduler) -> None:
    with pytest.raises(LookupError, match="missing") as caught:
        scheduler.add_task("tests.compat.asyncz_jobs:missing", "interval", minutes=1)
    assert isinstance(caught.value, AttributeError)


def test_changing_a_field_a_task_does_not_have_is_an_attribute_error(scheduler: ManualScheduler) -> None:
    scheduler.start()
    scheduler.add_task(asyncz_jobs.tick, "interval", minutes=5, id="t")
    with pytest.raises(AttributeError, match="colour") as caught:
        scheduler.update_task("t", colour="blue")
    assert isinstance(caught.value, TypeError)  # what earlier releases raised


@pytest.mark.parametrize(
    ("change", "argument"),
    [
        ({"max_instances": 0}, "max_instances"),
        ({"max_instances": "two"}, "max_instances"),
        ({"mistrigger_grace_time": -1}, "mistrigger_grace_time"),
        ({"mistrigger_grace_time": "soon"}, "mistrigger_grace_time"),
        ({"name": 5}, "name"),
        ({"executor": 5}, "executor"),
        ({"args": "abc"}, "args"),
        ({"kwargs": [1, 2]}, "kwargs"),
    ],
)
def test_bad_task_options_raise_type_error_where_asyncz_does(
    scheduler: ManualScheduler, change: dict[str, object], argument: str
) -> None:
    scheduler.start()
    scheduler.add_task(asyncz_jobs.tick, "interval", minutes=5, id="t")
    with pytest.raises(TypeError, match=argument):
        scheduler.update_task("t", **change)


# -- interval phase and the scheduler's clock --------------------------------------------------


def test_an_explicit_next_run_time_sets_the_phase_of_an_interval_without_start_at() -> None:
    """The issue's example: daily at 14:23, first run at 03:00 -> 03:00 every day, as asyncz."""
    clock = FakeClock(datetime(2026, 3, 2, 14, 23, tzinfo=UTC))
    scheduler = ManualScheduler(timezone="UTC", clock=clock)
    scheduler.start()
    first = datetime(2026, 3, 3, 3, 0, tzinfo=UTC)
    task = scheduler.add_task(asyncz_jobs.tick, "interval", days=1, next_run_time=first, id="nightly")
    assert task.next_run_time == first
    clock.current = first
    scheduler.process_tasks()
    assert scheduler.get_task("nightly").next_run_time == first + timedelta(days=1)  # type: ignore[union-attr]
    assert len(asyncz_jobs.calls) == 1


def test_an_interval_without_start_at_starts_on_the_schedulers_clock(scheduler: ManualScheduler) -> None:
    scheduler.start()
    by_alias = scheduler.add_task(asyncz_jobs.tick, "interval", minutes=5, id="alias")
    by_instance = scheduler.add_task(asyncz_jobs.tick, IntervalTrigger(minutes=5), id="instance")
    assert by_alias.next_run_time == START + timedelta(minutes=5)
    assert by_instance.next_run_time == START + timedelta(minutes=5)


def test_an_interval_added_before_start_is_placed_on_the_clock_when_added() -> None:
    clock = FakeClock(START)
    scheduler = ManualScheduler(timezone="UTC", clock=clock)
    scheduler.add_task(asyncz_jobs.tick, IntervalTrigger(minutes=5), id="early")
    clock.advance(minutes=2)
    scheduler.start()
    assert scheduler.get_task("early").next_run_time == START + timedelta(minutes=5)  # type: ignore[union-attr]


def test_an_explicit_start_at_is_never_moved(scheduler: ManualScheduler) -> None:
    scheduler.start()
    anchor = START + timedelta(seconds=30)
    task = scheduler.add_task(asyncz_jobs.tick, IntervalTrigger(minutes=5, start_at=anchor), id="anchored")
    assert task.next_run_time == anchor
    scheduler.reschedule_task("anchored", trigger=IntervalTrigger(minutes=5, start_at=anchor))
    assert scheduler.get_task("anchored").next_run_time == anchor  # type: ignore[union-attr]


# -- cron without a zone: the scheduler's zone --------------------------------------------------


@pytest.fixture
def host_in_new_york(monkeypatch: pytest.MonkeyPatch) -> tzinfo:
    """The host's zone differs from the scheduler's, so the two cannot be confused."""
    from asyncz_like.triggers.cron import trigger as cron_module

    monkeypatch.setattr(cron_module, "local_timezone", lambda: NEW_YORK)
    return NEW_YORK


@pytest.mark.parametrize(
    "make_trigger",
    [lambda: CronTrigger(hour=9), lambda: CronTrigger.from_crontab("0 9 * * *")],
    ids=["keywords", "crontab"],
)
def test_a_cron_trigger_without_a_zone_fires_in_the_schedulers_zone(host_in_new_york: tzinfo, make_trigger) -> None:  # type: ignore[no-untyped-def]
    now = datetime(2026, 3, 2, 7, 0, tzinfo=BERLIN)
    scheduler = ManualScheduler(timezone="Europe/Berlin", clock=FakeClock(now))
    scheduler.start()
    task = scheduler.add_task(asyncz_jobs.tick, make_trigger(), id="nine")
    assert task.next_run_time == datetime(2026, 3, 2, 9, 0, tzinfo=BERLIN)
    assert task.next_run_time.utcoffset() == timedelta(hours=1)  # type: ignore[union-attr]


def test_a_zone_less_cron_added_before_start_and_in_a_combination_uses_the_schedulers_zone(
    host_in_new_york: tzinfo,
) -> None:
    now = datetime(2026, 3, 2, 7, 0, tzinfo=BERLIN)
    scheduler = ManualScheduler(timezone="Europe/Berlin", clock=FakeClock(now))
    scheduler.add_task(asyncz_jobs.tick, CronTrigger(hour=9), id="pending")
    scheduler.add_task(asyncz_jobs.tick, OrTrigger([CronTrigger(hour=9), CronTrigger(hour=21)]), id="either")
    scheduler.start()
    nine = datetime(2026, 3, 2, 9, 0, tzinfo=BERLIN)
    assert [info.next_run_time for info in scheduler.get_task_infos(sort_by="id")] == [nine, nine]


def test_a_zone_less_cron_reads_its_naive_start_in_the_schedulers_zone(host_in_new_york: tzinfo) -> None:
    now = datetime(2026, 3, 2, 7, 0, tzinfo=BERLIN)
    scheduler = ManualScheduler(timezone="Europe/Berlin", clock=FakeClock(now))
    scheduler.start()
    task = scheduler.add_task(asyncz_jobs.tick, CronTrigger(minute=0, start_at=datetime(2026, 3, 2, 8, 30)), id="t")
    assert task.next_run_time == datetime(2026, 3, 2, 9, 0, tzinfo=BERLIN)


def test_a_cron_trigger_with_a_zone_keeps_it(host_in_new_york: tzinfo) -> None:
    now = datetime(2026, 3, 2, 7, 0, tzinfo=BERLIN)
    scheduler = ManualScheduler(timezone="Europe/Berlin", clock=FakeClock(now))
    scheduler.start()
    task = scheduler.add_task(asyncz_jobs.tick, CronTrigger(hour=9, timezone="UTC"), id="utc")
    assert task.next_run_time == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("call", "kind"),
    [
        (lambda s: s.add_executor(5, "x"), TypeError),
        (lambda s: s.add_store(5, "x"), TypeError),
        (lambda s: s.add_executor("debug", "default"), ValueError),  # the alias is taken
        (lambda s: s.add_store("memory", "default"), ValueError),
        (lambda s: s.add_task(asyncz_jobs.tick, 5), TypeError),  # neither an alias nor a trigger
        (lambda s: s.add_task(asyncz_jobs.tick, "no_such_trigger"), LookupError),
        (lambda s: s.add_task(5, "interval", minutes=1), TypeError),  # not callable
        (lambda s: s.add_task(asyncz_jobs.tick, "interval", minutes=1, name=5), TypeError),
        (lambda s: s.add_task(asyncz_jobs.tick, "interval", minutes=1, executor=5), TypeError),
        (lambda s: s.add_task(asyncz_jobs.tick, "interval", minutes=1, store=5), TypeError),
        (lambda s: s.add_task(asyncz_jobs.tick, "interval", minutes=1, args="ab"), TypeError),
        (lambda s: s.add_task(asyncz_jobs.tick, "interval", minutes=1, kwargs=[1]), TypeError),
        (lambda s: s.add_task(asyncz_jobs.tick, "interval", minutes=1, max_instances=0), TypeError),
        (lambda s: s.add_task(asyncz_jobs.tick, "interval", minutes=1, mistrigger_grace_time=0), TypeError),
        (lambda s: s.add_task("tests.compat.asyncz_jobs", "interval", minutes=1), ValueError),  # no ':'
        (lambda s: s.lookup_executor("nowhere"), KeyError),
        (lambda s: s.lookup_store("nowhere"), KeyError),
        (lambda s: s.get_task_infos(sort_by="colour"), ValueError),
        (lambda s: s.get_task_infos(schedule_state="sleeping"), ValueError),
        (lambda s: CronTrigger.from_crontab("0 9 * *"), ValueError),
    ],
)
def test_bad_arguments_raise_what_asyncz_raises(scheduler: ManualScheduler, call, kind: type[Exception]) -> None:  # type: ignore[no-untyped-def]
    scheduler.start()
    with pytest.raises(kind):
        call(scheduler)


# -- differences kept on purpose (docs/migrating.md) -------------------------------------------


def test_moving_one_run_of_an_interval_keeps_its_grid(scheduler: ManualScheduler) -> None:
    """asyncz re-phases the interval from a moved run; here only that run moves."""
    scheduler.start()
    scheduler.add_task(asyncz_jobs.tick, "interval", hours=1, start_at=START + timedelta(hours=1), id="hourly")
    moved = START + timedelta(hours=1, minutes=20)
    scheduler.update_task("hourly", next_run_time=moved)
    scheduler.process_tasks(now=moved)
    assert scheduler.get_task("hourly").next_run_time == START + timedelta(hours=2)  # type: ignore[union-attr]


def test_an_and_trigger_moves_past_its_previous_fire_time() -> None:
    """asyncz 0.17.2's AndTrigger never returns when asked for the time after a fire time."""
    from asyncz_like.triggers import AndTrigger

    both = AndTrigger([CronTrigger(hour=3, timezone="UTC"), CronTrigger(day_of_week="mon", hour="*", timezone="UTC")])
    first = both.get_next_trigger_time(UTC, None, START)
    assert first == datetime(2026, 3, 9, 3, 0, tzinfo=UTC)  # the next Monday, 03:00
    assert both.get_next_trigger_time(UTC, first, first) == datetime(2026, 3, 16, 3, 0, tzinfo=UTC)


def test_remove_listener_removes_every_registration_of_the_callback(scheduler: ManualScheduler) -> None:
    """asyncz removes the first registration only; removing a listener here stops it."""
    heard: list[object] = []
    scheduler.add_listener(heard.append)
    scheduler.add_listener(heard.append)
    assert scheduler.remove_listener(heard.append) is True
    scheduler.start()
    assert heard == []
    assert scheduler.remove_listener(heard.append) is False
