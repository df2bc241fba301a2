"""One scheduler process on a shared store, for the real-time history tests.

    python -m tests.history.worker --store JSON --until EPOCH --id NAME

Everything it does ends up in the store: the tasks' attempts and the run history. The
tests count attempts in the files the tasks append to, never in this process's memory.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

from asyncz_like import AsyncIOScheduler


async def main(options: argparse.Namespace) -> None:
    scheduler = AsyncIOScheduler(
        timezone="UTC",
        stores={"default": json.loads(options.store)},
        executors={"default": {"type": "threadpool", "max_workers": 20}},
        lease_seconds=3,
        poll_interval=0.2,
        store_retry_interval=0.5,
        scheduler_id=options.id,
    )
    scheduler.start()
    print("ready", flush=True)
    await asyncio.sleep(max(options.until - time.time(), 0))
    scheduler.shutdown(wait=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--store", required=True)
    parser.add_argument("--until", type=float, required=True)
    parser.add_argument("--id", required=True)
    asyncio.run(main(parser.parse_args()))
