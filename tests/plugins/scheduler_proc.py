"""One scheduler process on a shared store that hands its runs to an engine (Celery or Dask).

The runs are counted by the workers themselves (``tests.plugins.jobs.count_run``); this
process only records what its listeners hear, one line per event, to ``--events``:

    executed|error|abandoned|max_instances <task_id> <pid>

    python -m tests.plugins.scheduler_proc --engine celery|dask --engine-config JSON
        --store JSON --events FILE --until EPOCH [--lease S]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from typing import Any

from asyncz_like import (
    TASK_ERROR,
    TASK_EXECUTED,
    TASK_MAX_INSTANCES,
    TASK_RUN_ABANDONED,
    AsyncIOScheduler,
    SchedulerEvent,
)
from asyncz_like.abc import Executor

KINDS = {TASK_EXECUTED: "executed", TASK_ERROR: "error", TASK_RUN_ABANDONED: "abandoned", TASK_MAX_INSTANCES: "max"}


def make_executor(engine: str, config: dict[str, Any]) -> Executor:
    if engine == "celery":
        from asyncz_like_celery import CeleryExecutor

        from tests.plugins.celery_app import make_app

        return CeleryExecutor(app=make_app(config["url"], config["prefix"]))
    from asyncz_like_dask import DaskExecutor

    return DaskExecutor(address=config["address"])


async def main(options: argparse.Namespace) -> None:
    fd = os.open(options.events, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def record(event: SchedulerEvent) -> None:
        os.write(fd, f"{KINDS[event.code]} {getattr(event, 'task_id', None)} {os.getpid()}\n".encode())

    scheduler = AsyncIOScheduler(
        timezone="UTC",
        stores={"default": json.loads(options.store)},
        executors={"default": make_executor(options.engine, json.loads(options.engine_config))},
        lease_seconds=options.lease,
        store_retry_interval=0.5,
    )
    scheduler.add_listener(record, TASK_EXECUTED | TASK_ERROR | TASK_RUN_ABANDONED | TASK_MAX_INSTANCES)
    scheduler.start()
    print("ready", flush=True)
    await asyncio.sleep(max(options.until - time.time(), 0))
    scheduler.shutdown(wait=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", choices=["celery", "dask"], required=True)
    parser.add_argument("--engine-config", required=True)
    parser.add_argument("--store", required=True)
    parser.add_argument("--events", required=True)
    parser.add_argument("--until", type=float, required=True)
    parser.add_argument("--lease", type=float, default=5.0)
    asyncio.run(main(parser.parse_args()))
