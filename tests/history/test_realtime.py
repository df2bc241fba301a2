"""Real time, real processes, real servers: each attempt of a retried run runs exactly once
among three scheduler processes; the history they wrote is read by another process after
they stopped; health sees them while they run, and says so when a store's server stops."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from asyncz_like import AsyncIOScheduler, ManualScheduler
from asyncz_like.history import HealthStatus, RunOutcome
from tests.history import jobs
from tests.private_servers import (  # noqa: F401  (fixtures)
    Server,
    mariadb_server,
    mongodb_server,
    postgres_server,
    redis_server,
)
from tests.shared_store.conftest import SHARED_KINDS, store_config

pytestmark = pytest.mark.servers
ROOT = Path(__file__).resolve().parents[2]
UTC = timezone.utc
TASKS = 10
PROCESSES = 3


def spawn(config: dict[str, Any], until: float, name: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.history.worker",
            "--store",
            json.dumps(config),
            "--until",
            str(until),
            "--id",
            name,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def observer(config: dict[str, Any], **options: Any) -> ManualScheduler:
    """A scheduler in this process that never runs a pass: it only reads the shared store."""
    scheduler = ManualScheduler(timezone="UTC", stores={"default": dict(config)}, scheduler_id="observer", **options)
    scheduler.start()
    return scheduler


def utc(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


@pytest.fixture
def location(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """Store settings on a fresh location; afterwards its tasks, history and heartbeats go."""
    kind = request.param
    config = {"type": "file", "directory": str(tmp_path / "tasks")} if kind == "file" else store_config(kind, tmp_path)
    yield config
    scheduler = observer(config)
    store: Any = scheduler.stores["default"]
    try:
        if kind in ("sqlite", "postgres", "mariadb"):
            from sqlalchemy import MetaData, Table

            for name in (store.table.name, f"{store.table.name}_history", f"{store.table.name}_schedulers"):
                Table(name, MetaData()).drop(store.engine, checkfirst=True)
        elif kind == "redis":
            keys = [*store.redis.scan_iter(match=f"{store.tasks_key}*"), store.run_times_key]
            store.redis.delete(*keys)
        elif kind == "mongodb":
            database = store.collection.database
            for suffix in ("", "_history", "_schedulers"):
                database.drop_collection(f"{store.collection.name}{suffix}")
    finally:
        scheduler.shutdown()


def wait_ready(processes: list[subprocess.Popen[str]]) -> None:
    for process in processes:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.strip() == "ready", process.stderr.read() if process.stderr else line


def finish(processes: list[subprocess.Popen[str]], timeout: float) -> None:
    for process in processes:
        try:
            _, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
        assert process.returncode == 0, stderr[-3000:]


@pytest.mark.parametrize("location", SHARED_KINDS, indirect=True)
def test_each_attempt_runs_exactly_once_among_three_processes(location: dict[str, Any], tmp_path: Path) -> None:
    start = time.time() + 4.0
    deploy = observer(location)
    for n in range(TASKS):
        deploy.add_task(
            jobs.flaky_file, "date", run_at=utc(start + n * 0.02), args=[str(tmp_path / f"t{n}.txt"), 2],
            id=f"t{n}", max_retries=3, retry_delay=0.5, mistrigger_grace_time=None,
        )  # fmt: skip
    deploy.shutdown()
    processes = [spawn(location, start + 5.0, f"worker-{i}") for i in range(PROCESSES)]
    try:
        wait_ready(processes)
        time.sleep(max(start + 1.0 - time.time(), 0))
        watching = observer(location)
        try:  # while they run: health sees all three, alive
            seen = {s.scheduler_id: s for s in watching.health_check().stores[0].schedulers}
            assert {f"worker-{i}" for i in range(PROCESSES)} <= set(seen), seen
            assert all(seen[f"worker-{i}"].alive for i in range(PROCESSES))
        finally:
            watching.shutdown()
    finally:
        finish(processes, timeout=30)

    for n in range(TASKS):  # attempts 1 and 2 failed, 3 succeeded: each ran once, no more
        assert len((tmp_path / f"t{n}.txt").read_text().splitlines()) == 3, n

    reader = observer(location)  # another process, after they all stopped
    try:
        records = reader.get_run_history(limit=1000)
        assert reader.get_tasks() == []  # every one-off task finished
    finally:
        reader.shutdown()
    by_task: dict[str, list[tuple[int, RunOutcome]]] = defaultdict(list)
    for record in records:
        by_task[record.task_id].append((record.attempt, record.outcome))
    expected = [(3, RunOutcome.EXECUTED), (2, RunOutcome.RETRIED), (1, RunOutcome.RETRIED)]
    assert {task_id: runs for task_id, runs in by_task.items()} == {f"t{n}": expected for n in range(TASKS)}
    assert {record.scheduler_id for record in records} <= {f"worker-{i}" for i in range(PROCESSES)}
    assert all(record.scheduled_run_time == utc(start + int(record.task_id[1:]) * 0.02) for record in records)


@pytest.mark.parametrize("location", ["file", *SHARED_KINDS], indirect=True)
def test_history_survives_a_restart_and_is_read_by_another_process(location: dict[str, Any], tmp_path: Path) -> None:
    start = time.time() + 3.0
    deploy = observer(location)
    deploy.add_task(
        jobs.flaky_file, "interval", seconds=0.25, start_at=utc(start), end_at=utc(start + 1.0),
        args=[str(tmp_path / "runs.txt"), 0], id="every", mistrigger_grace_time=None, coalesce=False,
    )  # fmt: skip
    deploy.shutdown()
    process = spawn(location, start + 2.0, "only")
    wait_ready([process])
    finish([process], timeout=30)

    ran = len((tmp_path / "runs.txt").read_text().splitlines())
    reader = observer(location)
    try:
        records = reader.get_run_history("every")
    finally:
        reader.shutdown()
    assert ran == 5 and len(records) == ran
    assert Counter((r.outcome, r.scheduler_id) for r in records) == {(RunOutcome.EXECUTED, "only"): 5}
    assert [r.scheduled_run_time for r in records] == [utc(start + 0.25 * n) for n in (4, 3, 2, 1, 0)]


def _wait(condition: Any, timeout: float) -> bool:
    """Whether ``condition()`` becomes true in time; raising counts as not yet."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():
                return True
        except Exception:
            pass
        time.sleep(0.1)
    return False


