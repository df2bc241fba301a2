"""CPU seconds the process uses while idle, with N tasks an hour away."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from libs import Adapter


async def noop() -> None:
    """Never runs."""


async def run(lib: Adapter, params: dict[str, Any]) -> dict[str, Any]:
    count = int(params["count"])
    lib.start()
    for _ in range(count):
        lib.add_interval(noop, 3600)
    await asyncio.sleep(0.2)  # let the add burst settle before measuring
    began = time.process_time()
    await asyncio.sleep(float(params["seconds"]))
    cpu = time.process_time() - began
    lib.shutdown()
    return {"cpu_s": cpu}
