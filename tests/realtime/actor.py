"""Another process changing a shared store, as a web worker or a deploy script would: a
scheduler started paused, doing a scripted list of changes.

    python -m tests.realtime.actor --store JSON --steps JSON

Each step is ``{"op": "add"|"reschedule"|"pause"|"resume"|"delete", "id": ..., "at": EPOCH,
"after": SECONDS}``: wait ``after`` seconds, make the change, print ``<op> <id> <began> <done>``
(epochs: when the change was started, and when it was committed).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from datetime import datetime, timezone
from typing import Any

from asyncz_like import AsyncIOScheduler


def at(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, timezone.utc)


def apply(scheduler: AsyncIOScheduler, step: dict[str, Any]) -> None:
    op, task_id = step["op"], step["id"]
    if op == "add":
        run_at = at(step["at"]) if step.get("at") else datetime.now(timezone.utc)  # no "at": due at once
        scheduler.add_task("tests.realtime.jobs:touch", "date", run_at=run_at, id=task_id)
    elif op == "reschedule":
        scheduler.reschedule_task(task_id, trigger="date", run_at=at(step["at"]))
    elif op == "pause":
        scheduler.pause_task(task_id)
    elif op == "resume":
        scheduler.resume_task(task_id)
    elif op == "delete":
        scheduler.delete_task(task_id)
    else:
        raise ValueError(f"op: unknown {op!r}")


async def main(store: dict[str, Any], steps: list[dict[str, Any]]) -> None:
    scheduler = AsyncIOScheduler(timezone="UTC", stores={"default": store})
    scheduler.start(paused=True)
    try:
        for step in steps:
            await asyncio.sleep(step.get("after", 0))
            began = time.time()
            apply(scheduler, step)
            print(step["op"], step["id"], repr(began), repr(time.time()), flush=True)
    finally:
        scheduler.shutdown()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--store", required=True)
    parser.add_argument("--steps", required=True)
    options = parser.parse_args()
    asyncio.run(main(json.loads(options.store), json.loads(options.steps)))
