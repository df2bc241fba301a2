"""A persistent store: add N interval tasks to a running scheduler, or fire N due tasks.

Task functions live at module level so every store can keep them by reference. Firing
makes the tasks due at the instant the paused scheduler resumes (``due.add_due_together``)
and counts the runs each library reports missed under its default misfire grace.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from datetime import datetime, timezone
from typing import Any

from due import add_due_together, wait_for_outcomes
from libs import Adapter

UTC = timezone.utc

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
    missed = lib.count("missed")
    lib.start(paused=True)
    lib.clear()
    due = await add_due_together(lib, job, count)
    began = time.perf_counter()
    lib.resume()
    resumed_late = (datetime.now(UTC) - due).total_seconds()
    await wait_for_outcomes(count, _ran, missed, began + timeout)
    elapsed = time.perf_counter() - began
    ran = _ran[0]
    lib.shutdown()
    return {
        "tasks_per_s": ran / elapsed,
        "ran": ran,
        "missed": missed[0],
        "expected": count,
        "seconds": elapsed,
        "resumed_late_s": resumed_late,
    }
