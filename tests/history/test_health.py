"""health_check() on an explicit clock: the status follows the rules the docs state, and the
report says why."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from asyncz_like import ManualScheduler
from asyncz_like.exceptions import ArgumentError
from asyncz_like.history import HealthReport, HealthStatus
from tests.core.clock import FakeClock
from tests.history import jobs
from tests.history.conftest import Events, later, step

Make = Callable[..., tuple[ManualScheduler, Events]]


def test_a_running_scheduler_with_good_runs_is_ok(make_scheduler: Make, clock: FakeClock) -> None:
    scheduler, _ = make_scheduler(scheduler_id="me")
    scheduler.add_task(jobs.succeed, "interval", seconds=10, start_at=clock.current, args=["a"], id="a")
    scheduler.add_task(jobs.succeed, "interval", seconds=10, args=["b"], id="b", next_run_time=None)  # paused
    step(scheduler, clock, 0)
    report = scheduler.health_check()
    assert isinstance(report, HealthReport)
    assert (report.status, report.reasons, report.state, report.scheduler_id) == (HealthStatus.OK, [], "running", "me")
    assert report.last_pass_at == clock.current and report.next_wakeup_time == later(clock.current, 10)
    assert (report.tasks.scheduled, report.tasks.paused, report.tasks.set_aside) == (1, 1, 0)
    assert (report.runs.executed, report.runs.success_rate, report.runs.lateness_p50) == (1, 1.0, 0.0)
    [store] = report.stores
    assert (store.alias, store.kind, store.reachable, store.shared) == ("default", "MemoryStore", True, False)
    assert store.round_trip_ms is not None and store.round_trip_ms >= 0
    assert report.model_dump(mode="json")["status"] == "ok"


def test_paused_processing_is_degraded_and_a_stopped_scheduler_failing(make_scheduler: Make) -> None:
    scheduler, _ = make_scheduler()
    scheduler.pause()
    paused = scheduler.health_check()
    assert (paused.status, paused.reasons) == (HealthStatus.DEGRADED, ["processing is paused"])
    scheduler.shutdown()
    stopped = scheduler.health_check()
    assert (stopped.status, stopped.state) == (HealthStatus.FAILING, "stopped")
    assert stopped.reasons == ["the scheduler is not running"] and stopped.stores[0].reachable is None


def test_mostly_failing_runs_make_it_degraded(make_scheduler: Make, clock: FakeClock) -> None:
    scheduler, _ = make_scheduler()
    for n in range(8):
        scheduler.add_task(jobs.always_fail, "date", run_at=later(clock.current, 1), args=[f"f{n}"])
    for n in range(4):
        scheduler.add_task(jobs.succeed, "date", run_at=later(clock.current, 1), args=[f"s{n}"])
    step(scheduler, clock, 1)
    report = scheduler.health_check()
    assert report.status == HealthStatus.DEGRADED
    assert report.reasons == ["33% of the last 12 runs succeeded"]
    assert (report.runs.failed, report.runs.executed) == (8, 4)


def test_late_runs_make_it_degraded(make_scheduler: Make, clock: FakeClock) -> None:
    scheduler, _ = make_scheduler()
    scheduler.add_task(jobs.succeed, "date", run_at=later(clock.current, 1), args=["late"], mistrigger_grace_time=None)
    step(scheduler, clock, 8)  # started 7 s after its run time
    report = scheduler.health_check()
    assert report.runs.lateness_p99 == 7.0
    assert report.status == HealthStatus.DEGRADED and report.reasons == ["runs start late: p99 7.00 s"]


def test_the_window_covers_only_recent_runs(make_scheduler: Make, clock: FakeClock) -> None:
    scheduler, _ = make_scheduler()
    scheduler.add_task(jobs.always_fail, "date", run_at=later(clock.current, 1), args=["old"])
    step(scheduler, clock, 1)
    clock.advance(seconds=120)
    assert scheduler.health_check(window=60).runs.runs == 0
    assert scheduler.health_check(window=600).runs.failed == 1


def test_set_aside_tasks_make_it_degraded(make_scheduler: Make, tmp_path: Path) -> None:
    directory = tmp_path / "tasks"
    directory.mkdir()
    (directory / "task-broken.task").write_bytes(b"1.0\nnot a pickle")
    scheduler, _ = make_scheduler(stores={"default": {"type": "file", "directory": str(directory)}})
    scheduler.get_tasks()  # reading the store finds it unrestorable
    report = scheduler.health_check()
    assert report.status == HealthStatus.DEGRADED and report.tasks.set_aside == 1
    assert report.reasons == ["store 'default' has 1 task(s) set aside (stored but unrestorable)"]


def test_a_store_that_cannot_be_reached_degrades_it_and_no_store_at_all_fails_it(
    make_scheduler: Make, tmp_path: Path
) -> None:
    scheduler, _ = make_scheduler()
    scheduler.add_store("file", "files", directory=str(tmp_path / "tasks"))
    shutil.rmtree(tmp_path / "tasks")  # the file store's disk went away
    report = scheduler.health_check()
    down = {store.alias: store for store in report.stores}["files"]
    assert (down.reachable, down.round_trip_ms) == (False, None) and down.error is not None
    assert down.error.startswith("StoreUnavailableError") and "FileNotFoundError" in down.error
    assert report.status == HealthStatus.DEGRADED  # the memory store still answers
    assert report.reasons == [f"store 'files' cannot be reached: {down.error}"]

    scheduler.remove_store("default")
    alone = scheduler.health_check()
    assert alone.status == HealthStatus.FAILING and [s.reachable for s in alone.stores] == [False]


def test_failing_heartbeats_are_said_once_per_streak(
    make_scheduler: Make, tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A scheduler whose heartbeat cannot be written looks dead to the others' health checks,
    so the first failure is a warning; the ones after it would only repeat it every beat."""
    scheduler, _ = make_scheduler(stores={"default": {"type": "sqlalchemy", "url": f"sqlite:///{tmp_path / 's.db'}"}})
    store = scheduler.stores["default"]
    real_beat = store.beat

    def failing_beat(*args: Any) -> None:
        raise OSError("deadlock")

    monkeypatch.setattr(store, "beat", failing_beat)
    with caplog.at_level(logging.DEBUG, logger="asyncz_like"):
        for _ in range(3):
            scheduler.run_log.heartbeat()
        monkeypatch.setattr(store, "beat", real_beat)
        scheduler.run_log.heartbeat()
    said = [(r.levelname, r.getMessage()) for r in caplog.records if "heartbeat" in r.getMessage()]
    assert said[0] == ("WARNING", "Store 'default': heartbeat failed (deadlock); retrying every beat")
    assert [level for level, _ in said] == ["WARNING", "DEBUG", "DEBUG", "INFO"]
    assert said[-1] == ("INFO", "Store 'default': heartbeat written again")


@pytest.mark.parametrize("window", [0, -5, 90_000, "60", True])
def test_a_bad_window_is_refused(make_scheduler: Make, window: object) -> None:
    scheduler, _ = make_scheduler()
    with pytest.raises(ArgumentError, match=r"^window:"):
        scheduler.health_check(window=window)  # type: ignore[arg-type]
