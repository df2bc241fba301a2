"""Run asyncz_like schedules on a dask.distributed cluster: the ``dask`` executor plugin."""

from asyncz_like_dask.executor import DaskExecutor
from asyncz_like_dask.worker import RunContext, RunInterrupted, current_run

__all__ = ["DaskExecutor", "RunContext", "RunInterrupted", "current_run"]
