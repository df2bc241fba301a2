"""The ``dask`` executor passes a task's priority on as Dask's own: on a cluster whose only
worker thread is busy, a run sent later with a higher priority starts before runs sent
earlier (without it, Dask starts them in the order they were submitted)."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from asyncz_like import ManualScheduler
from tests.core import priority_jobs
from tests.plugins.conftest import require_plugin

pytestmark = [pytest.mark.dask, pytest.mark.timeout(120)]


@pytest.fixture
def one_thread_cluster() -> Iterator[Any]:
    """One worker with one thread, in this process: a single slot, so the order is the cluster's."""
    require_plugin("asyncz_like_dask")
    from distributed import LocalCluster

    cluster = LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None, silence_logs=logging.CRITICAL
    )
    try:
        yield cluster
    finally:
        cluster.close()


def wait_for(path: Path, lines: int) -> list[str]:
    deadline = time.monotonic() + 30
    while not (path.exists() and len(path.read_text().split()) >= lines):
        assert time.monotonic() < deadline, f"waited for {lines} line(s) in {path.name}"
        time.sleep(0.02)
    return path.read_text().split()


def test_a_later_run_of_higher_priority_starts_first_on_the_cluster(one_thread_cluster: Any, tmp_path: Path) -> None:
    now = datetime.now(timezone.utc)
    trace, held, release = tmp_path / "started.txt", tmp_path / "held", tmp_path / "release"
    scheduler = ManualScheduler(timezone="UTC", clock=lambda: now)
    scheduler.add_executor("dask", "default", address=one_thread_cluster.scheduler_address)
    scheduler.start()
    try:
        scheduler.add_task(priority_jobs.hold_until, "date", run_at=now, args=[str(held), str(release)])
        scheduler.process_tasks()
        deadline = time.monotonic() + 30
        while not held.exists():
            assert time.monotonic() < deadline, "the blocking run did not start"
            time.sleep(0.02)
        # Dask sends the first runs of a kind to the worker ahead (they then run in the order
        # sent) and queues the rest on its scheduler, in priority order: two fillers go first
        sent = [("filler", 0), ("filler", 0), ("nightly", -1), ("plain", 0), ("urgent", 5)]
        for label, priority in sent:  # one pass each
            args = [str(trace), label]
            scheduler.add_task(priority_jobs.mark_start, "date", run_at=now, args=args, priority=priority)
            scheduler.process_tasks()
        time.sleep(0.3)  # they reach the cluster and wait for its only thread
        assert not trace.exists()
        release.touch()
        started = wait_for(trace, len(sent))
        assert [label for label in started if label != "filler"] == ["urgent", "plain", "nightly"]
    finally:
        scheduler.shutdown()
