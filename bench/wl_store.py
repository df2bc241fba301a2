"""A persistent store: add N interval tasks to a running scheduler, or fire N due tasks.

Task functions live at module level so every store can keep them by reference.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from libs import Adapter

_counter = itertools.count()
_ran = [0]


async def job() -> None:
    _ran[0] = next(_counter) + 1


async def run(lib: Adapter, params: dict[str, Any]) -> dict[str, Any]:
    count = int(params["count"])
    timeout = float(params.get("timeout", 60))
    if params["mode"] == "add":
        lib.start()
        lib.clear()
        await asyncio.sleep(0)
        began = time.perf_counter()
        for _ in range(count):
            lib.add_interval(job, 3600)
        for _ in range(3):
            await asyncio.sleep(0)
        elapsed = time.perf_counter() - began
        lib.shutdown()
        return {"tasks_per_s": count / elapsed, "seconds": elapsed}
    due = datetime.now(UTC) - timedelta(seconds=1)
    lib.start(paused=True)
    lib.clear()
    for _ in range(count):
        lib.add_date(job, due)
    await asyncio.sleep(0)
    began = time.perf_counter()
    lib.resume()
    while _ran[0] < count and time.perf_counter() < began + timeout:
        await asyncio.sleep(0.001)
    elapsed = time.perf_counter() - began
    ran = _ran[0]
    lib.shutdown()
    return {"tasks_per_s": ran / elapsed, "ran": ran, "expected": count, "seconds": elapsed}
