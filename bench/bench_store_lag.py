"""Event-loop lag while an AsyncIOScheduler works through 10,000 due tasks in a Redis and a
PostgreSQL store. Store I/O runs off the loop, so lag should stay small (target p99 < 5 ms).

    source scripts/servers.sh; servers_start     # or set the two URLs yourself
    python bench/bench_store_lag.py [--tasks 10000]

Reads ASYNCZ_TEST_REDIS_URL and ASYNCZ_TEST_POSTGRES_URL. A ticker coroutine asks for a
1 ms sleep over and over; lag is how much later than asked it wakes up. The tasks keep the
default misfire grace (1 s): a run that starts later than that is reported missed and counted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import statistics
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import insert

from asyncz_like import TASK_MISSED, AsyncIOScheduler
from asyncz_like.stores.redis import RedisStore
from asyncz_like.stores.sqlalchemy import SQLAlchemyStore
from asyncz_like.tasks.task import Task
from asyncz_like.triggers.interval import IntervalTrigger

RAN = [0]
MISSED = [0]


async def job() -> None:
    RAN[0] += 1


def count_missed(event: object) -> None:
    MISSED[0] += 1  # listeners are called on the event loop, one at a time


def fill(store: Any, count: int, now: datetime) -> None:
    """Put ``count`` due tasks straight into the store, in bulk."""
    trigger = IntervalTrigger(hours=1, start_at=now, timezone="UTC")
    tasks = [Task(job, id=f"t{i:05d}", trigger=trigger, next_run_time=now) for i in range(count)]
    if isinstance(store, SQLAlchemyStore):
        rows = [{"id": t.id, "next_run_time": now.timestamp(), "state": store.encode_task(t)} for t in tasks]
        with store.engine.begin() as conn:
            conn.execute(insert(store.table), rows)
    else:
        pipe = store.redis.pipeline(transaction=False)
        for t in tasks:
            pipe.hset(store.tasks_key, t.id, store.encode_task(t))
            pipe.zadd(store.run_times_key, {t.id: now.timestamp()})
        pipe.execute()


async def measure(store: Any, count: int, timeout: float) -> dict[str, Any]:
    store.start(None, "default")
    store.remove_all_tasks()
    # due when the scheduler starts, not when filling began: filling takes a while
    due = datetime.now(timezone.utc) + timedelta(seconds=1 + count / 5000)
    fill(store, count, due)
    start_late = (datetime.now(timezone.utc) - due).total_seconds()
    await asyncio.sleep(max(-start_late, 0))
    RAN[0] = MISSED[0] = 0
    lags: list[float] = []
    scheduler = AsyncIOScheduler(timezone="UTC")
    scheduler.add_store(store, "default")
    scheduler.add_listener(count_missed, TASK_MISSED)
    started = time.perf_counter()
    scheduler.start()
    deadline = started + timeout
    while RAN[0] + MISSED[0] < count and time.perf_counter() < deadline:
        before = time.perf_counter()
        await asyncio.sleep(0.001)
        lags.append((time.perf_counter() - before - 0.001) * 1000)
    elapsed = time.perf_counter() - started
    # the pass stores each task's next run after submitting it: wait until all are stored
    while time.perf_counter() < deadline:
        first = await asyncio.to_thread(store.get_next_run_time)
        if first is not None and first > datetime.now(timezone.utc) + timedelta(minutes=30):
            break
        await asyncio.sleep(0.05)
    scheduler.shutdown(wait=False)
    store.start(None, "default")
    store.remove_all_tasks()
    store.shutdown()
    lags.sort()
    return {
        "tasks": count,
        "ran": RAN[0],
        "missed": MISSED[0],
        "started_late_s": round(max(start_late, 0), 3),
        "seconds": round(elapsed, 2),
        "runs_per_second": round(RAN[0] / elapsed),
        "lag_p50_ms": round(statistics.median(lags), 3),
        "lag_p99_ms": round(lags[int(len(lags) * 0.99) - 1], 3),
        "lag_max_ms": round(lags[-1], 3),
        "samples": len(lags),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument(
        "--switch-interval",
        type=float,
        default=None,
        help="sys.setswitchinterval (s): how long a thread may hold the GIL",
    )
    options = parser.parse_args()
    if options.switch_interval is not None:
        sys.setswitchinterval(options.switch_interval)
    logging.getLogger("asyncz_like").setLevel(logging.ERROR)  # missed runs are counted, not logged one by one
    uid = uuid.uuid4().hex[:8]
    stores: dict[str, Any] = {}
    if os.environ.get("ASYNCZ_TEST_REDIS_URL"):
        stores["redis"] = RedisStore(
            os.environ["ASYNCZ_TEST_REDIS_URL"], tasks_key=f"bench.{uid}.tasks", run_times_key=f"bench.{uid}.run_times"
        )
    if os.environ.get("ASYNCZ_TEST_POSTGRES_URL"):
        stores["postgres"] = SQLAlchemyStore(os.environ["ASYNCZ_TEST_POSTGRES_URL"], tablename=f"bench_{uid}")
    if not stores:
        raise SystemExit("set ASYNCZ_TEST_REDIS_URL and/or ASYNCZ_TEST_POSTGRES_URL (scripts/servers.sh does)")
    for name, store in stores.items():
        result = await measure(store, options.tasks, options.timeout)
        if isinstance(store, SQLAlchemyStore):
            store.table.drop(store.engine, checkfirst=True)
        print(json.dumps({"store": name, "switch_interval_s": sys.getswitchinterval(), **result}))


if __name__ == "__main__":
    asyncio.run(main())
