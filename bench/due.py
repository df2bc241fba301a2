"""Make N date tasks due together at the moment the scheduler resumes, not before.

With the default misfire grace (1 s) a task made due in the past would start late by the
time it took to add all the others, and be reported missed through no fault of the
firing. So the adding speed of this library (and store) is measured first on a small
batch that is then removed, the run time is set that far ahead (with room to spare),
and the caller resumes the scheduler when it arrives. Workloads report how late the resume
came (``resumed_late_s``); ``run.py`` measures again when it came too late to be fair.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta, timezone
from typing import Any

from libs import Adapter

UTC = timezone.utc

CALIBRATION = 200  # tasks added (an hour away) and removed again to time adding
SPARE = 2.0  # the run time is this many times the expected adding time ahead (adding can slow down as a store fills)
MARGIN = 0.25  # plus this many seconds
STALL = 15.0  # a workload stops waiting when nothing has run or been missed for this long


async def noop() -> None:
    """Never runs: the calibration tasks are removed before they are due."""


async def add_due_together(lib: Adapter, fn: Any, count: int) -> datetime:
    """Add ``count`` tasks of ``fn`` to ``lib``'s (paused) scheduler, all due at one instant,
    and wait until that instant; returns it. Call ``resume()`` right after."""
    sample = min(CALIBRATION, count)
    began = time.perf_counter()
    for _ in range(sample):
        lib.add_date(noop, datetime.now(UTC) + timedelta(hours=1))
    per_task = (time.perf_counter() - began) / sample
    lib.clear()
    due = datetime.now(UTC) + timedelta(seconds=SPARE * per_task * count + MARGIN)
    for _ in range(count):
        lib.add_date(fn, due)
    await asyncio.sleep(max((due - datetime.now(UTC)).total_seconds(), 0))
    return due


async def wait_for_outcomes(count: int, ran: list[int], missed: list[int], deadline: float) -> None:
    """Until ``ran[0] + missed[0]`` reaches ``count``, the deadline passes, or nothing changes
    for ``STALL`` seconds (a library that runs nothing at all need not hold the run up)."""
    seen, changed = -1, time.perf_counter()
    while ran[0] + missed[0] < count and time.perf_counter() < deadline:
        if ran[0] + missed[0] != seen:
            seen, changed = ran[0] + missed[0], time.perf_counter()
        elif time.perf_counter() - changed > STALL:
            return
        await asyncio.sleep(0.0005)
