"""Observers of run outcomes: what the metrics and tracing extras hook into.

The run log decides every outcome (executed, error, retried, missed, skipped, abandoned),
with its attempt and timing, in one place; an observer sees each as it is decided, from
the same figures the run history records. With no observer registered, the fire path
pays one truth test per outcome.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from asyncz_like.tasks.task import Task

logger = logging.getLogger("asyncz_like.history")


class RunObservation(NamedTuple):
    """One outcome of one run time, as the run history records it."""

    task: Task
    #: the task's store alias
    store: str
    #: the executor that ran it (for runs that did not happen: the one it names)
    executor: str | None
    #: the scheduled run time
    run_time: datetime
    #: a :class:`~asyncz_like.history.RunOutcome` value
    outcome: str
    attempt: int
    #: when the run started and ended (UTC seconds on the scheduler's clock); None when it
    #: did not run, or its executor does not time runs
    started: float | None
    ended: float
    exception: BaseException | None

    @property
    def lateness(self) -> float | None:
        """Start minus scheduled run time, for first attempts (a retry is late on purpose)."""
        if self.started is None or self.attempt > 1:
            return None
        return self.started - self.run_time.timestamp()

    @property
    def duration(self) -> float | None:
        return None if self.started is None else max(self.ended - self.started, 0.0)


Observer = Callable[[RunObservation], None]


def notify(observers: tuple[Observer, ...], observation: RunObservation) -> None:
    """Tell each observer; one that raises is logged and harms neither the run's bookkeeping
    nor the other observers."""
    for observer in observers:
        try:
            observer(observation)
        except Exception:
            logger.exception("Run observer %r failed", observer)


__all__ = ["Observer", "RunObservation", "notify"]
