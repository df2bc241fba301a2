"""Fixtures for run history, retries and health: an explicit clock and a scheduler driven by it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from asyncz_like import TASK_ERROR, TASK_EXECUTED, TASK_MISSED, ManualScheduler, SchedulerEvent
from tests.core.clock import FakeClock
from tests.history import jobs


@pytest.fixture(autouse=True)
def _fresh_calls() -> Iterator[None]:
    jobs.calls.clear()
    yield
    jobs.calls.clear()


@pytest.fixture
def clock(now: datetime) -> FakeClock:
    return FakeClock(now)


class Events(list[SchedulerEvent]):
    """Execution events as listeners saw them."""

    MASK = TASK_EXECUTED | TASK_ERROR | TASK_MISSED

    def attempts(self) -> list[tuple[int, int, bool]]:
        """(code, attempt, final) of each event, in order."""
        return [(event.code, event.attempt, event.final) for event in self]  # type: ignore[attr-defined]


@pytest.fixture
def make_scheduler(clock: FakeClock) -> Iterator[Callable[..., tuple[ManualScheduler, Events]]]:
    """A started ManualScheduler on ``clock`` (inline runs), and the events it dispatches."""
    made: list[ManualScheduler] = []

    def make(**options: Any) -> tuple[ManualScheduler, Events]:
        scheduler = ManualScheduler(timezone="UTC", clock=clock, **options)
        events = Events()
        scheduler.add_listener(events.append, Events.MASK)
        scheduler.start()
        made.append(scheduler)
        return scheduler, events

    yield make
    for scheduler in made:
        if scheduler.running:
            scheduler.shutdown()


def step(scheduler: ManualScheduler, clock: FakeClock, seconds: float) -> float | None:
    """Move the clock on and run one pass; returns the seconds to the next wake-up."""
    clock.advance(seconds=seconds)
    return scheduler.process_tasks()


def later(start: datetime, seconds: float) -> datetime:
    return start + timedelta(seconds=seconds)


from tests.history.stores import any_store, persistent, shared  # noqa: E402, F401  (fixtures)