@pytest.mark.parametrize("server_name", ["redis_server", "postgres_server", "mariadb_server", "mongodb_server"])
def test_health_with_the_store_server_stopped(request: pytest.FixtureRequest, server_name: str) -> None:
    server: Server = request.getfixturevalue(server_name)
    server.heal()
    if server_name == "redis_server":
        store = {"type": "redis", "url": server.url, "tasks_key": "h.tasks", "run_times_key": "h.run_times"}
    elif server_name == "mongodb_server":
        store = {"type": "mongodb", "url": server.url, "collection": "health_tasks"}
    else:
        store = {"type": "sqlalchemy", "url": server.url, "tablename": "health_tasks"}
    scheduler = AsyncIOScheduler(
        timezone="UTC", stores={"default": {**store, "connect_timeout": 1, "operation_timeout": 1}},
        lease_seconds=3, store_retry_interval=0.3, isolated_event_loop=True,
    )  # fmt: skip
    scheduler.start()
    try:
        report = scheduler.health_check()
        assert report.status == HealthStatus.OK, report.reasons
        assert report.stores[0].reachable and report.stores[0].round_trip_ms is not None

        server.stop()
        began = time.monotonic()
        down = scheduler.health_check()
        assert time.monotonic() - began < 10  # bounded by the store's timeouts
        assert down.status == HealthStatus.FAILING
        assert down.stores[0].reachable is False and down.stores[0].error
        assert down.reasons[0].startswith("store 'default' cannot be reached")

        server.start()
        assert _wait(lambda: scheduler.health_check().status == HealthStatus.OK, 15)
    finally:
        server.heal()
        scheduler.shutdown()


def test_records_written_while_the_server_is_down_arrive_once_it_is_back(redis_server: Server) -> None:  # noqa: F811
    redis_server.heal()
    store = {"type": "redis", "url": redis_server.url, "tasks_key": "w.tasks", "run_times_key": "w.run_times"}
    scheduler = AsyncIOScheduler(
        timezone="UTC", stores={"default": {**store, "connect_timeout": 1, "operation_timeout": 1}},
        executors={"default": {"type": "threadpool", "max_workers": 2}},
        lease_seconds=3, store_retry_interval=0.3, isolated_event_loop=True,
    )  # fmt: skip
    scheduler.start()
    try:
        scheduler.add_task(jobs.take_nap, "date", args=[1.0], id="nap", run_at=utc(time.time() + 0.2))
        time.sleep(0.6)  # the run is in flight
        redis_server.stop()
        time.sleep(1.5)  # it ends: its record (and its release) cannot be written now
        redis_server.start()
        assert _wait(lambda: len(scheduler.get_run_history("nap")) == 1 and not scheduler.run_log.has_pending(), 20)
        [record] = scheduler.get_run_history("nap")
        assert record.outcome == RunOutcome.EXECUTED and record.duration is not None and record.duration >= 1.0
    finally:
        redis_server.heal()
        scheduler.shutdown()
