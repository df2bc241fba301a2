"""Real-time tests: real schedulers on real stores, judged by the wall clock.

The explicit clock proves the scheduling logic; it cannot see a wake-up that never comes.
These tests run each promise about *when* things happen for a few seconds, on every store,
and measure lateness (execution start minus scheduled run time).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from asyncz_like import TASK_EXECUTED, TASK_MISSED, TASK_SUBMITTED, SchedulerEvent
from tests.shared_store.conftest import SHARED_KINDS, store_config

UTC = timezone.utc
ALL_KINDS = ["memory", "file", *SHARED_KINDS]
PERSISTENT_KINDS = ["file", *SHARED_KINDS]
#: stores whose server pushes changes to running schedulers
NOTIFYING_KINDS = {"postgres", "redis", "mongodb"}

pytestmark = pytest.mark.servers


def realtime_store(kind: str, tmp_path: Path) -> dict[str, Any]:
    """JSON-safe store settings on a fresh location (a new table, keys, collection, folder)."""
    if kind == "memory":
        return {"type": "memory"}
    if kind == "file":
        return {"type": "file", "directory": str(tmp_path / "tasks")}
    return store_config(kind, tmp_path)


@pytest.fixture(params=ALL_KINDS)
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, dict[str, Any]]:
    return request.param, realtime_store(request.param, tmp_path)


@pytest.fixture(params=PERSISTENT_KINDS)
def persistent_store(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, dict[str, Any]]:
    return request.param, realtime_store(request.param, tmp_path)


@pytest.fixture(params=SHARED_KINDS)
def shared_kind_store(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, dict[str, Any]]:
    return request.param, realtime_store(request.param, tmp_path)


@dataclass
class Timeline:
    """What listeners saw: executions with their lateness and thread, missed runs."""

    executed: list[tuple[str, datetime, float, int]] = field(default_factory=list)
    missed: list[tuple[str, datetime]] = field(default_factory=list)
    submitted: list[tuple[str, int]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    MASK = TASK_EXECUTED | TASK_MISSED | TASK_SUBMITTED

    def __call__(self, event: SchedulerEvent) -> None:
        now = datetime.now(UTC)
        thread = threading.get_ident()
        with self.lock:
            if event.code == TASK_EXECUTED:
                run_time = event.scheduled_run_time  # type: ignore[attr-defined]
                self.executed.append((event.task_id, run_time, (now - run_time).total_seconds(), thread))  # type: ignore[arg-type]
            elif event.code == TASK_MISSED:
                self.missed.append((event.task_id, event.scheduled_run_time))  # type: ignore[arg-type, attr-defined]
            elif event.code == TASK_SUBMITTED:
                self.submitted.append((event.task_id, thread))  # type: ignore[arg-type]

    def runs_of(self, task_id: str) -> list[datetime]:
        return [run_time for tid, run_time, _, _ in self.executed if tid == task_id]

    def lateness(self) -> list[float]:
        return sorted(late for _, _, late, _ in self.executed)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(len(ordered) * q) - 1))]


def wait_until(condition: Any, timeout: float, interval: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


class ErrorRecords(logging.Handler):
    """Every ERROR (or worse) log record of the library while a test runs."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def messages(self) -> list[str]:
        return [record.getMessage()[:200] for record in self.records]


@pytest.fixture
def error_log() -> Iterator[ErrorRecords]:
    handler = ErrorRecords()
    logger = logging.getLogger("asyncz_like")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
