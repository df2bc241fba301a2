"""The business-days plugin, installed as a separate distribution, extends asyncz_like
exactly the way the built-in triggers do: found through its entry point, validated,
stored and run by the scheduler."""

from __future__ import annotations

import pickle
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from asyncz_like import plugins
from asyncz_like.abc import Trigger

PLUGIN_DIR = Path(__file__).resolve().parents[1] / "plugins" / "business-days"
BERLIN = ZoneInfo("Europe/Berlin")


def at(day: str, clock: str = "09:00") -> datetime:
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=BERLIN)


@pytest.fixture(scope="session")
def trigger_class() -> type[Any]:
    """Install the plugin distribution into this interpreter's environment (as a user of
    the library would) and resolve its alias through the entry-point registry."""
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--no-deps",
        "--no-build-isolation",
        "--force-reinstall",
        str(PLUGIN_DIR),
    ]
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 0, f"installing the plugin failed:\n{result.stdout}\n{result.stderr}"
    plugins.refresh()
    return plugins.plugin_class(plugins.TRIGGERS, "business_days")


def fires(trigger: Any, start: datetime, count: int) -> list[datetime]:
    """``count`` consecutive fire times, the first at or after ``start``."""
    times = [trigger.get_next_trigger_time(BERLIN, None, start)]
    while len(times) < count:
        times.append(trigger.get_next_trigger_time(BERLIN, times[-1]))
    return times


def test_installed_distribution_registers_the_alias(trigger_class: type[Any]) -> None:
    assert "business_days" in plugins.aliases(plugins.TRIGGERS)
    assert issubclass(trigger_class, Trigger)
    assert trigger_class.__module__ == "asyncz_like_business_days.trigger"
    assert isinstance(plugins.create(plugins.TRIGGERS, "business_days", {"hour": 9, "country": "DE"}), trigger_class)


def test_fires_every_weekday_at_the_wall_clock_time(trigger_class: type[Any]) -> None:
    trigger = trigger_class(hour=9, minute=30, country="DE", timezone=BERLIN)
    # Thursday 2026-01-08 08:00 -> Thu, Fri, then Mon..Wed (weekend skipped).
    assert fires(trigger, at("2026-01-08", "08:00"), 5) == [
        at("2026-01-08", "09:30"),
        at("2026-01-09", "09:30"),
        at("2026-01-12", "09:30"),
        at("2026-01-13", "09:30"),
        at("2026-01-14", "09:30"),
    ]


def test_german_public_holidays_are_skipped(trigger_class: type[Any]) -> None:
    trigger = trigger_class(hour=9, country="DE", timezone=BERLIN)
    # Good Friday 2026-04-03 and Easter Monday 2026-04-06.
    assert fires(trigger, at("2026-04-02", "10:00"), 2) == [at("2026-04-07"), at("2026-04-08")]
    # Christmas Day is Friday 2026-12-25 (the 26th is a Saturday anyway).
    assert fires(trigger, at("2026-12-24", "09:00"), 2) == [at("2026-12-24"), at("2026-12-28")]
    # Labour Day, Friday 2026-05-01.
    assert trigger.get_next_trigger_time(BERLIN, at("2026-04-30")) == at("2026-05-04")


def test_subdivision_holidays_apply_only_to_that_subdivision(trigger_class: type[Any]) -> None:
    bavaria = trigger_class(hour=9, country="DE", subdiv="BY", timezone=BERLIN)
    berlin = trigger_class(hour=9, country="DE", subdiv="BE", timezone=BERLIN)
    # Corpus Christi, Thursday 2026-06-04: a holiday in Bavaria, a working day in Berlin.
    assert bavaria.get_next_trigger_time(BERLIN, at("2026-06-03")) == at("2026-06-05")
    assert berlin.get_next_trigger_time(BERLIN, at("2026-06-03")) == at("2026-06-04")


def test_first_fire_is_at_or_after_now_and_later_ones_strictly_after(trigger_class: type[Any]) -> None:
    trigger = trigger_class(hour=9, country="DE", timezone=BERLIN)
    assert trigger.get_next_trigger_time(BERLIN, None, at("2026-01-08")) == at("2026-01-08")
    assert trigger.get_next_trigger_time(BERLIN, None, at("2026-01-08", "09:00:01")) == at("2026-01-09")
    assert trigger.get_next_trigger_time(BERLIN, at("2026-01-08")) == at("2026-01-09")


def test_wall_clock_time_holds_across_daylight_saving_changes(trigger_class: type[Any]) -> None:
    trigger = trigger_class(hour=9, country="DE", timezone="Europe/Berlin")
    # Clocks go forward on Sunday 2026-03-29 and back on Sunday 2026-10-25.
    spring = fires(trigger, at("2026-03-27", "08:00"), 2)
    autumn = fires(trigger, at("2026-10-23", "08:00"), 2)
    assert [t.strftime("%Y-%m-%d %H:%M %z") for t in spring + autumn] == [
        "2026-03-27 09:00 +0100",
        "2026-03-30 09:00 +0200",
        "2026-10-23 09:00 +0200",
        "2026-10-26 09:00 +0100",
    ]
    # Friday to Monday across the spring change is one real hour short of three days.
    assert spring[1].timestamp() - spring[0].timestamp() == (timedelta(days=3) - timedelta(hours=1)).total_seconds()


