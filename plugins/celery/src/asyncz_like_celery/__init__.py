"""Run asyncz_like schedules on a Celery worker pool: the ``celery`` executor plugin."""

from asyncz_like_celery.executor import CeleryExecutor
from asyncz_like_celery.task import TASK_NAME, RunContext, current_run, register

__all__ = ["TASK_NAME", "CeleryExecutor", "RunContext", "current_run", "register"]
