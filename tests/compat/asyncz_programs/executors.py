"""The executors of ``asyncz.executors``, added by instance and by alias, each running a task."""

import asyncio

from asyncz.events.constants import TASK_EXECUTED
from asyncz.executors import AsyncIOExecutor, DebugExecutor, ProcessPoolExecutor, ThreadPoolExecutor
from asyncz.executors.pool import ThreadPoolExecutor as ThreadPoolByPath
from asyncz.schedulers import AsyncIOScheduler

assert ThreadPoolByPath is ThreadPoolExecutor


async def main():
    scheduler = AsyncIOScheduler(timezone="UTC")
    scheduler.add_executor(ThreadPoolExecutor(max_workers=2), "threads")
    scheduler.add_executor(ProcessPoolExecutor(max_workers=1), "processes")
    scheduler.add_executor(DebugExecutor(), "inline")
    scheduler.add_executor(AsyncIOExecutor(), "loop")
    scheduler.add_executor("threadpool", "by_alias")
    done = {}
    scheduler.add_listener(lambda event: done.setdefault(event.task_id, event.return_value), TASK_EXECUTED)
    scheduler.start()
    for alias in ("threads", "processes", "inline", "loop", "by_alias"):
        scheduler.add_task("tests.compat.asyncz_jobs:tick", executor=alias, id=alias)
    for _ in range(100):
        if len(done) == 5:
            break
        await asyncio.sleep(0.05)
    scheduler.shutdown()
    assert done == dict.fromkeys(("threads", "processes", "inline", "loop", "by_alias"), "tick"), done


asyncio.run(main())
print("OK")
