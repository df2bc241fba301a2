"""Run history, retries and health.

* :mod:`~asyncz_like.history.records`: :class:`RunRecord`, what one outcome looks like;
* :mod:`~asyncz_like.history.retries`: the retry options and the retry a task carries;
* :mod:`~asyncz_like.history.log`: the scheduler's side (recording outcomes, scheduling
  retries, writing records to the stores in batches off the event loop);
* :mod:`~asyncz_like.history.health`: :class:`HealthReport`;
* ``sql``, ``redis``, ``mongo``, ``files``: how each store keeps records and heartbeats.

This module imports only the light parts: the task module depends on it.
"""

from __future__ import annotations

from typing import Any

from asyncz_like._lazy import load
from asyncz_like.history.records import RunOutcome, RunRecord
from asyncz_like.history.retries import PendingRetry
from asyncz_like.history.settings import HistorySettings

_LAZY = {
    "HealthReport": "asyncz_like.history.health",
    "HealthStatus": "asyncz_like.history.health",
    "RunStats": "asyncz_like.history.health",
    "SchedulerSeen": "asyncz_like.history.health",
    "StoreHealth": "asyncz_like.history.health",
    "TaskCounts": "asyncz_like.history.health",
}


def __getattr__(name: str) -> Any:
    return load(__name__, _LAZY, name)


__all__ = ["HistorySettings", "PendingRetry", "RunOutcome", "RunRecord", *_LAZY]
