"""The ``dask`` executor: each run becomes a future on a dask.distributed cluster; the
scheduler stays the one source of *when*, and keeps its claim on a shared store until the
future is done."""

from __future__ import annotations

import threading
import traceback
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from distributed import Client, Event, Future
from distributed.scheduler import KilledWorker

from asyncz_like.events import TASK_RUN_ABANDONED, TaskSubmissionEvent
from asyncz_like.executors.base import BaseExecutor
from asyncz_like.executors.remote import Submission
from asyncz_like.stores.base import mask_url
from asyncz_like_dask.worker import RunInterrupted, run_on_worker

if TYPE_CHECKING:
    from asyncz_like.tasks.task import Task


class DaskExecutor(BaseExecutor):
    """Submit runs to a Dask cluster, given its scheduler's address or a connected client.

    :param address: the Dask scheduler, e.g. ``tcp://10.0.0.5:8786``; or give ``client``.
    :param client: an existing :class:`distributed.Client` (left open at shutdown).
    :param connect_timeout: seconds to reach the scheduler at ``start()``.
    """

    def __init__(
        self, address: str | None = None, client: Client | None = None, connect_timeout: float = 10.0, **kwargs: Any
    ) -> None:
        if kwargs:
            raise TypeError(f"dask executor: unexpected argument(s) {sorted(kwargs)}")
        if (address is None) == (client is None):
            raise ValueError("address/client: give exactly one of a Dask scheduler address or a Client")
        if address is not None and not isinstance(address, str):
            raise TypeError(f"address: expected a scheduler address string, got {type(address).__name__}")
        if client is not None and not isinstance(client, Client):
            raise TypeError(f"client: expected a distributed.Client, got {type(client).__name__}")
        if not (isinstance(connect_timeout, int | float) and connect_timeout > 0):
            raise ValueError(f"connect_timeout: must be a positive number, got {connect_timeout!r}")
        super().__init__()
        self.address = address
        self.given_client = client
        self.connect_timeout = float(connect_timeout)
        self.client: Client | None = None
        self._runs: dict[str, tuple[Submission, int, Future]] = {}
        self._cond = threading.Condition()

    # -- life cycle ----------------------------------------------------------------

    def start(self, scheduler: Any, alias: str) -> None:
        super().start(scheduler, alias)
        if self.client is not None:
            return
        if self.given_client is not None:
            if self.given_client.status != "running":
                raise ConnectionError(f"client: the Dask client of executor {alias!r} is {self.given_client.status}")
            self.client = self.given_client
            return
        address = mask_url(str(self.address))
        try:
            self.client = Client(self.address, timeout=self.connect_timeout, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise ConnectionError(f"executor {alias!r}: cannot reach the Dask scheduler at {address}: {exc}") from exc

    def shutdown(self, wait: bool = True) -> None:
        """With ``wait``, block until every run out on the workers has reported."""
        if wait:
            with self._cond:
                while self._runs:
                    self._cond.wait(0.1)
        client, self.client = self.client, None
        if client is not None and self.given_client is None:
            client.close()

    # -- sending runs --------------------------------------------------------------

    def check_task(self, task: Task) -> None:
        if task.fn_reference is None:
            raise ValueError(
                f"fn: task {task.id!r} ({task.name}) goes to executor {task.executor!r}, which runs it on "
                "Dask workers by its 'module:name' reference, and this function has none (a lambda, a "
                "nested function or a bound method?): use a module-level function"
            )

    def do_send_task(self, task: Task, run_times: Sequence[datetime]) -> None:
        if self.client is None:
            raise RuntimeError(f"executor {self.alias!r} is not started")
        self.check_task(task)
        submission = Submission(task, run_times)
        for index in range(len(run_times)):
            self._send(self.client, submission, index)

    def _send(self, client: Client, submission: Submission, index: int) -> None:
        task = submission.task
        once = task.on_interrupted != "rerun"  # Dask itself re-runs what a dead worker held
        key = f"asyncz_like-{task.id}-{uuid.uuid4().hex}"
        future = client.submit(
            run_on_worker,
            task.fn_reference,
            list(task.args),
            dict(task.kwargs),
            task.id,
            submission.run_times[index],
            once,
            key=key,
            pure=False,
        )
        with self._cond:
            self._runs[key] = (submission, index, future)  # a dropped Future would cancel the run
        future.add_done_callback(self._done)

    # -- outcomes (on the client's callback thread) ---------------------------------

    def _done(self, future: Future) -> None:
        with self._cond:
            entry = self._runs.pop(str(future.key), None)
            self._cond.notify_all()
        if entry is None:
            return
        submission, index, _ = entry
        try:
            self._settle(future, submission, index)
        except Exception as exc:  # the client lost the scheduler while fetching the outcome
            self._lost(submission, index, str(future.key), f"outcome unavailable: {exc}")

    def _settle(self, future: Future, submission: Submission, index: int) -> None:
        if future.status == "finished":
            done = submission.succeeded(index, future.result())
        elif future.status == "cancelled":  # the client lost the scheduler: it may or may not have run
            self._lost(submission, index, str(future.key), "the future was cancelled")
            return
        else:
            exc = future.exception()
            if isinstance(exc, RunInterrupted | KilledWorker):
                self._lost(submission, index, str(future.key), str(exc))
                return
            formatted = "".join(traceback.format_exception(type(exc), exc, future.traceback()))
            done = submission.failed(index, exc, formatted)
        if done:
            self._finish(submission)

    def _lost(self, submission: Submission, index: int, key: str, reason: str) -> None:
        task, run_time, client = submission.task, submission.run_times[index], self.client
        if client is not None:
            try:  # a marker left by an attempt that died and was never retried
                Event(f"asyncz_like-started-{key}", client=client).clear()
            except Exception:
                self.logger.debug("Could not clear the start marker of %s", key)
        if submission.wants_rerun(index) and client is not None:
            self.logger.warning(
                "Task %r: run %s lost on its worker (%s); sending it again", task.id, run_time.isoformat(), reason
            )
            try:
                self._send(client, submission, index)
                return
            except Exception as exc:
                reason = f"{reason}; sending it again failed: {exc}"
        if task.on_interrupted == "rerun":
            done = submission.failed(index, RunInterrupted(f"run {run_time.isoformat()} lost: {reason}"), None)
        else:
            self.logger.warning(
                "Task %r: run %s lost on its worker (%s); not re-run", task.id, run_time.isoformat(), reason
            )
            done = submission.lost(index)
        if done:
            self._finish(submission)

    def _finish(self, submission: Submission) -> None:
        task, scheduler = submission.task, self.scheduler
        if submission.abandoned and scheduler is not None and scheduler.listens_to(TASK_RUN_ABANDONED):
            scheduler.dispatch_event(
                TaskSubmissionEvent(
                    code=TASK_RUN_ABANDONED,
                    task_id=task.id,
                    store=task.store_alias,
                    scheduled_run_times=submission.abandoned,
                )
            )
        self.task_finished(task, submission.finished_outcomes())


__all__ = ["DaskExecutor"]
