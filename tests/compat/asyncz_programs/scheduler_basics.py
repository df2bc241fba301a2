"""The scheduler: add tasks with each trigger alias, start on the running loop, listen, shut down."""

import asyncio
from datetime import datetime, timedelta, timezone

from asyncz.enums import SchedulerState
from asyncz.events.constants import SCHEDULER_SHUTDOWN, SCHEDULER_STARTED, TASK_EXECUTED
from asyncz.schedulers import AsyncIOScheduler

ran = []


def greet(name):
    ran.append(name)


async def main():
    scheduler = AsyncIOScheduler(timezone="UTC")
    codes = []
    scheduler.add_listener(
        lambda event: codes.append(event.code), SCHEDULER_STARTED | SCHEDULER_SHUTDOWN | TASK_EXECUTED
    )
    scheduler.add_task(greet, "interval", seconds=0.3, args=["interval"], id="every")
    scheduler.add_task(greet, args=["now"], id="now")  # no trigger: run once, now
    soon = datetime.now(timezone.utc) + timedelta(seconds=0.2)
    scheduler.add_task(greet, "date", run_at=soon, kwargs={"name": "date"}, id="once")
    scheduler.add_task(greet, "cron", second="*", args=["cron"], id="cron")
    assert not scheduler.running and scheduler.state == SchedulerState.STATE_STOPPED
    scheduler.start()
    assert scheduler.running and scheduler.state == SchedulerState.STATE_RUNNING
    await asyncio.sleep(1.2)
    scheduler.pause()
    assert scheduler.state == SchedulerState.STATE_PAUSED
    scheduler.resume()
    scheduler.shutdown()
    await asyncio.sleep(0.1)
    assert not scheduler.running
    assert "now" in ran and "date" in ran and "cron" in ran and ran.count("interval") >= 2, ran
    assert codes[0] == SCHEDULER_STARTED and TASK_EXECUTED in codes and codes[-1] == SCHEDULER_SHUTDOWN, codes


asyncio.run(main())
print("OK")
