"""NativeAsyncIOScheduler: start and shut down are awaited on the application's loop."""

import asyncio

from asyncz.executors import AsyncIOExecutor
from asyncz.schedulers.asyncio import NativeAsyncIOScheduler

results = []


async def fetch(value):
    await asyncio.sleep(0)
    results.append(value)
    return value


async def main():
    scheduler = NativeAsyncIOScheduler(timezone="UTC")
    assert isinstance(scheduler.create_default_executor(), AsyncIOExecutor)
    await scheduler.start()
    scheduler.add_task(fetch, args=["first"])
    scheduler.add_task(fetch, "interval", seconds=0.2, args=["repeated"])
    await asyncio.sleep(0.7)
    await scheduler.shutdown()
    assert "first" in results and results.count("repeated") >= 2, results


asyncio.run(main())
print("OK")
