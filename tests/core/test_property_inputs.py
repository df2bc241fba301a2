"""Property: whatever ``add_task`` and the built-in triggers are given, each call returns or
raises a documented error (TypeError, ValueError or LookupError, naming the argument)
within 0.5 s; what is accepted never fails later; and a running scheduler keeps running
its other tasks all along (issue 18).

``ASYNCZ_FUZZ_EXAMPLES=5000`` runs a deeper search than the quick default.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asyncz_like import AsyncIOScheduler, ConflictIdError, TaskLookupError
from asyncz_like._limits import MAX_RUN_TIME, MIN_RUN_TIME
from asyncz_like._undefined import undefined
from asyncz_like.abc import Trigger
from asyncz_like.triggers.combination import AndTrigger, OrTrigger
from asyncz_like.triggers.cron import CronTrigger
from asyncz_like.triggers.date import DateTrigger
from asyncz_like.triggers.interval import IntervalTrigger

UTC = timezone.utc
DOCUMENTED = (TypeError, ValueError, LookupError)
#: every documented error starts with the name of what was wrong ("seconds: ", "triggers[1]: ")
NAMED = re.compile(r"^[A-Za-z_][\w\[\]./, ]*: ")
TIME_LIMIT = 0.5
EXAMPLES = int(os.environ.get("ASYNCZ_FUZZ_EXAMPLES", "300"))
FUZZ = settings(
    max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)

# -- strategies ------------------------------------------------------------------------------

ZONES = [
    None,
    UTC,
    ZoneInfo("Europe/Berlin"),
    ZoneInfo("America/Adak"),
    ZoneInfo("Pacific/Kiritimati"),
    ZoneInfo("Australia/Lord_Howe"),
    timezone(-timedelta(hours=23, minutes=59)),
]
zone_names = st.one_of(
    st.sampled_from(["UTC", "Europe/Berlin", "America/Adak", "Pacific/Chatham", "Asia/Kathmandu"]),
    st.sampled_from(ZONES[1:]),
    st.text(max_size=12),
    st.just("x" * 5000),
    st.just("../../etc/passwd"),
    st.integers(),
)
numbers = st.one_of(
    st.integers(min_value=-10, max_value=10**6),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=0, max_value=1e-2),
    st.fractions(max_denominator=10**6),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.sampled_from([1e-6, 0.001, 1e20, 1e10, 10 * 365.25 * 86_400, float("nan"), float("inf")]),
    st.booleans(),
    st.none(),
    st.text(max_size=4),
)
moments = st.one_of(
    st.none(),
    st.datetimes(
        min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59), timezones=st.sampled_from(ZONES)
    ),
    st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.sampled_from(ZONES)),
    st.sampled_from([datetime.min, datetime.max, datetime.max.replace(tzinfo=UTC), MAX_RUN_TIME, MIN_RUN_TIME]),
    st.dates(),
    st.text(alphabet="0123456789-:T+Z ", max_size=30),
    st.integers(),
)
nows = st.datetimes(
    min_value=MIN_RUN_TIME.replace(tzinfo=None), max_value=MAX_RUN_TIME.replace(tzinfo=None), timezones=st.just(UTC)
)
cron_text = st.text(alphabet="0123456789*/-,LW#? abcdefghijklmnopqrstuvwxyz٣²¹", max_size=14)
cron_values = st.one_of(
    st.none(),
    cron_text,
    st.integers(min_value=-5, max_value=10_001),
    st.sampled_from(["*/5", "1-5", "mon-fri", "last", "last fri", "2nd wed", "*/٣", "*/²", "9" * 5000, 10**5000]),
    st.floats(),
    st.booleans(),
)
jitters = st.one_of(st.none(), numbers)
unit_names = ["weeks", "days", "hours", "minutes", "seconds"]


@st.composite
def interval_options(draw: st.DrawFn) -> dict[str, Any]:
    options = {name: draw(numbers) for name in draw(st.lists(st.sampled_from(unit_names), max_size=3, unique=True))}
    for name, values in (("start_at", moments), ("end_at", moments), ("timezone", zone_names), ("jitter", jitters)):
        if draw(st.booleans()):
            options[name] = draw(values)
    return options


@st.composite
def cron_options(draw: st.DrawFn) -> dict[str, Any]:
    fields = ["year", "month", "day", "week", "day_of_week", "hour", "minute", "second"]
    options = {name: draw(cron_values) for name in draw(st.lists(st.sampled_from(fields), max_size=4, unique=True))}
    for name, values in (("start_at", moments), ("end_at", moments), ("timezone", zone_names), ("jitter", jitters)):
        if draw(st.booleans()):
            options[name] = draw(values)
    return options


crontab_lines = st.one_of(
    st.lists(cron_text, min_size=4, max_size=6).map(" ".join),
    st.sampled_from(["@daily", "@hourly", "@reboot", "@yearly", "0 0 30 2 *", "*/٣ * * * *", "0 0 31 4 mon"]),
    st.text(max_size=30),
    st.integers(),
)


def build_trigger(kind: str, options: dict[str, Any]) -> Trigger:
    if kind == "interval":
        return IntervalTrigger(**options)
    if kind == "cron":
        return CronTrigger(**options)
    return DateTrigger(**options)


simple_triggers = st.one_of(
    st.builds(lambda o: ("interval", o), interval_options()),
    st.builds(lambda o: ("cron", o), cron_options()),
    st.builds(lambda m, z: ("date", {"run_at": m, "timezone": z}), moments, st.sampled_from(ZONES)),
)

# -- checks ------------------------------------------------------------------------------------


def timed(call: Callable[[], Any]) -> tuple[Any, BaseException | None]:
    """``call()``'s result or documented error; anything else, or more than 0.5 s, fails."""
    started = time.perf_counter()
    try:
        result, error = call(), None
    except DOCUMENTED as exc:
        result, error = None, exc
    elapsed = time.perf_counter() - started
    assert elapsed < TIME_LIMIT, f"took {elapsed:.3f} s"
    if error is not None and not isinstance(error, ConflictIdError):
        assert NAMED.match(str(error)), f"{type(error).__name__} names no argument: {str(error)[:200]}"
        assert len(str(error)) < 600, f"message of {len(str(error))} characters"
    return result, error


