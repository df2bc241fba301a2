"""Bad input fails where it is given, naming the argument (issue 18).

Each case was once accepted and broke later (a hot loop, an ERROR at every run, every
store pass failing) or failed with an error that named nothing (OverflowError, a raw
driver or pickle error). The bounds are in ``asyncz_like._limits`` and in the docs
("Limits and validation").
"""

from __future__ import annotations

import importlib
import math
import re
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from asyncz_like import ManualScheduler
from asyncz_like._limits import MAX_ID_LENGTH, MAX_RUN_TIME
from asyncz_like.exceptions import ArgumentError, ArgumentTypeError, ExecutorLookupError, StoreLookupError
from asyncz_like.triggers.combination import AndTrigger, OrTrigger
from asyncz_like.triggers.cron import CronTrigger
from asyncz_like.triggers.date import DateTrigger
from asyncz_like.triggers.interval import IntervalTrigger
from tests.core import jobs
from tests.core.clock import FakeClock
from tests.stores.conftest import ALL_KINDS, StoreFactory

UTC = timezone.utc
START = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
AWARE_MAX = datetime.max.replace(tzinfo=UTC)
NAN = float("nan")
INF = float("inf")


@pytest.fixture
def scheduler() -> ManualScheduler:
    jobs.calls.clear()
    return ManualScheduler(timezone="UTC", clock=FakeClock(START))


@pytest.fixture
def running(scheduler: ManualScheduler) -> ManualScheduler:
    scheduler.start()
    return scheduler


def minutely() -> IntervalTrigger:
    return IntervalTrigger(minutes=1, start_at=START + timedelta(minutes=1), timezone="UTC")


def names(argument: str) -> str:
    """The pattern of an error message that starts with the argument's name."""
    return rf"^{re.escape(argument)}: "


# -- accepted, then broken later ----------------------------------------------------------


@pytest.mark.parametrize("grace", [NAN, INF, 1e12, 10 * 366 * 86_400])
def test_mistrigger_grace_time_must_be_finite_positive_and_at_most_ten_years(
    running: ManualScheduler, grace: float
) -> None:
    with pytest.raises(ValueError, match=names("mistrigger_grace_time")):
        running.add_task(jobs.record, minutely(), mistrigger_grace_time=grace)


def test_mistrigger_grace_time_none_and_ten_years_are_accepted(running: ManualScheduler) -> None:
    assert running.add_task(jobs.record, minutely(), mistrigger_grace_time=None).mistrigger_grace_time is None
    ten_years = 10 * 365.25 * 86_400
    assert running.add_task(jobs.record, minutely(), mistrigger_grace_time=ten_years).mistrigger_grace_time == ten_years


def test_a_nan_grace_time_in_task_defaults_is_refused() -> None:
    with pytest.raises(ValueError, match="mistrigger_grace_time"):
        ManualScheduler(task_defaults={"mistrigger_grace_time": "nan"})


def test_an_unknown_executor_fails_at_add_task_on_a_running_scheduler(running: ManualScheduler) -> None:
    with pytest.raises(ExecutorLookupError) as info:
        running.add_task(jobs.record, minutely(), executor="nope", id="t")
    assert isinstance(info.value, KeyError) and isinstance(info.value, LookupError)  # as asyncz raises
    assert str(info.value) == (
        "executor: task 't' names the executor 'nope', which does not exist; known executors: 'default'"
    )
    assert running.get_task("t") is None


def test_an_unknown_executor_added_while_stopped_fails_at_start_naming_task_and_executor(
    scheduler: ManualScheduler,
) -> None:
    scheduler.add_task(jobs.record, minutely(), executor="nope", id="early")  # it may still be added before start
    with pytest.raises(ExecutorLookupError, match=r"^executor: task 'early' names the executor 'nope'"):
        scheduler.start()


def test_changing_a_task_to_an_unknown_executor_is_refused(running: ManualScheduler) -> None:
    running.add_task(jobs.record, minutely(), id="t")
    with pytest.raises(ExecutorLookupError, match="'nope'"):
        running.update_task("t", executor="nope")
    task = running.get_task("t")
    assert task is not None and task.executor == "default"


