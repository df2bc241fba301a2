"""The ``celery`` executor: each run goes to a Celery worker pool; the scheduler stays the
one source of *when*, and keeps its claim on a shared store until the worker is done."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from celery import Celery
from celery.backends.base import DisabledBackend
from celery.exceptions import WorkerLostError
from celery.result import AsyncResult

from asyncz_like.events import TASK_RUN_ABANDONED, TaskSubmissionEvent
from asyncz_like.executors.base import BaseExecutor
from asyncz_like.executors.remote import Submission
from asyncz_like.stores.base import mask_url
from asyncz_like_celery.task import TASK_NAME
from asyncz_like_celery.watcher import ResultWatcher

if TYPE_CHECKING:
    from asyncz_like.tasks.task import Task


class CeleryExecutor(BaseExecutor):
    """Send runs to Celery workers that run the generic task of :mod:`asyncz_like_celery.task`.

    :param broker_url: where to send runs (``redis://...``, ``amqp://...``); or give ``app``.
    :param backend_url: the result backend the outcomes are read from; defaults to the
        broker URL when that is Redis.
    :param app: an existing :class:`celery.Celery` app (its broker and backend are used).
    :param queue: the Celery queue to send to (default: the app's default queue).
    :param check_seconds: how often runs in flight are read directly and the workers that
        hold them pinged; a worker missing two pings has died. ``None`` turns this off
        (needed with ``--pool=solo``, whose busy worker cannot answer a ping).
    :param connect_timeout: seconds to reach the broker at ``start()``.
    """

    def __init__(
        self,
        broker_url: str | None = None,
        backend_url: str | None = None,
        app: Celery | None = None,
        queue: str | None = None,
        check_seconds: float | None = 10.0,
        connect_timeout: float = 5.0,
        **kwargs: Any,
    ) -> None:
        if kwargs:
            raise TypeError(f"celery executor: unexpected argument(s) {sorted(kwargs)}")
        if (app is None) == (broker_url is None):
            raise ValueError("broker_url/app: give exactly one of a broker URL or an existing Celery app")
        if app is not None and not isinstance(app, Celery):
            raise TypeError(f"app: expected a celery.Celery app, got {type(app).__name__}")
        if app is not None and backend_url is not None:
            raise ValueError("backend_url: configure the result backend on the Celery app you pass")
        if broker_url is not None and not isinstance(broker_url, str):
            raise TypeError(f"broker_url: expected a URL string, got {type(broker_url).__name__}")
        if broker_url is not None and backend_url is None:
            if not broker_url.startswith(("redis://", "rediss://")):
                raise ValueError("backend_url: required unless the broker is Redis (outcomes come from it)")
            backend_url = broker_url
        if check_seconds is not None and not (isinstance(check_seconds, int | float) and check_seconds > 0):
            raise ValueError(f"check_seconds: must be a positive number or None, got {check_seconds!r}")
        if not (isinstance(connect_timeout, int | float) and connect_timeout > 0):
            raise ValueError(f"connect_timeout: must be a positive number, got {connect_timeout!r}")
        super().__init__()
        self.broker_url = broker_url
        self.backend_url = backend_url
        self.given_app = app
        self.queue = queue
        self.check_seconds = check_seconds
        self.connect_timeout = float(connect_timeout)
        self.app: Celery | None = None
        self.watcher: ResultWatcher | None = None
        self._runs: dict[str, tuple[Submission, int]] = {}
        self._runs_lock = threading.Lock()

    # -- life cycle ----------------------------------------------------------------

    def start(self, scheduler: Any, alias: str) -> None:
        super().start(scheduler, alias)
        if self.app is not None:
            return
        app = self.given_app or Celery(
            f"asyncz_like-{alias}", broker=self.broker_url, backend=self.backend_url, set_as_current=False
        )
        if isinstance(app.backend, DisabledBackend):
            raise ValueError(
                f"app: executor {alias!r} reads outcomes from a result backend, and the Celery app has none "
                "(set result_backend)"
            )
        self._check_reachable(app, alias)
        self.app = app
        self.watcher = ResultWatcher(app, self._result_ready, self._result_lost, self.check_seconds)
        self.watcher.start()

    def _check_reachable(self, app: Celery, alias: str) -> None:
        """Fail at start, naming the (masked) URL, rather than at the first run."""
        broker = mask_url(str(app.conf.broker_url or "amqp://"))
        try:
            with app.connection_for_write() as connection:
                connection.ensure_connection(
                    max_retries=1, interval_start=0, interval_step=0, timeout=self.connect_timeout
                )
        except Exception as exc:
            raise ConnectionError(f"executor {alias!r}: cannot reach the Celery broker at {broker}: {exc}") from exc
        backend = mask_url(str(app.conf.result_backend))
        try:
            app.backend.get_task_meta("asyncz-like-connection-check")
        except Exception as exc:
            raise ConnectionError(
                f"executor {alias!r}: cannot reach the Celery result backend at {backend}: {exc}"
            ) from exc

    def shutdown(self, wait: bool = True) -> None:
        """With ``wait``, block until every run out on the workers has reported."""
        watcher, self.watcher = self.watcher, None
        if watcher is not None:
            watcher.stop(wait)
        app, self.app = self.app, None
        if app is not None and self.given_app is None:
            app.close()

    # -- sending runs --------------------------------------------------------------

    def check_task(self, task: Task) -> None:
        if task.fn_reference is None:
            raise ValueError(
                f"fn: task {task.id!r} ({task.name}) goes to executor {task.executor!r}, which runs it on "
                "Celery workers by its 'module:name' reference, and this function has none (a lambda, a "
                "nested function or a bound method?): use a module-level function"
            )

    def do_send_task(self, task: Task, run_times: Sequence[datetime]) -> None:
        """Queue the runs for the watcher thread, which publishes them: returns at once."""
        if self.app is None or self.watcher is None:
            raise RuntimeError(f"executor {self.alias!r} is not started")
        self.check_task(task)
        submission = Submission(task, run_times)
        for index in range(len(run_times)):
            self.watcher.send(_RunSend(self, self.app, submission, index))

    def _publish(self, app: Celery, submission: Submission, index: int) -> AsyncResult:
        task = submission.task
        run_time = submission.run_times[index]
        arguments = [task.fn_reference, list(task.args), dict(task.kwargs), task.id, run_time.isoformat()]
        result = app.send_task(TASK_NAME, args=arguments, queue=self.queue)
        with self._runs_lock:
            self._runs[result.id] = (submission, index)
        return result

    def _publish_failed(self, submission: Submission, index: int, exc: BaseException) -> None:
        self.logger.error(
            "Task %r: sending run %s to Celery failed: %s",
            submission.task.id,
            submission.run_times[index].isoformat(),
            exc,
        )
        if submission.failed(index, exc, None):
            self._finish(submission)

    # -- outcomes (on the watcher thread) -------------------------------------------

    def _take(self, result: AsyncResult) -> tuple[Submission, int] | None:
        with self._runs_lock:
            return self._runs.pop(result.id, None)

    def _result_ready(self, result: AsyncResult) -> None:
        entry = self._take(result)
        if entry is None:
            return
        submission, index = entry
        if result.successful():
            done = submission.succeeded(index, result.result)
        else:
            exc = result.result
            if isinstance(exc, WorkerLostError):  # the pool's child process died mid-run
                self._lost(submission, index, str(exc))
                return
            if not isinstance(exc, BaseException):
                exc = RuntimeError(f"Celery task {result.id} ended in state {result.state}: {exc!r}")
            done = submission.failed(index, exc, result.traceback)
        if done:
            self._finish(submission)

    def _result_lost(self, result: AsyncResult, reason: str) -> None:
        entry = self._take(result)
        if entry is not None:
            self._lost(*entry, reason)

    def _lost(self, submission: Submission, index: int, reason: str) -> None:
        task, run_time = submission.task, submission.run_times[index]
        if submission.wants_rerun(index):
            self.logger.warning(
                "Task %r: run %s lost on its worker (%s); sending it again", task.id, run_time.isoformat(), reason
            )
            app, watcher = self.app, self.watcher
            if app is not None and watcher is not None:
                watcher.send(_RunSend(self, app, submission, index))
                return
        if task.on_interrupted == "rerun":
            done = submission.failed(index, WorkerLostError(f"run {run_time.isoformat()} lost: {reason}"), None)
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


class _RunSend:
    """One run for the watcher thread to publish (see :class:`ResultWatcher`)."""

    __slots__ = ("app", "executor", "index", "submission")

    def __init__(self, executor: CeleryExecutor, app: Celery, submission: Submission, index: int) -> None:
        self.executor = executor
        self.app = app
        self.submission = submission
        self.index = index

    def publish(self) -> AsyncResult:
        return self.executor._publish(self.app, self.submission, self.index)

    def failed(self, exc: BaseException) -> None:
        self.executor._publish_failed(self.submission, self.index, exc)


__all__ = ["CeleryExecutor"]
