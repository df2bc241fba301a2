"""Lateness of date tasks spread evenly over a window: p50 and p99 in milliseconds.

Each task records wall-clock time at its start minus the time it was scheduled for; runs a
library reports missed (default misfire grace, 1 s) are counted.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from datetime import datetime, timedelta, timezone
from typing import Any

from libs import Adapter

UTC = timezone.utc

_late: list[float] = []


async def record(scheduled: float) -> None:
    _late.append((time.time() - scheduled) * 1000.0)


async def run(lib: Adapter, params: dict[str, Any]) -> dict[str, Any]:
    count = int(params["count"])
    window = float(params["window"])
    missed = lib.count("missed")
    lib.start()
    await asyncio.sleep(0.05)
    first = datetime.now(UTC) + timedelta(seconds=0.2)
    for index in range(count):
        when = first + timedelta(seconds=window * index / count)
        lib.add_date(record, when, args=(when.timestamp(),))
    deadline = time.perf_counter() + window + 5
    while len(_late) + missed[0] < count and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)
    lib.shutdown()
    late = sorted(_late)
    if not late:
        return {"ran": 0, "missed": missed[0], "expected": count}
    p99 = late[min(len(late) - 1, round(0.99 * (len(late) - 1)))]
    return {"p50_ms": statistics.median(late), "p99_ms": p99, "ran": len(late), "missed": missed[0], "expected": count}
