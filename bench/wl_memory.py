"""Resident memory per idle task: RSS growth after adding N interval tasks, divided by N."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

from libs import Adapter


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    import os

    return pages * os.sysconf("SC_PAGE_SIZE")


async def noop() -> None:
    """Never runs: the tasks are an hour away."""


async def run(lib: Adapter, params: dict[str, Any]) -> dict[str, Any]:
    count = int(params["count"])
    lib.start()
    for _ in range(10):  # warm up imports, caches and first-use allocations
        lib.add_interval(noop, 3600)
    await asyncio.sleep(0.01)
    gc.collect()
    before = rss_bytes()
    for _ in range(count):
        lib.add_interval(noop, 3600)
    await asyncio.sleep(0.01)
    gc.collect()
    after = rss_bytes()
    lib.shutdown()
    return {"bytes_per_task": (after - before) / count}
