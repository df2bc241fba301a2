"""The ``celery`` executor plugin on a real Celery worker process (prefork pool of 2) that
the tests start on the test Redis server: runs go out by reference, outcomes come back
from the result backend, the scheduler's claim is held until the worker is done."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from asyncz_like import (
    TASK_ERROR,
    TASK_EXECUTED,
    TASK_MAX_INSTANCES,
    TASK_RUN_ABANDONED,
    ManualScheduler,
)
from asyncz_like.exceptions import MaximumInstancesError
from tests.plugins.conftest import CeleryEngine, free_port, stop_process
from tests.plugins.shared import Heard, run_three_schedulers
from tests.shared_store.conftest import store_config

pytestmark = [pytest.mark.servers, pytest.mark.celery, pytest.mark.timeout(180)]


def scheduler_on(app: Any, heard: Heard, **options: Any) -> ManualScheduler:
    scheduler = ManualScheduler(timezone="UTC", **options)
    scheduler.add_executor("celery", "default", app=app, check_seconds=1.0)
    scheduler.add_listener(heard)
    scheduler.start()
    return scheduler


def now() -> datetime:
    return datetime.now(timezone.utc)


def released_with_next_run_in_an_hour(scheduler: ManualScheduler, task_id: str) -> None:
    """The claim is released (listeners hear the outcome just before) with the next run."""
    deadline = time.monotonic() + 10
    while True:
        task = scheduler.get_task(task_id)
        if task is not None and task.next_run_time is not None and task.next_run_time > now() + timedelta(minutes=30):
            return
        assert time.monotonic() < deadline, f"not released: {task and task.next_run_time}"
        time.sleep(0.05)


def test_three_schedulers_hand_500_runs_to_the_workers_and_each_runs_exactly_once(
    celery_engine: CeleryEngine, celery_worker: subprocess.Popen[bytes], tmp_path: Path
) -> None:
    config = {"url": celery_engine.url, "prefix": celery_engine.prefix}
    store = store_config("postgres", tmp_path)
    expected, counted, kinds = run_three_schedulers("celery", config, store, tmp_path)
    assert {run: n for run, n in counted.items() if n > 1} == {}, "a run executed twice on the workers"
    assert set(counted) == expected, f"missing: {sorted(expected - set(counted))[:10]}"
    assert kinds["executed"] == len(expected) and kinds["error"] == 0 and kinds["abandoned"] == 0


def test_return_values_and_errors_reach_the_listeners(
    celery_engine: CeleryEngine, celery_worker: subprocess.Popen[bytes]
) -> None:
    heard = Heard()
    scheduler = scheduler_on(celery_engine.app(), heard)
    try:
        scheduler.add_task("tests.plugins.jobs:add", "date", run_at=now(), args=[2, 3], id="add")
        scheduler.add_task("tests.plugins.jobs:async_double", "date", run_at=now(), args=[21], id="double")
        scheduler.add_task("tests.plugins.jobs:fail", "date", run_at=now(), args=["boom"], id="fail")
        scheduler.process_tasks()
        heard.wait(lambda events: len([e for e in events if e.code & (TASK_EXECUTED | TASK_ERROR)]) == 3)
        assert [e.return_value for e in heard.of(TASK_EXECUTED, "add")] == [5]
        assert [e.return_value for e in heard.of(TASK_EXECUTED, "double")] == [42], "coroutine functions run too"
        (error,) = heard.of(TASK_ERROR, "fail")
        assert isinstance(error.exception, ValueError) and str(error.exception) == "boom"
        assert "jobs.py" in error.traceback and "raise ValueError" in error.traceback, "the worker's traceback"
        assert scheduler.executors["default"].running_instances("add") == 0  # type: ignore[attr-defined]
    finally:
        scheduler.shutdown()


def test_a_function_without_an_importable_reference_is_refused_at_add_task(celery_engine: CeleryEngine) -> None:
    scheduler = ManualScheduler(timezone="UTC")
    scheduler.add_executor("celery", "default", app=celery_engine.app())
    with pytest.raises(ValueError, match=r"^fn: .*'module:name' reference"):
        scheduler.add_task(lambda: None, "date", run_at=now())  # refused even before start()
    assert scheduler.get_tasks() == []


def test_max_instances_counts_runs_in_flight_on_the_workers(
    celery_engine: CeleryEngine, celery_worker: subprocess.Popen[bytes]
) -> None:
    heard = Heard()
    scheduler = scheduler_on(celery_engine.app(), heard)
    try:
        scheduler.add_task("tests.plugins.jobs:sleep", "interval", seconds=60, args=[1.0], id="one", max_instances=1)
        scheduler.add_task("tests.plugins.jobs:sleep", "interval", seconds=60, args=[1.0], id="two", max_instances=2)
        scheduler.run_task("one")
        with pytest.raises(MaximumInstancesError):
            scheduler.run_task("one")  # still running on a worker
        scheduler.run_task("two")
        scheduler.run_task("two")  # two may run side by side on the pool of 2
        assert len(heard.of(TASK_MAX_INSTANCES, "one")) == 1
        heard.wait(lambda events: len([e for e in events if e.code == TASK_EXECUTED]) == 3, timeout=20)
        assert scheduler.executors["default"].running_instances("one") == 0  # type: ignore[attr-defined]
        scheduler.run_task("one")  # free again once the worker reported
        heard.wait(lambda events: len([e for e in events if e.code == TASK_EXECUTED]) == 4, timeout=20)
    finally:
        scheduler.shutdown()


@pytest.mark.parametrize("policy", ["report", "rerun"])
def test_a_pool_process_killed_mid_run_follows_the_lease_policy(
    policy: str, celery_engine: CeleryEngine, celery_worker: subprocess.Popen[bytes], tmp_path: Path
) -> None:
    """The worker reports the lost child (WorkerLostError); ``report`` skips the run with a
    TASK_RUN_ABANDONED, ``rerun`` sends it again. Either way the claim on the shared store is
    released and the schedule goes on."""
    heard = Heard()
    store = store_config("postgres", tmp_path)
    scheduler = scheduler_on(celery_engine.app(), heard, stores={"default": store}, lease_seconds=2)
    pid_file = tmp_path / "pid"
    try:
        scheduler.add_task(
            "tests.plugins.jobs:pid_then_sleep",
            "interval",
            seconds=3600,
            args=[str(pid_file), 3.0],
            id="victim",
            on_interrupted=policy,
            next_run_time=now(),
        )
        scheduler.process_tasks()
        deadline = time.monotonic() + 15
        while not pid_file.exists() or not pid_file.read_text():
            assert time.monotonic() < deadline, "the run never started"
            time.sleep(0.05)
        os.kill(int(pid_file.read_text()), signal.SIGKILL)
        if policy == "report":
            heard.wait(lambda events: any(e.code == TASK_RUN_ABANDONED for e in events), timeout=20)
            (abandoned,) = heard.of(TASK_RUN_ABANDONED)
            assert abandoned.task_id == "victim" and len(abandoned.scheduled_run_times) == 1
            assert heard.of(TASK_EXECUTED) == []
        else:
            heard.wait(lambda events: any(e.code == TASK_EXECUTED for e in events), timeout=30)
            assert heard.of(TASK_RUN_ABANDONED) == []
        released_with_next_run_in_an_hour(scheduler, "victim")
        assert scheduler.executors["default"].running_instances("victim") == 0  # type: ignore[attr-defined]
    finally:
        scheduler.shutdown()


def test_a_worker_killed_whole_is_found_by_ping_and_its_run_reported(
    celery_engine: CeleryEngine, tmp_path: Path
) -> None:
    """SIGKILL on the worker itself leaves its run 'STARTED' forever; the executor pings the
    worker holding it and, after two missed pings, reports the run as abandoned."""
    worker = celery_engine.start_worker("asyncz-doomed", pool="threads", concurrency=1, queue="doomed")
    heard = Heard()
    scheduler = ManualScheduler(timezone="UTC")
    scheduler.add_executor("celery", "default", app=celery_engine.app(), queue="doomed", check_seconds=0.5)
    scheduler.add_listener(heard)
    scheduler.start()
    pid_file = tmp_path / "pid"
    try:
        scheduler.add_task("tests.plugins.jobs:pid_then_sleep", "date", run_at=now(), args=[str(pid_file), 30], id="v")
        scheduler.process_tasks()
        deadline = time.monotonic() + 15
        while not pid_file.exists() or not pid_file.read_text():
            assert time.monotonic() < deadline, "the run never started"
            time.sleep(0.05)
        time.sleep(0.6)  # let one check see it STARTED
        os.killpg(worker.pid, signal.SIGKILL)
        heard.wait(lambda events: any(e.code == TASK_RUN_ABANDONED for e in events), timeout=15)
        (abandoned,) = heard.of(TASK_RUN_ABANDONED)
        assert abandoned.task_id == "v"
    finally:
        scheduler.shutdown(wait=False)
        stop_process(worker)


def test_a_broker_down_at_start_is_a_clear_error_with_the_password_masked() -> None:
    url = f"redis://asyncz:s3cret@127.0.0.1:{free_port()}/0"
    scheduler = ManualScheduler(timezone="UTC")
    scheduler.add_executor("celery", "default", broker_url=url, connect_timeout=2)
    with pytest.raises(ConnectionError) as raised:
        scheduler.start()
    message = str(raised.value)
    assert "executor 'default'" in message and "Celery broker" in message
    assert f"redis://asyncz:***@127.0.0.1:{url.rsplit(':', 1)[1]}" in message
    assert "s3cret" not in message


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "broker_url/app: give exactly one"),
        ({"broker_url": "amqp://localhost//"}, "backend_url: required"),
        ({"broker_url": "redis://localhost", "check_seconds": 0}, "check_seconds: must be a positive"),
        ({"broker_url": "redis://localhost", "prefetch": 4}, r"unexpected argument\(s\) \['prefetch'\]"),
    ],
)
def test_bad_options_name_the_argument(options: dict[str, Any], message: str) -> None:
    pytest.importorskip("asyncz_like_celery")
    from asyncz_like_celery import CeleryExecutor

    with pytest.raises((ValueError, TypeError), match=message):
        CeleryExecutor(**options)
