"""asyncz's ``lock_path``: one process at a time runs a store's pass on a single host."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from filelock import FileLock

from asyncz_like import ManualScheduler
from asyncz_like.triggers.interval import IntervalTrigger
from tests.core import jobs
from tests.core.clock import FakeClock

UTC = timezone.utc
START = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def test_a_store_locked_by_another_process_is_skipped_until_released(tmp_path: Path) -> None:
    jobs.calls.clear()
    template = str(tmp_path / "{store}.lock")
    scheduler = ManualScheduler(timezone="UTC", lock_path=template, store_retry_interval=3, clock=FakeClock(START))
    scheduler.start()
    scheduler.add_task(jobs.record, IntervalTrigger(minutes=1, start_at=START, timezone="UTC"), args=["x"])
    other_process = FileLock(str(tmp_path / "default.lock"))
    with other_process:
        wait = scheduler.process_tasks(now=START)
        assert jobs.calls == []
        assert wait == pytest.approx(3.0)  # look again soon: the holder may go away
    wait = scheduler.process_tasks(now=START)
    assert jobs.calls == ["x"]
    assert wait == pytest.approx(3.0)  # with a lock path, poll: other processes add tasks too
    assert scheduler.process_tasks(now=START + timedelta(seconds=30)) == pytest.approx(3.0)


def test_lock_path_must_be_a_path() -> None:
    with pytest.raises(ValueError, match="lock_path"):
        ManualScheduler(lock_path=42)
