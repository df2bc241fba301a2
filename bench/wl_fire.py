"""Fire N tasks that are all due at once: executions/s, and how many ran (all must).

``mode=fire``: the tasks are added while the scheduler is paused; the clock runs from
``resume()`` until the last execution. ``mode=add_fire``: the scheduler runs, and the
clock covers adding the due tasks as well as running them.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from libs import Adapter

_counter = itertools.count()  # next() is atomic under the GIL: safe from pool threads too
_ran = [0]


async def job_async() -> None:
    _ran[0] = next(_counter) + 1


def job_sync() -> None:
    _ran[0] = next(_counter) + 1


async def _wait_for(count: int, deadline: float) -> None:
    while _ran[0] < count and time.perf_counter() < deadline:
        await asyncio.sleep(0.0005)


async def run(lib: Adapter, params: dict[str, Any]) -> dict[str, Any]:
    count = int(params["count"])
    fn = job_async if params.get("kind", "async") == "async" else job_sync
    timeout = float(params.get("timeout", 60))
    due = datetime.now(UTC) - timedelta(seconds=1)
    if params.get("mode", "fire") == "fire":
        lib.start(paused=True)
        for _ in range(count):
            lib.add_date(fn, due)
        await asyncio.sleep(0)
        began = time.perf_counter()
        lib.resume()
    else:
        lib.start()
        await asyncio.sleep(0)
        began = time.perf_counter()
        for _ in range(count):
            lib.add_date(fn, due)
    await _wait_for(count, began + timeout)
    elapsed = time.perf_counter() - began
    ran = _ran[0]
    lib.shutdown()
    return {"exec_per_s": ran / elapsed, "ran": ran, "expected": count, "seconds": elapsed}
