"""Configuration from a flat dict with asyncz's ``asyncz.`` key prefix (``setup(global_config)``)."""

from asyncz.schedulers import AsyncIOScheduler
from asyncz.stores.memory import MemoryStore

scheduler = AsyncIOScheduler(
    global_config={
        "asyncz.stores.default": {"type": "memory"},
        "asyncz.stores.other": {"type": "memory"},
        "asyncz.executors.default": {"type": "threadpool", "max_workers": 4},
        "asyncz.task_defaults": {"coalesce": False, "max_instances": 3},
        "asyncz.timezone": "Europe/Berlin",
    }
)
assert set(scheduler.stores) >= {"default", "other"} and isinstance(scheduler.stores["other"], MemoryStore)
assert str(scheduler.timezone) == "Europe/Berlin"
task = scheduler.add_task(print, "interval", minutes=1)
assert (task.coalesce, task.max_instances) == (False, 3)
print("OK")
