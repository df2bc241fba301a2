"""Running one task for its run times and describing the outcome as events.

Module-level functions so the process pool can pickle them.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, Protocol

from asyncz_like.events import TASK_ERROR, TASK_EXECUTED, TaskExecutionEvent

#: (run time, succeeded, return value, exception, formatted traceback); the built-in executors
#: add when the run started and ended (float UTC seconds), which the run history records
_Untimed = tuple[datetime, bool, Any, BaseException | None, str | None]
_Timed = tuple[datetime, bool, Any, BaseException | None, str | None, float, float]
Outcome = _Untimed | _Timed
Clock = Callable[[], float]


class Scope(Protocol):
    """What each run time of one submission runs inside, where it runs: the tracing extra's
    span, current while the function runs."""

    def __call__(self, run_time: datetime) -> AbstractContextManager[Any]:
        """Around the call for ``run_time``, in the worker; it sees the run's exception, if any."""

    def remote(
        self, reference: str, args: Sequence[Any], kwargs: dict[str, Any], run_times: Sequence[datetime]
    ) -> tuple[Callable[..., list[Outcome]], tuple[Any, ...]]:
        """For a worker process: the function to send and its arguments, which do what
        :func:`run_referenced` does with these, inside the scope."""


def failure_outcome(
    run_time: datetime, exc: BaseException, started: float | None = None, finished: float | None = None
) -> Outcome:
    formatted = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    if started is None or finished is None:
        return (run_time, False, None, exc, formatted)
    return (run_time, False, None, exc, formatted, started, finished)


def run_sync(
    fn: Callable[..., Any],
    args: Sequence[Any],
    kwargs: dict[str, Any],
    run_times: Sequence[datetime],
    clock: Clock = time.time,
    scope: Scope | None = None,
) -> list[Outcome]:
    """Call ``fn`` once per run time; an exception is an outcome, never a crash of the worker.
    ``clock`` times each run (the scheduler's clock, as UTC seconds); each call happens inside
    ``scope(run_time)`` when there is a scope."""
    outcomes: list[Outcome] = []
    for run_time in run_times:
        started = clock()
        try:
            if scope is None:
                value = fn(*args, **kwargs)
            else:
                with scope(run_time):
                    value = fn(*args, **kwargs)
        except Exception as exc:
            outcomes.append(failure_outcome(run_time, exc, started, clock()))
        else:
            outcomes.append((run_time, True, value, None, None, started, clock()))
    return outcomes


async def run_async(
    fn: Callable[..., Any],
    args: Sequence[Any],
    kwargs: dict[str, Any],
    run_times: Sequence[datetime],
    clock: Clock = time.time,
    scope: Scope | None = None,
) -> list[Outcome]:
    outcomes: list[Outcome] = []
    for run_time in run_times:
        started = clock()
        try:
            if scope is None:
                value = await fn(*args, **kwargs)
            else:
                with scope(run_time):
                    value = await fn(*args, **kwargs)
        except Exception as exc:
            outcomes.append(failure_outcome(run_time, exc, started, clock()))
        else:
            outcomes.append((run_time, True, value, None, None, started, clock()))
    return outcomes


def run_referenced(
    reference: str, args: Sequence[Any], kwargs: dict[str, Any], run_times: Sequence[datetime]
) -> list[Outcome]:
    """For worker processes: import the function by reference, then run it (async ones too)."""
    import asyncio

    from asyncz_like._callables import is_coroutine_callable, resolve_reference

    fn = resolve_reference(reference)
    if is_coroutine_callable(fn):
        return asyncio.run(run_async(fn, args, kwargs, run_times))
    return run_sync(fn, args, kwargs, run_times)


def outcome_events(
    task_id: str | None, store: str | None, alias: str | None, outcomes: Sequence[Outcome]
) -> list[TaskExecutionEvent]:
    events = []
    for outcome in outcomes:
        run_time, ok, value, exc, formatted = outcome[:5]
        events.append(
            TaskExecutionEvent(
                code=TASK_EXECUTED if ok else TASK_ERROR,
                alias=alias,
                task_id=task_id,
                store=store,
                scheduled_run_time=run_time,
                return_value=value,
                exception=exc,
                traceback=formatted,
            )
        )
    return events
