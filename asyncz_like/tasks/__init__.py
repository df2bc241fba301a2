"""Tasks and their snapshots."""

from asyncz_like.tasks.info import TaskInfo, TaskScheduleState
from asyncz_like.tasks.task import Task

__all__ = ["Task", "TaskInfo", "TaskScheduleState"]