def check_fire_times(trigger: Trigger, now: datetime) -> None:
    """A built trigger never raises, stays inside the supported range and moves forward."""
    previous: datetime | None = None
    for _ in range(4):
        fire, error = timed(lambda: trigger.get_next_trigger_time(UTC, previous, now))  # noqa: B023
        assert error is None, f"{trigger!r} raised {error!r} computing a fire time"
        if fire is None:
            return
        assert fire.utcoffset() is not None, f"{trigger!r} returned a naive {fire!r}"
        assert MIN_RUN_TIME <= fire <= MAX_RUN_TIME, f"{trigger!r} returned {fire.isoformat()}"
        if previous is not None:
            assert fire.timestamp() > previous.timestamp(), f"{trigger!r}: {fire} does not follow {previous}"
        previous = fire


# -- the triggers on their own -----------------------------------------------------------------


@FUZZ
@given(options=interval_options(), now=nows)
def test_interval_trigger_takes_any_input(options: dict[str, Any], now: datetime) -> None:
    trigger, _ = timed(lambda: IntervalTrigger(**options))
    if trigger is not None:
        check_fire_times(trigger, now)


@FUZZ
@given(options=cron_options(), now=nows)
def test_cron_trigger_takes_any_input(options: dict[str, Any], now: datetime) -> None:
    trigger, _ = timed(lambda: CronTrigger(**options))
    if trigger is not None:
        check_fire_times(trigger, now)


@FUZZ
@given(line=crontab_lines, zone=zone_names, end_at=moments, now=nows)
def test_crontab_lines_take_any_input(line: Any, zone: Any, end_at: Any, now: datetime) -> None:
    trigger, _ = timed(lambda: CronTrigger.from_crontab(line, timezone=zone, end_at=end_at))
    if trigger is not None:
        check_fire_times(trigger, now)


@FUZZ
@given(run_at=moments, zone=zone_names, now=nows)
def test_date_trigger_takes_any_input(run_at: Any, zone: Any, now: datetime) -> None:
    trigger, _ = timed(lambda: DateTrigger(run_at, timezone=zone))
    if trigger is not None:
        check_fire_times(trigger, now)


@FUZZ
@given(
    kind=st.sampled_from([AndTrigger, OrTrigger]),
    parts=st.lists(simple_triggers, max_size=3),
    extra=st.sampled_from([None, "cron", 42]),
    jitter=jitters,
    now=nows,
)
def test_combinations_take_any_input(
    kind: type[Trigger], parts: list[tuple[str, dict[str, Any]]], extra: Any, jitter: Any, now: datetime
) -> None:
    built: list[Any] = []
    for part_kind, options in parts:
        part, _ = timed(lambda: build_trigger(part_kind, options))  # noqa: B023
        if part is not None:
            built.append(part)
    if extra is not None:
        built.append(extra)
    trigger, _ = timed(lambda: kind(built, jitter=jitter))  # type: ignore[call-arg]
    if trigger is not None:
        check_fire_times(trigger, now)


