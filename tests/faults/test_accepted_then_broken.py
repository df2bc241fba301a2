"""What a task may still do wrong after it was accepted: a third-party trigger that answers a
time no store can hold, an executor removed under a task. The scheduler says so once and
goes on; no store pass fails, no log floods."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone, tzinfo
from pathlib import Path

import pytest

from asyncz_like import ManualScheduler, Trigger

UTC = timezone.utc
NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


class FarFuture(Trigger):
    """Fires once at noon, then answers a time past the end of every store's range."""

    def __init__(self) -> None:
        self.jitter = None

    def get_next_trigger_time(
        self, timezone: tzinfo, previous_time: datetime | None, now: datetime | None = None
    ) -> datetime | None:
        if previous_time is None:
            return NOON
        return datetime(9999, 12, 31, 23, 0, tzinfo=UTC)


def record() -> None:
    """A task body."""


@pytest.mark.parametrize("store", ["memory", "sqlite"])
def test_a_trigger_time_past_the_supported_range_finishes_the_task_instead_of_breaking_the_store(
    store: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    scheduler = ManualScheduler(timezone="UTC", clock=lambda: NOON)
    if store == "sqlite":
        scheduler.add_store(f"sqlite:///{tmp_path / 'tasks.db'}", alias="default")
    scheduler.add_task(f"{__name__}:record", FarFuture(), id="far")
    scheduler.start()
    try:
        scheduler.process_tasks(now=NOON)
        assert scheduler.get_task("far") is None, "finished and removed"
        assert "the task has finished" in caplog.text
        scheduler.add_task(f"{__name__}:record", "interval", minutes=1, start_at=NOON, id="other")
        scheduler.process_tasks(now=NOON + timedelta(minutes=1))  # the store still works
        assert scheduler.get_task("other").next_run_time == NOON + timedelta(minutes=2)  # type: ignore[union-attr]
    finally:
        scheduler.shutdown()


def test_a_task_whose_executor_was_removed_is_reported_once_not_at_every_pass(
    caplog: pytest.LogCaptureFixture,
) -> None:
    scheduler = ManualScheduler(timezone="UTC", clock=lambda: NOON, executors={"extra": "debug"})
    scheduler.add_task(record, "interval", seconds=1, id="orphan", executor="extra")
    scheduler.start()
    try:
        scheduler.remove_executor("extra")
        with caplog.at_level(logging.ERROR):
            for n in range(1, 6):
                scheduler.process_tasks(now=NOON + timedelta(seconds=n))
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR and "orphan" in r.getMessage()]
        assert len(errors) == 1, [r.getMessage() for r in errors]
        assert scheduler.get_task("orphan") is not None, "kept, for the user to fix"
    finally:
        scheduler.shutdown()