@pytest.mark.parametrize("units", [{"seconds": 1e-6}, {"seconds": 0.0009}, {"minutes": 1e-6}])
def test_intervals_below_one_millisecond_are_refused(units: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=names("interval") + ".*at least 1 ms"):
        IntervalTrigger(timezone="UTC", **units)  # type: ignore[arg-type]


def test_a_one_millisecond_interval_is_accepted() -> None:
    assert IntervalTrigger(seconds=0.001, timezone="UTC").interval == timedelta(milliseconds=1)


@pytest.mark.parametrize("argument", ["run_at", "next_run_time"])
def test_an_aware_datetime_max_run_time_is_refused(running: ManualScheduler, argument: str) -> None:
    options: dict[str, Any] = {"run_at": AWARE_MAX} if argument == "run_at" else {"next_run_time": AWARE_MAX}
    with pytest.raises(ValueError, match=names(argument) + ".*outside the supported range"):
        running.add_task(jobs.record, "date", **options)


def test_run_times_up_to_the_documented_maximum_are_accepted(running: ManualScheduler) -> None:
    task = running.add_task(jobs.record, "date", run_at=MAX_RUN_TIME)
    assert task.next_run_time == MAX_RUN_TIME
    with pytest.raises(ValueError, match=names("run_at")):
        DateTrigger(MAX_RUN_TIME + timedelta(microseconds=1))


def test_a_cron_schedule_whose_only_fire_times_are_past_the_maximum_is_refused(running: ManualScheduler) -> None:
    with pytest.raises(ValueError, match=names("trigger") + ".*can never fire"):
        running.add_task(jobs.record, "cron", year=9999, month=12, day=31)


def test_triggers_never_return_a_fire_time_past_the_maximum() -> None:
    near_end = MAX_RUN_TIME - timedelta(seconds=30)
    interval = IntervalTrigger(seconds=20, start_at=near_end, timezone="Pacific/Kiritimati", jitter=1e6)
    first = interval.get_next_trigger_time(UTC, None, near_end)
    assert first is not None and first <= MAX_RUN_TIME  # jitter stops at the maximum
    assert interval.get_next_trigger_time(UTC, near_end + timedelta(seconds=20), near_end) is None
    assert IntervalTrigger(weeks=500, timezone="UTC").get_next_trigger_time(UTC, None, MAX_RUN_TIME) is None
    assert CronTrigger(second="*", timezone="America/Adak").get_next_trigger_time(UTC, MAX_RUN_TIME, None) is None


@pytest.mark.parametrize("expression", ["*/٣", "*/²", "٣", "1-٣", "¹"])
def test_cron_fields_take_only_ascii_digits(expression: str) -> None:
    with pytest.raises(ValueError, match=names("minute") + ".*ASCII"):
        CronTrigger(minute=expression, timezone="UTC")


def test_crontab_lines_take_only_ascii_digits() -> None:
    with pytest.raises(ValueError, match=names("minute")):
        CronTrigger.from_crontab("*/٣ * * * *", timezone="UTC")
    with pytest.raises(ValueError, match=names("hour")):
        CronTrigger.from_crontab("0 ² * * *", timezone="UTC")


@pytest.mark.parametrize("args", [{"a": 1}, {1, 2}, frozenset({1}), iter([1]), bytearray(b"ab")])
def test_args_must_be_a_list_or_tuple(running: ManualScheduler, args: object) -> None:
    with pytest.raises(TypeError, match=names("args")):
        running.add_task(jobs.record, minutely(), args=args)


def test_args_as_list_tuple_or_none_are_accepted(running: ManualScheduler) -> None:
    assert running.add_task(jobs.record, minutely(), args=[1]).args == (1,)
    assert running.add_task(jobs.record, minutely(), args=(1,)).args == (1,)
    assert running.add_task(jobs.record, minutely(), args=None).args == ()