# -- add_task on a running scheduler -------------------------------------------------------------


def noop(*args: Any, **kwargs: Any) -> None:
    """Takes any arguments, so only the values under test decide whether a task is accepted."""


class Heartbeat:
    """A real interval task; its run times show whether the scheduler kept running it."""

    def __init__(self) -> None:
        self.beats: list[float] = []
        self.lock = threading.Lock()

    def __call__(self) -> None:
        with self.lock:
            self.beats.append(time.monotonic())

    def count(self) -> int:
        with self.lock:
            return len(self.beats)

    def longest_gap(self, since: float) -> float:
        with self.lock:
            times = [since, *(beat for beat in self.beats if beat >= since), time.monotonic()]
        return max(later - earlier for earlier, later in itertools.pairwise(times))


class ErrorRecords(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(scope="module")
def live() -> Iterator[tuple[AsyncIOScheduler, Heartbeat, ErrorRecords]]:
    scheduler = AsyncIOScheduler(timezone="UTC", isolated_event_loop=True)
    heartbeat = Heartbeat()
    errors = ErrorRecords()
    logging.getLogger("asyncz_like").addHandler(errors)
    scheduler.start()
    scheduler.add_task(heartbeat, "interval", seconds=0.05, id="heartbeat", mistrigger_grace_time=None)
    try:
        yield scheduler, heartbeat, errors
    finally:
        scheduler.shutdown()
        logging.getLogger("asyncz_like").removeHandler(errors)


_ACCEPTED: list[str] = []

task_ids = st.one_of(
    st.none(),
    st.text(max_size=8),
    st.text(min_size=185, max_size=200, alphabet="ab\x00é"),
    st.sampled_from(["same", "a\x00b", "tab\t", "x" * 192, "ok-id"]),
    st.integers(),
)
add_options = st.fixed_dictionaries(
    {},
    optional={
        "args": st.one_of(
            st.none(), st.lists(st.integers(), max_size=3), st.tuples(st.text(max_size=3)), st.builds(dict)
        ),
        "kwargs": st.one_of(
            st.none(), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2), st.lists(st.integers())
        ),
        "id": task_ids,
        "name": st.one_of(st.none(), st.text(max_size=5), st.integers()),
        "mistrigger_grace_time": numbers,
        "coalesce": st.one_of(st.booleans(), numbers),
        "max_instances": st.one_of(st.integers(min_value=-2, max_value=5), numbers),
        "next_run_time": st.one_of(moments, st.just(undefined)),
        "store": st.sampled_from([None, "default", "nope", ""]),
        "executor": st.sampled_from([None, "default", "nope", ""]),
        "replace_existing": st.one_of(st.booleans(), st.sampled_from(["yes", 1, None])),
        "on_interrupted": st.sampled_from(["report", "rerun", "ignore"]),
    },
)


@settings(FUZZ, max_examples=2 * EXAMPLES)
@given(
    options=add_options,
    trigger=st.one_of(
        simple_triggers,
        st.tuples(st.sampled_from(["and", "or", "nope", "shutdown"]), st.just({})),
        st.tuples(st.just("date"), st.fixed_dictionaries({"bogus": st.integers()})),
    ),
)
def test_add_task_takes_any_input_and_the_scheduler_keeps_running(
    live: tuple[AsyncIOScheduler, Heartbeat, ErrorRecords], options: dict[str, Any], trigger: tuple[str, dict[str, Any]]
) -> None:
    scheduler, _, _ = live
    alias, trigger_args = trigger
    task, _ = timed(lambda: scheduler.add_task(noop, alias, **options, **trigger_args))
    if task is not None:
        _ACCEPTED.append(task.id)
        while len(_ACCEPTED) > 20:  # accepted tasks keep running alongside the heartbeat for a while
            with contextlib.suppress(TaskLookupError):  # a date task that already ran is gone
                scheduler.delete_task(_ACCEPTED.pop(0))


def test_the_heartbeat_kept_firing_during_and_after_the_fuzz(
    live: tuple[AsyncIOScheduler, Heartbeat, ErrorRecords],
) -> None:
    """Runs after the fuzz above (same module fixture): no stall, no error logged."""
    scheduler, heartbeat, errors = live
    assert scheduler.get_task("heartbeat") is not None
    fuzz_started = heartbeat.beats[0] if heartbeat.beats else time.monotonic()
    before = heartbeat.count()
    time.sleep(0.5)
    assert heartbeat.count() >= before + 4, "the interval task stopped firing"
    assert heartbeat.longest_gap(fuzz_started) < 1.0
    assert [record.getMessage() for record in errors.records] == []
