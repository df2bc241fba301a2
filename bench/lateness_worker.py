"""One scheduler process of ``bench_lateness.py``, driven line by line over stdin/stdout.

    python bench/lateness_worker.py LIB STORE URL NAME      (BENCH_LATENESS_RECORD=path)

    -> loaded                      the library is imported and its scheduler built, not started
    <- fill T0 TASKS INTERVAL RUNS (one worker) put TASKS interval tasks in the store, each due
                                   RUNS times from T0
    -> filled
    <- go UNTIL                    start the scheduler, run until the epoch UNTIL, shut down
    -> ready EPOCH ... done

Into the record file it appends (besides the ``start <task> <epoch> <pid>`` lines of
``lateness_job.tick``): ``executed <task> <run time epoch> <pid>`` and ``missed <task> <run
time epoch> <pid>`` for every run the library reports executed or missed, and ``error
<message>`` for every ERROR log record.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
from datetime import datetime, timezone
from typing import Any

from lateness_job import tick, write
from libs import Adapter, adapter

UTC = timezone.utc


class ErrorLines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            message = f"{type(record.exc_info[1]).__name__}: {record.exc_info[1]} (in: {message})"
        write(f"error {' '.join(message.split())[:300]}")


def outcome(kind: str) -> Any:
    """A listener that records ``kind`` ("executed" or "missed") with the task and run time."""

    def record(event: Any) -> None:
        task = getattr(event, "task_id", None) or getattr(event, "job_id", None)  # APScheduler 3: job_id
        run_time = getattr(event, "scheduled_run_time", None)
        stamp = run_time.timestamp() if isinstance(run_time, datetime) else float("nan")
        write(f"{kind} {task} {stamp:.6f} {os.getpid()}")

    return record


def fill(lib: Adapter, t0: float, tasks: int, interval: float, runs: int) -> None:
    """``tasks`` interval tasks, each due ``runs`` times: at t0, t0 + interval, ..."""
    start = datetime.fromtimestamp(t0, UTC)
    end = datetime.fromtimestamp(t0 + (runs - 0.5) * interval, UTC)  # no run after the window
    for n in range(tasks):
        lib.add_interval(tick, interval, start=start, end=end, args=(f"t{n}",), id=f"t{n}")


async def line() -> list[str]:
    return (await asyncio.to_thread(sys.stdin.readline)).split()


def say(*words: object) -> None:
    print(*words, flush=True)


async def main(lib_name: str, store: str, url: str | None, name: str) -> None:
    lib = adapter(lib_name, store, url, name)
    lib.listen("missed", outcome("missed"))
    lib.listen("executed", outcome("executed"))
    say("loaded")
    command = await line()
    if command[0] == "fill":
        t0, tasks, interval, runs = float(command[1]), int(command[2]), float(command[3]), int(command[4])
        if store == "memory":  # nothing outlives the process: the tasks wait in the scheduler until start
            fill(lib, t0, tasks, interval, runs)
        else:  # in the store before any worker starts, as after a deploy
            filler = adapter(lib_name, store, url, name)
            filler.start(paused=True)
            filler.clear()
            fill(filler, t0, tasks, interval, runs)
            filler.shutdown(wait=True)
        say("filled")
        command = await line()
    until = float(command[1])
    lib.start()
    say("ready", f"{time.time():.6f}")
    await asyncio.sleep(max(until - time.time(), 0))
    lib.shutdown(wait=True)
    say("done")


if __name__ == "__main__":
    logging.disable(logging.WARNING)  # the libraries log every run at INFO: not under test, but an ERROR is
    logging.getLogger().addHandler(ErrorLines())
    lib_name, store, url, name = sys.argv[1:5]
    asyncio.run(main(lib_name, store, url or None, name))
