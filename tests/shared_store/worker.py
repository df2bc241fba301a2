"""One scheduler process sharing a store with others, for the exactly-once tests.

Every outcome is appended to an independent record file (one line per event, O_APPEND),
so the test counts what all processes did, not what one process remembers:

    executed <task_id> <run time as UTC timestamp> <pid>
    abandoned <task_id> <run time> <pid>       (a dead scheduler's run, not re-run)
    missed <task_id> <run time> <pid>

    python -m tests.shared_store.worker --store JSON --record FILE --until EPOCH [--lease S]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from typing import Any

from asyncz_like import (
    TASK_EXECUTED,
    TASK_MISSED,
    TASK_RUN_ABANDONED,
    AsyncIOScheduler,
    SchedulerEvent,
    TaskExecutionEvent,
    TaskSubmissionEvent,
)

RUN_SECONDS = 0.15  # long enough that a SIGKILL lands while runs are in flight


def tick(task_id: str) -> str:
    """The shared task: takes a moment, like real work."""
    time.sleep(RUN_SECONDS)
    return task_id


class Record:
    def __init__(self, path: str) -> None:
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def write(self, kind: str, task_id: str | None, timestamp: float) -> None:
        os.write(self.fd, f"{kind} {task_id} {timestamp:.3f} {os.getpid()}\n".encode())

    def __call__(self, event: SchedulerEvent) -> None:
        if isinstance(event, TaskExecutionEvent) and event.scheduled_run_time is not None:
            kind = "executed" if event.code == TASK_EXECUTED else "missed"
            self.write(kind, event.task_id, event.scheduled_run_time.timestamp())
        elif isinstance(event, TaskSubmissionEvent) and event.code == TASK_RUN_ABANDONED:
            for run_time in event.scheduled_run_times:
                self.write("abandoned", event.task_id, run_time.timestamp())


def build_scheduler(store: dict[str, Any], lease: float, record: Record) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(
        timezone="UTC",
        stores={"default": store},
        executors={"default": {"type": "threadpool", "max_workers": 40}},
        lease_seconds=lease,
        store_retry_interval=0.5,
    )
    scheduler.add_listener(record, TASK_EXECUTED | TASK_MISSED | TASK_RUN_ABANDONED)
    return scheduler


async def main(options: argparse.Namespace) -> None:
    scheduler = build_scheduler(json.loads(options.store), options.lease, Record(options.record))
    scheduler.start()
    print("ready", flush=True)
    await asyncio.sleep(max(options.until - time.time(), 0))
    scheduler.shutdown(wait=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--store", required=True, help="store config as JSON: {'type': ..., ...}")
    parser.add_argument("--record", required=True)
    parser.add_argument("--until", type=float, required=True, help="epoch seconds to stop at")
    parser.add_argument("--lease", type=float, default=3.0)
    asyncio.run(main(parser.parse_args()))
