"""Add N interval tasks (an hour apart) to a running scheduler: tasks/s.

The clock stops once the loop has drained what the adds queued (the peers queue one
wakeup per add), so deferred work is counted, not hidden.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from libs import Adapter


async def noop() -> None:
    """The task body; never runs during the measurement."""


async def run(lib: Adapter, params: dict[str, Any]) -> dict[str, Any]:
    count = int(params["count"])
    lib.start()
    await asyncio.sleep(0)
    began = time.perf_counter()
    for _ in range(count):
        lib.add_interval(noop, 3600)
    for _ in range(3):
        await asyncio.sleep(0)
    elapsed = time.perf_counter() - began
    lib.shutdown()
    return {"tasks_per_s": count / elapsed, "seconds": elapsed}
