"""Several scheduler processes on one store: each due run executes exactly once, and a
scheduler killed with SIGKILL loses nothing.

Real processes, real servers; outcomes are counted in a record file every process appends
to, never in one process's memory.
"""

from __future__ import annotations

import collections
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from asyncz_like import ManualScheduler

PROCESSES = 4
TASKS = 100
RUNS_PER_TASK = 10  # a 1-second interval over ~10 seconds
ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.servers


def add_tasks(store: dict[str, Any], start: float, policy: str, tasks: int = TASKS, runs: int = RUNS_PER_TASK) -> None:
    """Fill the shared store from a separate scheduler, as a deploy script would: ``tasks``
    tasks, each running every second from ``start`` for ``runs`` runs."""
    scheduler = ManualScheduler(timezone="UTC", stores={"default": dict(store)})
    scheduler.start()
    for n in range(tasks):
        scheduler.add_task(
            "tests.shared_store.worker:tick",
            "interval",
            seconds=1,
            start_at=_utc(start),
            end_at=_utc(start + runs - 1),
            args=[f"t{n}"],
            id=f"t{n}",
            coalesce=False,
            mistrigger_grace_time=None,
            on_interrupted=policy,
        )
    scheduler.shutdown()


def _utc(timestamp: float) -> Any:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(timestamp, timezone.utc)


def spawn(store: dict[str, Any], record: Path, until: float, lease: float) -> subprocess.Popen[str]:
    import json

    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.shared_store.worker",
            "--store",
            json.dumps(store),
            "--record",
            str(record),
            "--until",
            str(until),
            "--lease",
            str(lease),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def read_record(path: Path) -> dict[str, collections.Counter[tuple[str, float]]]:
    kinds: dict[str, collections.Counter[tuple[str, float]]] = collections.defaultdict(collections.Counter)
    for line in path.read_text().splitlines():
        kind, task_id, timestamp, _pid = line.split()
        kinds[kind][(task_id, round(float(timestamp), 3))] += 1
    return kinds


def expected_runs(start: float) -> set[tuple[str, float]]:
    return {(f"t{n}", round(start + k, 3)) for n in range(TASKS) for k in range(RUNS_PER_TASK)}


def run_cluster(
    store: dict[str, Any], record: Path, *, policy: str, kill_at: float | None, lease: float
) -> tuple[float, list[str]]:
    start = math.ceil(time.time()) + 6  # time for every process to import and connect
    add_tasks(store, start, policy)
    until = start + RUNS_PER_TASK + (lease + 3 if kill_at is not None else 2)
    workers = [spawn(store, record, until, lease) for _ in range(PROCESSES)]
    errors: list[str] = []
    try:
        if kill_at is not None:
            time.sleep(max(start + kill_at - time.time(), 0))
            os.kill(workers[0].pid, signal.SIGKILL)
        for worker in workers:
            _, stderr = worker.communicate(timeout=until - time.time() + 30)
            if worker.returncode not in (0, -signal.SIGKILL):
                errors.append(f"worker exited {worker.returncode}: {stderr[-2000:]}")
            elif "Traceback" in stderr or "cannot be restored" in stderr:  # a crash, or a task set aside
                errors.append(stderr[-2000:])
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
    return start, errors


def test_every_run_executes_exactly_once_across_four_processes(shared_store: dict[str, Any], record_path: Path) -> None:
    start, errors = run_cluster(shared_store, record_path, policy="report", kill_at=None, lease=5)
    assert errors == []
    record = read_record(record_path)
    executed = record["executed"]
    duplicates = {run: count for run, count in executed.items() if count > 1}
    assert duplicates == {}, f"{len(duplicates)} runs executed more than once"
    assert set(executed) == expected_runs(start), f"missing: {sorted(expected_runs(start) - set(executed))[:10]}"
    assert not record["missed"] and not record["abandoned"]
    processes = {line.split()[3] for line in record_path.read_text().splitlines()}
    assert len(processes) >= 2, "the processes should share the runs (which one wins a row is a race)"


def test_a_killed_scheduler_loses_nothing_and_its_runs_are_reported(
    shared_store: dict[str, Any], record_path: Path
) -> None:
    start, errors = run_cluster(shared_store, record_path, policy="report", kill_at=4.05, lease=2)
    assert errors == []
    record = read_record(record_path)
    executed, abandoned = record["executed"], record["abandoned"]
    assert {run: n for run, n in executed.items() if n > 1} == {}, "the report policy never runs twice"
    lost = expected_runs(start) - set(executed) - set(abandoned)
    assert lost == set(), f"{len(lost)} runs neither executed nor reported: {sorted(lost)[:10]}"
    assert set(abandoned) <= expected_runs(start)


@pytest.mark.parametrize("shared_store", ["postgres", "redis"], indirect=True)
def test_with_rerun_policy_interrupted_runs_run_again(shared_store: dict[str, Any], record_path: Path) -> None:
    start, errors = run_cluster(shared_store, record_path, policy="rerun", kill_at=4.05, lease=2)
    assert errors == []
    record = read_record(record_path)
    executed = record["executed"]
    assert set(executed) == expected_runs(start), "rerun: every run executes at least once"
    assert not record["abandoned"]
    duplicates = [run for run, n in executed.items() if n > 1]
    # only runs the killed scheduler held when it died may run twice: at most one second's worth
    assert len(duplicates) <= TASKS