def test_start_and_end_bound_the_schedule(trigger_class: type[Any]) -> None:
    trigger = trigger_class(
        hour=9, country="DE", timezone=BERLIN, start_at=at("2026-01-12", "00:00"), end_at=at("2026-01-13", "12:00")
    )
    assert trigger.get_next_trigger_time(BERLIN, None, at("2026-01-01")) == at("2026-01-12")
    assert trigger.get_next_trigger_time(BERLIN, at("2026-01-12")) == at("2026-01-13")
    assert trigger.get_next_trigger_time(BERLIN, at("2026-01-13")) is None


@pytest.mark.parametrize(
    ("options", "argument"),
    [
        ({"hour": 24}, "hour"),
        ({"hour": "9"}, "hour"),
        ({"minute": -1}, "minute"),
        ({"second": 60}, "second"),
        ({"country": "XX"}, "country"),
        ({"country": ""}, "country"),
        ({"subdiv": "ZZ"}, "subdiv"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"jitter": -5}, "jitter"),
        ({"start_at": "2026-02-01", "end_at": "2026-01-01"}, "end_at"),
    ],
)
def test_bad_arguments_raise_naming_the_argument(
    trigger_class: type[Any], options: dict[str, Any], argument: str
) -> None:
    with pytest.raises(ValueError, match=rf"^{argument}: "):
        trigger_class(**options)


def test_unknown_argument_is_rejected(trigger_class: type[Any]) -> None:
    with pytest.raises(TypeError, match="countries"):
        trigger_class(countries="DE")


def test_str_repr_and_pickling(trigger_class: type[Any]) -> None:
    trigger = trigger_class(hour=9, country="DE", timezone="Europe/Berlin")
    assert str(trigger) == "business_days[09:00 DE]"
    assert (
        str(trigger_class(hour=17, minute=5, second=30, country="DE", subdiv="BY")) == "business_days[17:05:30 DE-BY]"
    )
    assert repr(trigger) == "<BusinessDaysTrigger (hour=9, minute=0, second=0, country='DE', timezone='Europe/Berlin')>"
    restored = pickle.loads(pickle.dumps(trigger))
    assert restored == trigger
    assert restored.get_next_trigger_time(BERLIN, at("2026-12-24")) == at("2026-12-28")


def test_jitter_delays_within_bounds(trigger_class: type[Any]) -> None:
    trigger = trigger_class(hour=9, country="DE", timezone=BERLIN, jitter=60)
    for _ in range(20):
        fire = trigger.get_next_trigger_time(BERLIN, None, at("2026-01-08", "08:00"))
        assert at("2026-01-08") <= fire <= at("2026-01-08", "09:01")


REPORTS: list[str] = []


def send_report(label: str) -> None:
    """Module level, so the task has an importable reference like a stored task needs."""
    REPORTS.append(label)


async def test_runs_through_the_scheduler_by_its_alias(trigger_class: type[Any]) -> None:
    from asyncz_like import TASK_EXECUTED, AsyncIOScheduler, Task, TaskExecutionEvent

    REPORTS.clear()
    ran: list[datetime] = []

    def on_executed(event: TaskExecutionEvent) -> None:
        assert event.scheduled_run_time is not None
        ran.append(event.scheduled_run_time)

    scheduler = AsyncIOScheduler(timezone="Europe/Berlin", executors={"default": {"type": "debug"}})
    scheduler.add_listener(on_executed, TASK_EXECUTED)
    scheduler.start()
    try:
        added_at = datetime.now(BERLIN)
        task = scheduler.add_task(send_report, "business_days", args=["daily"], id="report", hour=9, country="DE")
        assert isinstance(task.trigger, trigger_class)
        assert task.trigger.timezone == BERLIN  # the scheduler's zone, as for built-in triggers
        # Scheduled from the real clock: the next business day at 09:00 Berlin time.
        first = task.next_run_time
        assert first is not None and added_at < first <= added_at + timedelta(days=7)
        assert (first.astimezone(BERLIN).hour, first.astimezone(BERLIN).minute) == (9, 0)
        assert task.trigger.is_business_day(first.astimezone(BERLIN).date())

        info = scheduler.get_task_info("report")
        assert info is not None
        assert (info.trigger_alias, info.trigger_description) == ("business_days", "business_days[09:00 DE]")

        # From here on an explicit clock: Christmas Eve runs, Christmas Day (a Friday) does not.
        scheduler.update_task("report", next_run_time=at("2026-12-24"))
        scheduler.process_tasks(now=at("2026-12-24", "09:00:00.5"))
        assert scheduler.get_task("report").next_run_time == at("2026-12-28")  # type: ignore[union-attr]
        scheduler.process_tasks(now=at("2026-12-25", "09:00"))
        scheduler.process_tasks(now=at("2026-12-28", "09:00"))
        assert ran == [at("2026-12-24"), at("2026-12-28")]
        assert REPORTS == ["daily", "daily"]
        assert scheduler.get_task("report").next_run_time == at("2026-12-29")  # type: ignore[union-attr]

        # The state a persistent store keeps restores to a task with the same schedule.
        restored = Task.from_state(pickle.loads(pickle.dumps(scheduler.get_task("report").__getstate__())))  # type: ignore[union-attr]
        assert restored.trigger == task.trigger
        assert restored.trigger.get_next_trigger_time(BERLIN, at("2026-12-31")) == at("2027-01-04")  # type: ignore[union-attr]
    finally:
        scheduler.shutdown(wait=False)
