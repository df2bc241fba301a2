"""The ``dask`` executor plugin on a real LocalCluster of 2 worker processes: runs go out
by reference as futures, their completion callbacks report the outcome, the scheduler's
claim is held until the future is done."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
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
from tests.plugins.conftest import free_port
from tests.plugins.shared import Heard, run_three_schedulers
from tests.shared_store.conftest import store_config

pytestmark = [pytest.mark.servers, pytest.mark.dask, pytest.mark.timeout(180)]


def now() -> datetime:
    return datetime.now(timezone.utc)


@pytest.fixture
def client(dask_cluster: Any) -> Iterator[Any]:
    from distributed import Client

    with Client(dask_cluster.scheduler_address, set_as_default=False) as connected:
        yield connected


def scheduler_on(heard: Heard, **executor: Any) -> Any:
    def start(**options: Any) -> ManualScheduler:
        scheduler = ManualScheduler(timezone="UTC", **options)
        scheduler.add_executor("dask", "default", **executor)
        scheduler.add_listener(heard)
        scheduler.start()
        return scheduler

    return start


def released_with_next_run_in_an_hour(scheduler: ManualScheduler, task_id: str) -> None:
    deadline = time.monotonic() + 10
    while True:
        task = scheduler.get_task(task_id)
        if task is not None and task.next_run_time is not None and task.next_run_time > now() + timedelta(minutes=30):
            return
        assert time.monotonic() < deadline, f"not released: {task and task.next_run_time}"
        time.sleep(0.05)


def test_three_schedulers_hand_500_runs_to_the_cluster_and_each_runs_exactly_once(
    dask_cluster: Any, tmp_path: Path
) -> None:
    store = store_config("postgres", tmp_path)
    expected, counted, kinds = run_three_schedulers(
        "dask", {"address": dask_cluster.scheduler_address}, store, tmp_path
    )
    assert {run: n for run, n in counted.items() if n > 1} == {}, "a run executed twice on the workers"
    assert set(counted) == expected, f"missing: {sorted(expected - set(counted))[:10]}"
    assert kinds["executed"] == len(expected) and kinds["error"] == 0 and kinds["abandoned"] == 0


def test_return_values_and_errors_reach_the_listeners_through_a_given_client(client: Any) -> None:
    heard = Heard()
    scheduler = scheduler_on(heard, client=client)()
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
    finally:
        scheduler.shutdown()
    assert client.status == "running", "a client we were given is left open"


def test_a_function_without_an_importable_reference_is_refused_at_add_task(client: Any) -> None:
    scheduler = ManualScheduler(timezone="UTC")
    scheduler.add_executor("dask", "default", client=client)
    with pytest.raises(ValueError, match=r"^fn: .*Dask workers.*'module:name' reference"):
        scheduler.add_task(lambda: None, "date", run_at=now())


def test_max_instances_counts_runs_in_flight_on_the_workers(dask_cluster: Any) -> None:
    heard = Heard()
    scheduler = scheduler_on(heard, address=dask_cluster.scheduler_address)()
    try:
        scheduler.add_task("tests.plugins.jobs:sleep", "interval", seconds=60, args=[1.0], id="one", max_instances=1)
        scheduler.add_task("tests.plugins.jobs:sleep", "interval", seconds=60, args=[1.0], id="two", max_instances=2)
        scheduler.run_task("one")
        with pytest.raises(MaximumInstancesError):
            scheduler.run_task("one")  # still running on a worker
        scheduler.run_task("two")
        scheduler.run_task("two")
        assert len(heard.of(TASK_MAX_INSTANCES, "one")) == 1
        heard.wait(lambda events: len([e for e in events if e.code == TASK_EXECUTED]) == 3, timeout=20)
        assert scheduler.executors["default"].running_instances("one") == 0  # type: ignore[attr-defined]
        scheduler.run_task("one")
        heard.wait(lambda events: len([e for e in events if e.code == TASK_EXECUTED]) == 4, timeout=20)
    finally:
        scheduler.shutdown()


@pytest.mark.parametrize("policy", ["report", "rerun"])
def test_a_worker_killed_mid_run_follows_the_lease_policy(policy: str, dask_cluster: Any, tmp_path: Path) -> None:
    """Dask moves a dead worker's task to another worker. ``rerun`` lets it run there;
    ``report`` makes that second attempt refuse to run, and the run is reported with
    TASK_RUN_ABANDONED. Either way the claim on the shared store is released."""
    heard = Heard()
    store = store_config("postgres", tmp_path)
    start = scheduler_on(heard, address=dask_cluster.scheduler_address)
    scheduler = start(stores={"default": store}, lease_seconds=2)
    pid_file = tmp_path / "pid"
    try:
        scheduler.add_task(
            "tests.plugins.jobs:pid_then_sleep",
            "interval",
            seconds=3600,
            args=[str(pid_file), 2.0],
            id="victim",
            on_interrupted=policy,
            next_run_time=now(),
        )
        scheduler.process_tasks()
        deadline = time.monotonic() + 15
        while not pid_file.exists() or not pid_file.read_text():
            assert time.monotonic() < deadline, "the run never started"
            time.sleep(0.05)
        first_pid = int(pid_file.read_text())
        os.kill(first_pid, signal.SIGKILL)
        if policy == "report":
            heard.wait(lambda events: any(e.code == TASK_RUN_ABANDONED for e in events), timeout=30)
            (abandoned,) = heard.of(TASK_RUN_ABANDONED)
            assert abandoned.task_id == "victim" and len(abandoned.scheduled_run_times) == 1
            assert heard.of(TASK_EXECUTED) == []
        else:
            heard.wait(lambda events: any(e.code == TASK_EXECUTED for e in events), timeout=30)
            (executed,) = heard.of(TASK_EXECUTED)
            assert executed.return_value != first_pid, "it ran again, on another worker process"
            assert heard.of(TASK_RUN_ABANDONED) == []
        released_with_next_run_in_an_hour(scheduler, "victim")
    finally:
        scheduler.shutdown()
        dask_cluster.wait_for_workers(2, timeout=30)  # the nanny restarts the killed worker


def test_a_scheduler_down_at_start_is_a_clear_error() -> None:
    pytest.importorskip("asyncz_like_dask")
    address = f"tcp://127.0.0.1:{free_port()}"
    scheduler = ManualScheduler(timezone="UTC")
    scheduler.add_executor("dask", "default", address=address, connect_timeout=1)
    started = time.monotonic()
    with pytest.raises(ConnectionError, match=f"executor 'default': cannot reach the Dask scheduler at {address}"):
        scheduler.start()
    assert time.monotonic() - started < 10


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "address/client: give exactly one"),
        ({"address": 8786}, "address: expected a scheduler address string"),
        ({"address": "tcp://x:1", "connect_timeout": -1}, "connect_timeout: must be a positive"),
        ({"address": "tcp://x:1", "workers": 2}, r"unexpected argument\(s\) \['workers'\]"),
    ],
)
def test_bad_options_name_the_argument(options: dict[str, Any], message: str) -> None:
    pytest.importorskip("asyncz_like_dask")
    from asyncz_like_dask import DaskExecutor

    with pytest.raises((ValueError, TypeError), match=message):
        DaskExecutor(**options)
