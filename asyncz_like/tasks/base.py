"""asyncz's ``asyncz.tasks.base``: the Task class lives in :mod:`asyncz_like.tasks.task`."""

from asyncz_like.tasks.task import Task

__all__ = ["Task"]
