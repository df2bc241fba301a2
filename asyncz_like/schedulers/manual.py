"""A scheduler without a timer: the caller drives it with ``process_tasks(now=...)``."""

from __future__ import annotations

from asyncz_like.abc import Executor
from asyncz_like.executors.debug import DebugExecutor
from asyncz_like.schedulers.base import BaseScheduler


class ManualScheduler(BaseScheduler):
    """Deterministic: nothing happens until you call ``process_tasks``. Runs tasks inline
    (debug executor) by default. For tests, simulations, and code that owns its own loop;
    ``process_tasks`` returns the seconds to wait until the next run."""

    def wakeup(self) -> None:
        """No timer to rearm: the caller decides when the next pass happens."""

    def create_default_executor(self) -> Executor:
        return DebugExecutor()
