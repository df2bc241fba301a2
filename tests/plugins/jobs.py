"""Functions the engines' workers run by reference in the plugin tests."""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any


def _current_run() -> Any:
    """The run this worker call is, from whichever executor plugin sent it."""
    for module in ("asyncz_like_celery", "asyncz_like_dask"):
        try:
            run = __import__(module).current_run()
        except ImportError:
            continue
        if run is not None:
            return run
    raise RuntimeError("not called by an asyncz_like executor plugin")


def count_run(record: str) -> int:
    """Append '<task id> <run time> <pid>' to ``record``: the worker side's own count."""
    run = _current_run()
    fd = os.open(record, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, f"{run.task_id} {run.run_time.timestamp():.3f} {os.getpid()}\n".encode())
    finally:
        os.close(fd)
    return os.getpid()


def add(a: int, b: int) -> int:
    return a + b


async def async_double(x: int) -> int:
    await asyncio.sleep(0.01)
    return 2 * x


def fail(message: str) -> None:
    raise ValueError(message)


def sleep(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def pid_then_sleep(path: str, seconds: float) -> int:
    """Say which process runs this (so a test can kill it), then take a while."""
    with open(path, "w") as handle:
        handle.write(str(os.getpid()))
    time.sleep(seconds)
    return os.getpid()
