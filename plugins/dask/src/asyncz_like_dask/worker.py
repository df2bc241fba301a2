"""The worker side: what a Dask worker runs for one scheduled run.

Dask re-runs the tasks of a worker that died on another worker. For a task whose
``on_interrupted`` is ``"report"`` (run at most once) that must not happen, so such a run
first marks itself started in a scheduler-side :class:`distributed.Event` named after its
key: an attempt that finds the mark set is a re-run after a death, and refuses to run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from asyncz_like._callables import is_coroutine_callable, resolve_reference


class RunInterrupted(RuntimeError):
    """This run's first attempt died with its worker; under ``on_interrupted="report"`` it
    is reported, not run again."""


@dataclass(frozen=True, slots=True)
class RunContext:
    """Which scheduled run the current worker call is: for logs and idempotency keys."""

    task_id: str | None
    run_time: datetime


_current: ContextVar[RunContext | None] = ContextVar("asyncz_like_dask_run", default=None)


def current_run() -> RunContext | None:
    """Inside a function run by a Dask worker for asyncz_like: its task id and run time."""
    return _current.get()


def run_on_worker(
    reference: str, args: Sequence[Any], kwargs: dict[str, Any], task_id: str | None, run_time: datetime, once: bool
) -> Any:
    """Import ``reference`` and call it once (a coroutine function in a fresh event loop);
    with ``once``, refuse an attempt that follows one lost with its worker."""
    marker = _mark_started() if once else None
    try:
        fn = resolve_reference(reference)
        token = _current.set(RunContext(task_id, run_time))
        try:
            if is_coroutine_callable(fn):
                return asyncio.run(fn(*args, **kwargs))
            return fn(*args, **kwargs)
        finally:
            _current.reset(token)
    finally:
        if marker is not None:
            marker.clear()  # a cleared event is deleted on the scheduler: nothing accumulates


def _mark_started() -> Any:
    from distributed import Event, get_worker

    key = get_worker().get_current_task()
    marker = Event(f"asyncz_like-started-{key}")
    if marker.is_set():
        marker.clear()
        raise RunInterrupted(f"run {key} was interrupted by the death of its worker; not re-run")
    marker.set()
    return marker
