"""asyncz's ``asyncz.enums``: the scheduler's and a task's states, one object each."""

from asyncz_like.schedulers.state import SchedulerState
from asyncz_like.tasks.info import TaskScheduleState

__all__ = ["SchedulerState", "TaskScheduleState"]