@pytest.mark.parametrize("value", ["yes", 1, None, "false"])
def test_replace_existing_must_be_a_bool(running: ManualScheduler, value: object) -> None:
    with pytest.raises(TypeError, match=names("replace_existing")):
        running.add_task(jobs.record, minutely(), replace_existing=value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "fields",
    [{"month": 2, "day": 30}, {"month": 2, "day": 31}, {"month": "4,6,9,11", "day": 31}, {"month": 1, "week": 30}],
)
def test_a_cron_schedule_that_can_never_fire_is_refused(running: ManualScheduler, fields: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=names("trigger") + ".*can never fire"):
        running.add_task(jobs.record, "cron", **fields)
    assert running.get_tasks() == []


def test_an_end_at_in_the_past_is_refused(running: ManualScheduler) -> None:
    past = START - timedelta(days=1)
    with pytest.raises(ValueError, match=names("trigger") + ".*can never fire"):
        running.add_task(jobs.record, "cron", hour=9, end_at=past)
    with pytest.raises(ValueError, match=names("trigger") + ".*can never fire"):
        running.add_task(jobs.record, "interval", minutes=1, start_at=past - timedelta(days=1), end_at=past)
    with pytest.raises(ValueError, match=names("trigger") + ".*can never fire"):
        running.add_task(jobs.record, AndTrigger([CronTrigger(month=2, timezone="UTC"), CronTrigger(day=31)]))
    assert running.get_tasks() == []


def test_a_finished_trigger_is_refused_while_stopped_too(scheduler: ManualScheduler) -> None:
    with pytest.raises(ValueError, match=names("trigger")):
        scheduler.add_task(jobs.record, "cron", month=2, day=30)
    assert scheduler.get_tasks() == []


def test_rescheduling_onto_a_trigger_that_can_never_fire_is_refused(running: ManualScheduler) -> None:
    running.add_task(jobs.record, minutely(), id="r")
    with pytest.raises(ValueError, match=names("trigger")):
        running.reschedule_task("r", trigger="cron", month=2, day=30)
    task = running.get_task("r")
    assert task is not None and task.next_run_time == START + timedelta(minutes=1)


def test_an_explicitly_paused_task_may_keep_a_finished_trigger(running: ManualScheduler) -> None:
    ended = IntervalTrigger(minutes=1, start_at=START - timedelta(hours=2), end_at=START - timedelta(hours=1))
    assert running.add_task(jobs.record, ended, next_run_time=None).paused


# -- unclear errors, now naming the argument -----------------------------------------------


@pytest.mark.parametrize(
    ("options", "argument"),
    [
        ({"seconds": 1e20}, "seconds"),
        ({"weeks": 1e10}, "weeks"),
        ({"days": 10**400}, "days"),
        ({"seconds": NAN}, "seconds"),
        ({"minutes": INF}, "minutes"),
        ({"weeks": 400, "days": 1000}, "interval"),
        ({"seconds": 1, "jitter": INF}, "jitter"),
        ({"seconds": 1, "jitter": NAN}, "jitter"),
        ({"seconds": 1, "jitter": 1e20}, "jitter"),
        ({"seconds": 1, "start_at": datetime.min}, "start_at"),
        ({"seconds": 1, "start_at": datetime.min.replace(tzinfo=UTC)}, "start_at"),
        ({"seconds": 1, "start_at": "0001-01-01T00:00:00-05:00"}, "start_at"),
        ({"seconds": 1, "start_at": datetime.max}, "start_at"),
        ({"seconds": 1, "end_at": AWARE_MAX}, "end_at"),
    ],
)
def test_absurd_interval_numbers_and_times_name_the_argument(options: dict[str, Any], argument: str) -> None:
    with pytest.raises(ValueError, match=names(argument)):
        IntervalTrigger(timezone="America/New_York", **options)


