"""``asyncz-like run``: a scheduler from a config file, running until Ctrl-C (or SIGTERM)."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable
from typing import Any

from asyncz_like.operations.specs import TaskSpec, add_from_spec

logger = logging.getLogger("asyncz_like.operations")


def add_configured_tasks(scheduler: Any, specs: list[TaskSpec]) -> list[str]:
    """Add the config's tasks. A task whose id the store already holds is kept as it is
    (an operator may have paused or rescheduled it) unless ``replace_existing`` is set.
    Returns the ids added."""
    added = []
    for spec in specs:
        if spec.id is not None and not spec.replace_existing and scheduler.get_task(spec.id, spec.store) is not None:
            logger.info("Task %r is already stored; kept as it is", spec.id)
            continue
        task = add_from_spec(scheduler, spec)
        added.append(str(task.id))
    return added


async def run_until_stopped(
    scheduler: Any, specs: list[TaskSpec], on_ready: Callable[[list[str]], None] | None = None
) -> None:
    """Start ``scheduler`` (an asyncio one; ``NativeAsyncIOScheduler`` lets the shutdown await
    coroutine runs), add the tasks, and run until SIGINT or SIGTERM; then shut down, letting
    runs in flight finish."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    installed = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, stop.set)
            installed.append(signum)
        except (NotImplementedError, RuntimeError):  # pragma: no cover - Windows, non-main thread
            pass
    started = scheduler.start(paused=True)  # tasks first, so the first pass already sees them
    if asyncio.iscoroutine(started):  # NativeAsyncIOScheduler
        await started
    try:
        added = add_configured_tasks(scheduler, specs)
        scheduler.resume()
        if on_ready is not None:
            on_ready(added)
        await stop.wait()
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)
        if scheduler.running:
            result = scheduler.shutdown(wait=True)
            if asyncio.iscoroutine(result):
                await result
