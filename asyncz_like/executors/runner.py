"""Running one task for its run times and describing the outcome as events.

Module-level functions so the process pool can pickle them.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from asyncz_like.events import TASK_ERROR, TASK_EXECUTED, TaskExecutionEvent

#: (run time, succeeded, return value, exception, formatted traceback); the built-in executors
#: add when the run started and ended (float UTC seconds), which the run history records
_Untimed = tuple[datetime, bool, Any, BaseException | None, str | None]
_Timed = tuple[datetime, bool, Any, BaseException | None, str | None, float, float]
Outcome = _Untimed | _Timed
Clock = Callable[[], float]


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
) -> list[Outcome]:
    """Call ``fn`` once per run time; an exception is an outcome, never a crash of the worker.
    ``clock`` times each run (the scheduler's clock, as UTC seconds)."""
    outcomes: list[Outcome] = []
    for run_time in run_times:
        started = clock()
        try:
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
) -> list[Outcome]:
    outcomes: list[Outcome] = []
    for run_time in run_times:
        started = clock()
        try:
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