@pytest.mark.parametrize(
    "make",
    [
        lambda: CronTrigger(hour=1, jitter=INF, timezone="UTC"),
        lambda: CronTrigger(hour=1, start_at=datetime.min, timezone="Pacific/Kiritimati"),
        lambda: CronTrigger(hour=1, end_at=datetime.max, timezone="America/Adak"),
        lambda: DateTrigger(datetime.min, timezone="Asia/Tokyo"),
        lambda: OrTrigger([CronTrigger(hour=1, timezone="UTC")], jitter=NAN),
    ],
)
def test_other_triggers_refuse_absurd_values_with_a_value_error(make: Any) -> None:
    with pytest.raises(ValueError, match=r"^(jitter|start_at|end_at|run_at): "):
        make()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Fraction(1, 2), timedelta(milliseconds=500)),
        (Decimal("1.5"), timedelta(milliseconds=1500)),
        (Fraction(3, 1000), timedelta(milliseconds=3)),
    ],
)
def test_fractions_and_decimals_are_converted_to_float_seconds(value: object, expected: timedelta) -> None:
    assert IntervalTrigger(seconds=value, timezone="UTC").interval == expected  # type: ignore[arg-type]
    assert CronTrigger(hour=1, jitter=value, timezone="UTC").jitter == float(value)  # type: ignore[arg-type]
    for not_finite in (Decimal("NaN"), Decimal("sNaN"), Decimal("Infinity")):
        with pytest.raises(ValueError, match=names("seconds") + "must be a finite number"):
            IntervalTrigger(seconds=not_finite, timezone="UTC")


@pytest.mark.parametrize("value", ["5", True, None, [1], object()])
def test_a_non_number_is_a_type_error_that_is_also_a_value_error(value: object) -> None:
    with pytest.raises(ArgumentTypeError, match=names("seconds")) as info:
        IntervalTrigger(seconds=value, timezone="UTC")  # type: ignore[arg-type]
    assert isinstance(info.value, TypeError) and isinstance(info.value, ValueError)
    assert info.value.argument == "seconds"


@pytest.mark.parametrize("zone", ["x" * 5000, "Europe/" + "a" * 300])
def test_a_bad_time_zone_names_timezone(zone: str) -> None:
    with pytest.raises(ValueError, match=names("timezone")) as info:
        CronTrigger(hour=1, timezone=zone)
    assert len(str(info.value)) < 200
    with pytest.raises(ValueError, match=names("timezone")):
        ManualScheduler(timezone=zone)


@pytest.fixture
def disk_scheduler(tmp_path: Path) -> Iterator[ManualScheduler]:
    jobs.calls.clear()
    scheduler = ManualScheduler(timezone="UTC", clock=FakeClock(START))
    scheduler.add_store("file", "default", directory=str(tmp_path / "tasks"))
    scheduler.add_store(f"sqlite:///{tmp_path / 'tasks.db'}", "sql", serializer="json")
    scheduler.start()
    yield scheduler
    scheduler.shutdown()


@pytest.mark.parametrize("store", ["default", "sql"])
def test_unpicklable_args_or_kwargs_are_named_by_a_persistent_store(
    disk_scheduler: ManualScheduler, store: str
) -> None:
    with pytest.raises(TypeError, match=names("args") + r"task 'a' cannot be stored by the \w+Serializer"):
        disk_scheduler.add_task(jobs.record, minutely(), args=[threading.Lock()], id="a", store=store)
    with pytest.raises(TypeError, match=names("kwargs")):
        disk_scheduler.add_task(jobs.record, minutely(), kwargs={"value": threading.Lock()}, id="k", store=store)
    assert disk_scheduler.get_tasks() == []


def test_an_unknown_store_is_a_lookup_error_naming_store_and_the_known_ones(running: ManualScheduler) -> None:
    running.add_store("memory", "other")
    with pytest.raises(StoreLookupError) as info:
        running.add_task(jobs.record, minutely(), store="nope", id="s")
    assert isinstance(info.value, KeyError) and isinstance(info.value, LookupError)
    assert (
        str(info.value)
        == "store: task 's' names the store 'nope', which does not exist; known stores: 'default', 'other'"
    )


