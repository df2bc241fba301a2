"""The task API of the reference, with the scheduler started paused (nothing runs)."""

from asyncz.enums import TaskScheduleState
from asyncz.exceptions import ConflictIdError, TaskLookupError
from asyncz.schedulers import AsyncIOScheduler
from asyncz.tasks import Task
from asyncz.tasks.base import Task as TaskByPath
from asyncz.triggers import IntervalTrigger

assert Task is TaskByPath


def job(value=None):
    return value


scheduler = AsyncIOScheduler(timezone="UTC")
early = scheduler.add_task(job, "interval", minutes=5, id="early", name="added before start")
assert isinstance(early, Task) and early.pending and early.submitted
scheduler.start(paused=True)

task = scheduler.add_task(job, "interval", minutes=5, id="t", args=[1])
assert task.pause() is task and scheduler.get_task_info("t").schedule_state == TaskScheduleState.PAUSED
assert task.resume() is task and scheduler.get_task_info("t").schedule_state == TaskScheduleState.SCHEDULED
assert task.update(name="renamed") is task and scheduler.get_task("t").name == "renamed"
assert task.reschedule("cron", hour=3) is task and scheduler.get_task_info("t").trigger_alias == "cron"
info = scheduler.get_task_info("t")
assert info.submitted and not info.pending and info.trigger_name == "CronTrigger"

scheduler.add_task(job, IntervalTrigger(hours=1), id="b", name="same")
scheduler.add_task(job, IntervalTrigger(hours=1), id="a", name="same")
assert [i.id for i in scheduler.get_task_infos(trigger=" Cron ")] == ["t"]
assert [i.id for i in scheduler.get_task_infos(trigger="IntervalTrigger", sort_by="name")] == ["early", "a", "b"]
assert [i.id for i in scheduler.get_task_infos(sort_by="trigger")] == ["t", "a", "b", "early"]
assert [i.id for i in scheduler.get_task_infos(q="renamed")] == ["t"]

try:
    scheduler.add_task(job, "interval", minutes=1, id="t")
except ConflictIdError:
    pass
else:
    raise AssertionError("a duplicate id was accepted")
scheduler.add_task(job, "interval", minutes=1, id="t", replace_existing=True)

try:
    scheduler.update_task("t", colour="blue")
except AttributeError:
    pass
else:
    raise AssertionError("an unknown field was accepted")
try:
    scheduler.add_task("no_such_module_anywhere:job", "interval", minutes=1)
except LookupError:
    pass
else:
    raise AssertionError("an unresolvable reference was accepted")
try:
    scheduler.update_task("t", max_instances=0)
except TypeError:
    pass
else:
    raise AssertionError("max_instances=0 was accepted")

listener = print
scheduler.add_listener(listener)
assert scheduler.remove_listener(listener) is True
assert scheduler.remove_listener(listener) is False

scheduler.pause_task("b")
assert scheduler.get_task("b").next_run_time is None
scheduler.resume_task("b")
assert scheduler.get_task("b").next_run_time is not None
assert scheduler.get_task("a").delete() is not None
try:
    scheduler.delete_task("a")
except TaskLookupError:
    pass
else:
    raise AssertionError("deleting twice did not raise TaskLookupError")
scheduler.remove_all_tasks(None)
assert scheduler.get_tasks() == []
scheduler.shutdown()


@scheduler.add_task(trigger="interval", minutes=10, id="decorated")
def decorated():
    return "decorated"


assert scheduler.get_task("decorated").fn is decorated
print("OK")
