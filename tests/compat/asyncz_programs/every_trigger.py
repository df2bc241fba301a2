"""Every trigger class of the reference, built directly and by alias."""

import asyncio
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from asyncz.schedulers.asyncio import AsyncIOScheduler
from asyncz.triggers import AndTrigger, CronTrigger, DateTrigger, IntervalTrigger, OrTrigger, ShutdownTrigger
from asyncz.triggers.combination import AndTrigger as AndTriggerByPath
from asyncz.triggers.cron.trigger import CronTrigger as CronTriggerByPath
from asyncz.triggers.date import DateTrigger as DateTriggerByPath
from asyncz.triggers.interval import IntervalTrigger as IntervalTriggerByPath
from asyncz.triggers.shutdown import ShutdownTrigger as ShutdownTriggerByPath

assert (AndTrigger, CronTrigger, DateTrigger, IntervalTrigger, ShutdownTrigger) == (
    AndTriggerByPath,
    CronTriggerByPath,
    DateTriggerByPath,
    IntervalTriggerByPath,
    ShutdownTriggerByPath,
)
BERLIN = ZoneInfo("Europe/Berlin")
ran = []


def mark(label):
    ran.append(label)


async def main():
    scheduler = AsyncIOScheduler(timezone="Europe/Berlin")
    now = datetime.now(timezone.utc)
    scheduler.add_task(mark, DateTrigger(run_at=now + timedelta(seconds=0.2)), args=["date"])
    scheduler.add_task(mark, IntervalTrigger(seconds=0.3), args=["interval"])
    scheduler.add_task(mark, CronTrigger(second="*"), args=["cron"])
    either = OrTrigger([DateTrigger(run_at=now + timedelta(seconds=0.2)), IntervalTrigger(seconds=0.5, start_at=now)])
    scheduler.add_task(mark, either, args=["or"])
    start = now + timedelta(seconds=0.1)
    both = AndTrigger([IntervalTrigger(seconds=0.2, start_at=start), IntervalTrigger(seconds=0.3, start_at=start)])
    scheduler.add_task(mark, both, args=["and"])  # the parts agree every 0.6 s
    even = scheduler.add_task(mark, AndTrigger([CronTrigger(second="*"), CronTrigger(second="*/2")]), args=["even"])
    scheduler.add_task(mark, ShutdownTrigger(), args=["shutdown"])
    nine = scheduler.add_task(mark, CronTrigger(hour=9), args=["nine"], id="nine")  # no zone: the scheduler's
    crontab = scheduler.add_task(mark, CronTrigger.from_crontab("0 9 * * *"), args=["crontab"], id="crontab")
    alias = scheduler.add_task(mark, "cron", hour=9, minute=0, args=["alias"], id="alias")
    scheduler.start()
    assert even.next_run_time.second % 2 == 0
    for task in (nine, crontab, alias):
        local = task.next_run_time.astimezone(BERLIN)
        assert (local.hour, local.minute) == (9, 0), task.next_run_time
    await asyncio.sleep(1.3)
    scheduler.shutdown()
    await asyncio.sleep(0.1)
    for label in ("date", "interval", "cron", "and", "shutdown"):
        assert label in ran, (label, ran)
    assert ran.count("or") >= 3, ran  # the date part once, the interval part every 0.5 s
    assert ran.count("shutdown") == 1, ran


asyncio.run(main())
print("OK")
