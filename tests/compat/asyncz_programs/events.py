"""Listeners, masks and the event models of ``asyncz.events.base``."""

import asyncio

from asyncz.events import TaskExecutionEvent as ExecutionEventFromPackage
from asyncz.events.base import SchedulerEvent, TaskEvent, TaskExecutionEvent, TaskSubmissionEvent
from asyncz.events.constants import (
    ALL_EVENTS,
    SCHEDULER_START,
    SCHEDULER_STARTED,
    TASK_ADDED,
    TASK_ERROR,
    TASK_EXECUTED,
    TASK_REMOVED,
    TASK_SUBMITTED,
)
from asyncz.schedulers import AsyncIOScheduler

assert ExecutionEventFromPackage is TaskExecutionEvent and SCHEDULER_STARTED == SCHEDULER_START


def answer():
    return 42


def broken():
    raise ValueError("broken on purpose")


async def main():
    scheduler = AsyncIOScheduler(timezone="UTC")
    seen = []
    scheduler.add_listener(seen.append, ALL_EVENTS)
    errors = []
    scheduler.add_listener(errors.append, TASK_ERROR)
    scheduler.start()
    scheduler.add_task(answer, id="answer")
    scheduler.add_task(broken, id="broken")
    await asyncio.sleep(0.5)
    scheduler.add_task(answer, "interval", hours=1, id="later")
    scheduler.delete_task("later")
    scheduler.shutdown()
    await asyncio.sleep(0.1)

    assert all(isinstance(event, SchedulerEvent) for event in seen)
    codes = [event.code for event in seen]
    assert codes.index(SCHEDULER_STARTED) < codes.index(TASK_SUBMITTED)
    by_code = {}
    for event in seen:
        by_code.setdefault(event.code, []).append(event)
    submitted = next(e for e in by_code[TASK_SUBMITTED] if e.task_id == "answer")
    assert isinstance(submitted, TaskSubmissionEvent) and len(submitted.scheduled_run_times) == 1
    executed = next(e for e in by_code[TASK_EXECUTED] if e.task_id == "answer")
    assert isinstance(executed, TaskExecutionEvent) and executed.return_value == 42
    assert executed.scheduled_run_time == submitted.scheduled_run_times[0]
    assert seen.index(submitted) < seen.index(executed)
    assert (
        len(errors) == 1 and isinstance(errors[0].exception, ValueError) and "broken on purpose" in errors[0].traceback
    )
    assert {e.task_id for e in by_code[TASK_ADDED]} >= {"answer", "broken", "later"}
    removed = by_code[TASK_REMOVED]
    assert any(isinstance(e, TaskEvent) and e.task_id == "later" and e.store == "default" for e in removed)


asyncio.run(main())
print("OK")
