"""The worker side: one generic Celery task that imports a scheduled function by its
``module:name`` reference and calls it.

Every run of every schedule goes through this one task, so the workers need no code of
ours beyond :func:`register` (or the ready app in :mod:`asyncz_like_celery.worker`): the
scheduled functions themselves only have to be importable on the workers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from celery import Celery
from celery import Task as CeleryTask

from asyncz_like._callables import is_coroutine_callable, resolve_reference

#: the name the executor sends runs to; registered on the workers' app by :func:`register`
TASK_NAME = "asyncz_like_celery.run"


@dataclass(frozen=True, slots=True)
class RunContext:
    """Which scheduled run the current worker call is: for logs and idempotency keys."""

    task_id: str | None
    run_time: datetime


_current: ContextVar[RunContext | None] = ContextVar("asyncz_like_celery_run", default=None)


def current_run() -> RunContext | None:
    """Inside a function run by a Celery worker for asyncz_like: its task id and run time."""
    return _current.get()


def run_reference(
    reference: str, args: Sequence[Any], kwargs: dict[str, Any], task_id: str | None, run_time: str
) -> Any:
    """Import ``reference`` and call it once (a coroutine function in a fresh event loop).
    An exception propagates, so Celery records the run as failed, as any task of its own."""
    fn = resolve_reference(reference)
    token = _current.set(RunContext(task_id, datetime.fromisoformat(run_time)))
    try:
        if is_coroutine_callable(fn):
            return asyncio.run(fn(*args, **kwargs))
        return fn(*args, **kwargs)
    finally:
        _current.reset(token)


def register(app: Celery) -> CeleryTask:
    """Register the generic task on ``app``, the app the workers run; idempotent.

    ``track_started`` lets the executor see which worker holds a run, so it can tell a
    worker that died from one that is busy; ``acks_late`` stays off, so Celery never
    redelivers a run on its own (the executor applies the task's ``on_interrupted``)."""
    existing = app.tasks.get(TASK_NAME) if app.finalized else None
    if existing is not None:
        return existing
    task: CeleryTask = app.task(name=TASK_NAME, shared=False, track_started=True, acks_late=False)(run_reference)
    return task


__all__ = ["TASK_NAME", "RunContext", "current_run", "register", "run_reference"]
