"""What the Celery and Dask tests share: three scheduler processes on one PostgreSQL store
handing 500 runs to an engine, and waiting for listener events."""

from __future__ import annotations

import collections
import json
import math
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from asyncz_like import ManualScheduler, SchedulerEvent
from tests.plugins.conftest import ROOT

PROCESSES = 3
TASKS = 50
RUNS_PER_TASK = 10  # every second for 10 seconds: 500 runs


def utc(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, timezone.utc)


def add_counted_tasks(store: dict[str, Any], start: float, record: Path) -> set[tuple[str, float]]:
    """Fill the store as a deploy script would; return every (task id, run time) due."""
    scheduler = ManualScheduler(timezone="UTC", stores={"default": dict(store)})
    scheduler.start()
    for n in range(TASKS):
        scheduler.add_task(
            "tests.plugins.jobs:count_run",
            "interval",
            seconds=1,
            start_at=utc(start),
            end_at=utc(start + RUNS_PER_TASK - 1),
            args=[str(record)],
            id=f"t{n}",
            coalesce=False,
            mistrigger_grace_time=None,
        )
    scheduler.shutdown()
    return {(f"t{n}", round(start + k, 3)) for n in range(TASKS) for k in range(RUNS_PER_TASK)}


def run_three_schedulers(
    engine: str, engine_config: dict[str, Any], store: dict[str, Any], tmp_path: Path
) -> tuple[set[tuple[str, float]], collections.Counter[tuple[str, float]], collections.Counter[str]]:
    """(expected runs, runs counted by the workers, scheduler events by kind)."""
    record, events = tmp_path / "runs.txt", tmp_path / "events.txt"
    record.touch()
    events.touch()
    start = math.ceil(time.time()) + 8  # time for every process to import and connect
    expected = add_counted_tasks(store, start, record)
    until = start + RUNS_PER_TASK + 3
    command = [sys.executable, "-m", "tests.plugins.scheduler_proc", "--engine", engine]
    command += ["--engine-config", json.dumps(engine_config), "--store", json.dumps(store)]
    command += ["--events", str(events), "--until", str(until)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    processes = [
        subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(PROCESSES)
    ]
    failures = []
    try:
        for process in processes:
            _, stderr = process.communicate(timeout=until - time.time() + 60)
            if process.returncode != 0 or "Traceback" in stderr:
                failures.append(f"exit {process.returncode}: {stderr[-3000:]}")
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    assert failures == [], failures
    counted: collections.Counter[tuple[str, float]] = collections.Counter()
    for line in record.read_text().splitlines():
        task_id, timestamp, _pid = line.split()
        counted[(task_id, round(float(timestamp), 3))] += 1
    kinds = collections.Counter(line.split()[0] for line in events.read_text().splitlines())
    schedulers = {line.split()[2] for line in events.read_text().splitlines()}
    assert len(schedulers) >= 2, "the three schedulers should share the runs"
    return expected, counted, kinds


class Heard:
    """Collects listener events across threads; ``wait`` blocks until a predicate holds."""

    def __init__(self) -> None:
        self.events: list[SchedulerEvent] = []
        self._cond = threading.Condition()

    def __call__(self, event: SchedulerEvent) -> None:
        with self._cond:
            self.events.append(event)
            self._cond.notify_all()

    def wait(self, predicate: Callable[[list[SchedulerEvent]], bool], timeout: float = 30.0) -> list[SchedulerEvent]:
        with self._cond:
            if not self._cond.wait_for(lambda: predicate(self.events), timeout):
                raise AssertionError(f"timed out; heard {self.events}")
            return list(self.events)

    def of(self, code: int, task_id: str | None = None) -> list[Any]:
        with self._cond:
            return [e for e in self.events if e.code == code and task_id in (None, getattr(e, "task_id", None))]
