"""What a no-op TASK_EXECUTED listener adds to finishing one coroutine run on the loop thread,
in CPU microseconds: the figure behind ``bench_listener.py``'s, without its noise.

    PYTHONPATH=/tmp/before python bench/listener_cost.py   # one checkout per process

The executor's ``task_finished`` (what a coroutine run calls when it ends: history, events,
listeners, the claim) is called on the running loop for one task, in batches of 2,000,
without and with the listener. Each figure is the least of 40 batches of the loop thread's
own CPU time (``time.thread_time``), so other processes on the machine barely move it;
wall-clock throughput is ``bench_listener.py``'s job.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from datetime import datetime, timezone
from typing import Any

BATCH = 2_000
BATCHES = 40


async def job() -> None:
    """The task: never run here, its outcome is made up."""


def on_executed(event: Any) -> None:
    """A listener that does nothing: its cost is the cost of being called."""


async def finish_cost(listener: bool) -> float:
    from asyncz_like import TASK_EXECUTED, AsyncIOScheduler

    scheduler = AsyncIOScheduler(timezone="UTC")
    if listener:
        scheduler.add_listener(on_executed, TASK_EXECUTED)
    scheduler.start(paused=True)
    task = scheduler.add_task(job, "interval", seconds=3600, id="t")
    executor: Any = scheduler.executors["default"]
    now = datetime.now(timezone.utc)
    outcome: tuple[Any, ...] = (now, True, None, None, None)
    timed = (*outcome, time.time(), time.time())  # executors that time their runs add start and end
    outcomes = [timed]
    try:
        executor._instances["t"] = 1
        executor.task_finished(task, outcomes)
    except ValueError:  # a checkout from before run history: five-field outcomes
        outcomes = [outcome]
    best = float("inf")
    for _ in range(BATCHES):
        began = time.thread_time()
        for _ in range(BATCH):
            executor._instances["t"] = 1  # as if submitted: task_finished frees the instance
            executor.task_finished(task, outcomes)
        best = min(best, (time.thread_time() - began) / BATCH * 1e6)
        await asyncio.sleep(0)
    scheduler.shutdown(wait=False)
    return best


async def main() -> None:
    logging.disable(logging.WARNING)
    without, with_listener = round(await finish_cost(False), 2), round(await finish_cost(True), 2)
    import asyncz_like

    print(
        json.dumps(
            {
                "tree": asyncz_like.__file__.rsplit("/asyncz_like/", 1)[0],
                "finish_us": without,
                "finish_with_listener_us": with_listener,
                "listener_us": round(with_listener - without, 2),
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
