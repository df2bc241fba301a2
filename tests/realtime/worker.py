"""One scheduler process of several on a shared store, for the on-time tests.

Appends one line per outcome to a record file every process shares (O_APPEND):

    executed <task> <run time epoch> <lateness seconds> <pid>
    missed <task> <run time epoch> - <pid>
    error <message> - - <pid>            (every ERROR log record of the library)

    python -m tests.realtime.worker --store JSON --record FILE --until EPOCH
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import time
from typing import Any

from asyncz_like import TASK_EXECUTED, TASK_MISSED, AsyncIOScheduler, SchedulerEvent


class Record(logging.Handler):
    def __init__(self, path: str) -> None:
        super().__init__(level=logging.ERROR)
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def line(self, *fields: Any) -> None:
        os.write(self.fd, (" ".join(str(f) for f in (*fields, os.getpid())) + "\n").encode())

    def emit(self, record: logging.LogRecord) -> None:
        self.line("error", record.getMessage().replace("\n", " ")[:200].replace(" ", "_"), "-", "-")

    def __call__(self, event: SchedulerEvent) -> None:
        run_time = event.scheduled_run_time.timestamp()  # type: ignore[attr-defined]
        if event.code == TASK_EXECUTED:
            self.line("executed", event.task_id, f"{run_time:.6f}", f"{time.time() - run_time:.6f}")
        else:
            self.line("missed", event.task_id, f"{run_time:.6f}", "-")


async def main(store: dict[str, Any], record: Record, until: float) -> None:
    logging.getLogger("asyncz_like").addHandler(record)
    scheduler = AsyncIOScheduler(timezone="UTC", stores={"default": store})
    scheduler.add_listener(record, TASK_EXECUTED | TASK_MISSED)
    scheduler.start()
    print("ready", flush=True)
    await asyncio.sleep(max(until - time.time(), 0))
    scheduler.shutdown()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--store", required=True)
    parser.add_argument("--record", required=True)
    parser.add_argument("--until", type=float, required=True)
    options = parser.parse_args()
    asyncio.run(main(json.loads(options.store), Record(options.record), options.until))