def test_generate_key_is_importable_where_the_encryption_error_says() -> None:
    from asyncz_like.stores import generate_key
    from asyncz_like.stores._encryption import Encryptor

    pytest.importorskip("cryptography")
    assert len(generate_key()) == 44
    with pytest.raises(ValueError, match="encryption_key") as info:
        Encryptor("not a key")
    reference = re.search(r"([\w.]+)\.(\w+)\(\)", str(info.value))
    assert reference is not None
    assert callable(getattr(importlib.import_module(reference.group(1)), reference.group(2)))


# -- task ids --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "task_id",
    ["x" * (MAX_ID_LENGTH + 1), "a\x00b", "tab\there", "line\nbreak", "bell\x07", "\ud800", "zero\u200bwidth", "\x7f"],
)
def test_bad_ids_are_refused_naming_id(running: ManualScheduler, task_id: str) -> None:
    with pytest.raises(ValueError, match=names("id")) as info:
        running.add_task(jobs.record, minutely(), id=task_id)
    assert len(str(info.value)) < 200
    assert running.get_task(task_id) is None  # a lookup never reaches a store with it


GOOD_IDS = {
    "plain": "plain-id_1.2",
    "punctuation": "with space and /slashes/ & 'quotes' %41",
    "unicode": "Ünïcødé 任务 🚀",
    "longest-ascii": "x" * MAX_ID_LENGTH,
    "non-ascii": "é" * 38,
    "longest-non-ascii": "é" * MAX_ID_LENGTH,
}


@pytest.mark.parametrize(
    ("kind", "task_id"),
    [
        pytest.param(
            kind,
            task_id,
            id=f"{kind}-{label}",
        )
        for kind in ALL_KINDS
        for label, task_id in GOOD_IDS.items()
    ],
)
def test_every_store_accepts_every_valid_id(kind: str, task_id: str, tmp_path: Path) -> None:
    factory = StoreFactory(kind, tmp_path)
    scheduler = ManualScheduler(timezone="UTC", clock=FakeClock(START))
    scheduler.add_store(factory(start=False), "default")
    scheduler.start()
    try:
        scheduler.add_task(jobs.record, minutely(), id=task_id)
        found = scheduler.get_task(task_id)
        assert found is not None and found.id == task_id
        assert scheduler.get_task("a\x00b") is None
        scheduler.delete_task(task_id)
    finally:
        scheduler.shutdown()
        factory.cleanup()


def test_error_messages_stay_short_for_huge_inputs(running: ManualScheduler) -> None:
    for call in (
        lambda: running.add_task(jobs.record, minutely(), args={"k" * 10_000: 1}),
        lambda: CronTrigger(minute="1," * 10_000, timezone="UTC"),
        lambda: IntervalTrigger(seconds="9" * 10_000, timezone="UTC"),  # type: ignore[arg-type]
        lambda: IntervalTrigger(seconds=10**10_000, timezone="UTC"),
    ):
        with pytest.raises(ArgumentError) as info:
            call()
        assert len(str(info.value)) < 300, str(info.value)[:400]
    assert math.isfinite(IntervalTrigger(seconds=10**6, timezone="UTC").interval.total_seconds())


def test_a_file_store_keeps_an_id_too_long_for_a_file_name_across_a_restart(tmp_path: Path) -> None:
    from asyncz_like.stores.file import FileStore

    long_id = "é" * MAX_ID_LENGTH  # percent-quoted, far past what a file name may hold
    first = FileStore(tmp_path / "tasks")
    first.start(None, "default")  # type: ignore[arg-type]
    task = ManualScheduler(timezone="UTC", clock=FakeClock(START)).add_task(jobs.record, minutely(), id=long_id)
    task.next_run_time = START
    first.add_task(task)
    first.shutdown()
    again = FileStore(tmp_path / "tasks")
    again.start(None, "default")  # type: ignore[arg-type]
    assert [found.id for found in again.get_all_tasks()] == [long_id]
    assert again.lookup_task(long_id) is not None
