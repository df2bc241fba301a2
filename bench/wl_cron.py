"""Cron next-fire time per call, through bench/bench_cron.py (the cron developer's harness)."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import bench_cron
from libs import Adapter

FACTORIES = {"ours": "ours", "asyncz": "with_asyncz", "apscheduler": "with_apscheduler3", "croniter": "with_croniter"}


async def run(lib: Adapter | None, params: dict[str, Any]) -> dict[str, Any]:
    factory = getattr(bench_cron, FACTORIES[params["impl"]])
    zone = ZoneInfo(bench_cron.ZONE)
    calls = int(params["calls"])
    return {"us_per_call": bench_cron.per_call_us(factory, params["expression"], zone, calls, 1)}
