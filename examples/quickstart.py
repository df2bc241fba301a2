"""A scheduler on the embedded default persistent store (a SQLite file): no server needed.

Run it twice: the second run finds the tasks the first one stored and carries on.

    python examples/quickstart.py --seconds 6
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import datetime

from asyncz_like import TASK_ERROR, TASK_EXECUTED, AsyncIOScheduler, SchedulerEvent


def heartbeat(name: str) -> str:
    stamp = datetime.now().strftime("%H:%M:%S")
    print(f"[{stamp}] heartbeat from {name}")
    return stamp


async def report(path: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] async report written to {path}")


def on_outcome(event: SchedulerEvent) -> None:
    if event.code == TASK_ERROR:
        print(f"task {event.task_id} failed: {event.exception}")  # type: ignore[attr-defined]


async def main(seconds: float, database: str) -> None:
    scheduler = AsyncIOScheduler(stores={"default": {"type": "sqlalchemy", "url": f"sqlite:///{database}"}})
    scheduler.add_listener(on_outcome, TASK_EXECUTED | TASK_ERROR)
    scheduler.start()
    found = scheduler.get_task_infos()
    print(f"store {database}: {len(found)} task(s) found from earlier runs: {[info.id for info in found]}")
    # Stable ids + replace_existing make this idempotent across restarts.
    scheduler.add_task(heartbeat, "interval", seconds=2, args=["quickstart"], id="heartbeat", replace_existing=True)
    scheduler.add_task(report, "cron", second="*/5", args=["/tmp/report.txt"], id="report", replace_existing=True)
    for info in scheduler.get_task_infos():
        print(f"  {info.id:<10} {info.trigger_description:<28} next run {info.next_run_time}")
    await asyncio.sleep(seconds)
    scheduler.shutdown()
    print("scheduler stopped; tasks stay in the store for the next run")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=6.0, help="how long to run (default 6)")
    parser.add_argument("--database", default="example-tasks.db", help="SQLite file (default example-tasks.db)")
    options = parser.parse_args()
    asyncio.run(main(options.seconds, options.database))
