"""The scheduler's side of run history and retries.

The processing pass and the executors call a few hooks here (``finished``, ``missed``,
``skipped``, ``abandoned``, ``fold_retry``); everything else stays in this module:

* **records** are built as plain dicts and queued per store; one flush job on the store
  I/O thread (``scheduler.run_store_io``) writes each store's batch and, at most every
  ``prune_interval``, prunes what this scheduler wrote. A store without history of its own
  keeps them in this process (:class:`~asyncz_like.history.memory.MemoryHistory`);
* **retries**: a failed run with attempts left makes its task carry a pending retry. A task
  whose claim is held (shared stores) carries it in the release, so the retry is stored
  atomically with the new schedule; otherwise it is applied to the stored task by the next
  store job or pass, never in the middle of one;
* **attempt numbers** ride along with each submission, keyed by task and run time;
* **heartbeats** tell other schedulers on a shared store that this one is alive;
* a **recent window** of outcomes feeds the health report.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime, timedelta, timezone
from threading import Lock
from typing import TYPE_CHECKING, Any

from asyncz_like._time import to_datetime
from asyncz_like.events import (
    TASK_ERROR,
    TASK_EXECUTED,
    TASK_REMOVED,
    TASK_RUN_ABANDONED,
    TaskEvent,
    TaskExecutionEvent,
    TaskSubmissionEvent,
)
from asyncz_like.exceptions import ArgumentError, ArgumentTypeError
from asyncz_like.history.memory import MemoryHistory, newest_first
from asyncz_like.history.observe import Observer, RunObservation, notify
from asyncz_like.history.records import (
    FINISHED,
    OUTCOMES,
    TASK_ID,
    Row,
    RunIds,
    RunOutcome,
    RunRecord,
    as_dict,
    exception_type,
    short_repr,
    trim_message,
    trim_traceback,
)
from asyncz_like.history.retries import PendingRetry, put_retry, retries_left, retry_delay, schedule_retry
from asyncz_like.history.settings import HistorySettings, history_settings

if TYPE_CHECKING:
    from asyncz_like.abc import Store
    from asyncz_like.executors.runner import Outcome
    from asyncz_like.schedulers.base import BaseScheduler
    from asyncz_like.tasks.task import Task

logger = logging.getLogger("asyncz_like.history")

#: the outcomes the health report's window covers: at most this many, of at most this many seconds
RECENT_MAX = 10_000
RECENT_SECONDS = 900.0
#: the most records one ``get_run_history`` call returns
MAX_LIMIT = 10_000

_EXECUTED = RunOutcome.EXECUTED.value
_ERROR = RunOutcome.ERROR.value
_RETRIED = RunOutcome.RETRIED.value
_MISSED = RunOutcome.MISSED.value
_SKIPPED = RunOutcome.SKIPPED.value
_ABANDONED = RunOutcome.ABANDONED.value
UTC = timezone.utc
#: ``TaskExecutionEvent(**fields)`` without the Python layer of ``BaseModel.__init__`` (the same
#: validation): a run's event is built on the loop at every run someone listens to
_new_execution_event = TaskExecutionEvent.__pydantic_validator__.validate_python


class RunLog:
    """One per scheduler (``scheduler.run_log``)."""

    def __init__(self, scheduler: BaseScheduler) -> None:
        self.scheduler = scheduler
        self.settings = HistorySettings()
        self.memory = MemoryHistory(self.settings.keep_per_task, self.settings.memory_limit)
        self.new_run_id = RunIds()
        #: (store alias, task id, run time) -> the attempt a submitted run is
        self._attempts: dict[tuple[str, str, datetime], int] = {}
        self._lock = Lock()
        self._pending: dict[str, list[Row]] = {}
        self._flush_queued = False
        self._touched: dict[str, set[str]] = {}
        self._pruned_at: dict[str, float] = {}
        #: stores whose last heartbeat failed (said once per streak, not every beat)
        self._beat_failing: set[str] = set()
        #: outcomes to write into stored tasks: (alias, task id, the retry or None: delete it if
        #: finished, the run time that ran)
        self._retries: list[tuple[str, str, PendingRetry | None, datetime]] = []
        #: finished tasks the pass kept until their outcome (stores without claims)
        self._kept: dict[tuple[str, str], datetime] = {}
        #: (finished timestamp, outcome, lateness in seconds or None) of recent outcomes
        self.recent: deque[tuple[float, str, float | None]] = deque(maxlen=RECENT_MAX)
        self.last_pass_at: datetime | None = None
        #: told of every outcome (the metrics and tracing extras); empty costs nothing
        self.observers: tuple[Observer, ...] = ()

    def configure(self, value: Any) -> None:
        """The ``history`` scheduler option (set while the scheduler is stopped)."""
        self.settings = history_settings(value)
        self.memory = MemoryHistory(self.settings.keep_per_task, self.settings.memory_limit)

    def _now(self) -> float:
        return self.scheduler.clock().timestamp()

    def add_observer(self, observer: Observer) -> None:
        """Call ``observer`` with a :class:`RunObservation` for every outcome, in the thread that
        decided it (a worker's, for runs)."""
        self.observers = (*self.observers, observer)

    def remove_observer(self, observer: Observer) -> None:
        self.observers = tuple(each for each in self.observers if each != observer)

    # -- hooks: the fire path ----------------------------------------------------------

    def finished(self, task: Task, executor_alias: str | None, outcomes: Sequence[Outcome]) -> None:
        """A submission's runs are over (any thread): record them, tell listeners, and
        schedule a retry for a failure with attempts left. This runs once per run: records
        are tuples here, and a successful run takes the short way."""
        scheduler = self.scheduler
        alias = task.store_alias or "default"
        task_id = task.id or ""
        attempts = self._attempts
        record = self.settings.enabled
        listens = scheduler.listens_to(TASK_EXECUTED | TASK_ERROR)
        recent = self.recent
        observers = self.observers
        if not (attempts or task.max_retries):
            self._finished_plainly(task, alias, executor_alias, outcomes, record, listens)
            return
        retried_index = _last_retryable(task, alias, outcomes, attempts) if task.max_retries else -1
        rows: list[Row] = []
        retry: tuple[int, datetime, datetime] | None = None
        for index, outcome in enumerate(outcomes):
            run_time, ok, value, exc = outcome[0], outcome[1], outcome[2], outcome[3]
            if len(outcome) > 5:
                started: float | None = outcome[5]  # type: ignore[misc]
                ended: float = outcome[6]  # type: ignore[misc]
            else:  # an executor that does not time its runs
                started, ended = None, self._now()
            attempt = attempts.pop((alias, task_id, run_time), 1) if attempts else 1
            scheduled = run_time.timestamp()
            left = 0
            retry_at: datetime | None = None
            if ok:
                name = _EXECUTED
            elif index == retried_index:
                left = retries_left(task, attempt, exc)
                retry_at = datetime.fromtimestamp(ended + retry_delay(task, attempt), UTC)
                retry = (attempt + 1, run_time, retry_at)
                name = _RETRIED
                scheduler.logger.warning(
                    "Task %r failed (attempt %d); retrying at %s (%d attempt(s) left)",
                    task.name,
                    attempt,
                    retry_at.isoformat(),
                    left,
                    exc_info=exc,
                )
            else:
                name = _ERROR
                if attempt > 1 or task.max_retries:
                    scheduler.logger.error(
                        "Task %r raised an exception (attempt %d, no retry left)", task.name, attempt, exc_info=exc
                    )
                else:
                    scheduler.logger.error("Task %r raised an exception", task.name, exc_info=exc)
            recent.append((ended, name, None if started is None or attempt > 1 else started - scheduled))
            if observers:
                observed = RunObservation(task, alias, executor_alias, run_time, name, attempt, started, ended, exc)
                notify(observers, observed)
            run_id = None
            if record:
                run_id = self.new_run_id()
                rows.append(
                    (
                        run_id,
                        task_id,
                        task.name,
                        scheduled,
                        started,
                        ended,
                        None if started is None else max(ended - started, 0.0),
                        name,
                        attempt,
                        scheduler.scheduler_id,
                        None if ok else exception_type(exc),
                        None if ok else trim_message(exc),
                        None if ok else trim_traceback(outcome[4]),
                        None if value is None else short_repr(value),
                        None if retry_at is None else retry_at.timestamp(),
                    )
                )
            if listens:
                scheduler.dispatch_event(
                    TaskExecutionEvent(
                        code=TASK_EXECUTED if ok else TASK_ERROR,
                        alias=executor_alias,
                        task_id=task.id,
                        store=task.store_alias,
                        scheduled_run_time=run_time,
                        return_value=value,
                        exception=exc,
                        traceback=outcome[4],
                        attempt=attempt,
                        retries_left=left,
                        retry_at=retry_at,
                        final=retry_at is None,
                        run_id=run_id,
                    )
                )
        if rows:
            self.add_records(alias, rows, rows[-1][FINISHED])
        if retry is not None:
            self._schedule_retry(alias, task, *retry)
        if self._kept and self._kept.get((alias, task_id)) == outcomes[-1][0]:  # its last run
            del self._kept[(alias, task_id)]
            if retry is None:  # the pass kept the finished task for this outcome: it is done now
                self._queue(alias, task_id, None, outcomes[-1][0])

    def _finished_plainly(
        self,
        task: Task,
        alias: str,
        executor_alias: str | None,
        outcomes: Sequence[Outcome],
        record: bool,
        listens: bool,
    ) -> None:
        """``finished`` for the common case, kept lean: no attempt but the first, no retries to
        decide. Its events carry only what differs from the defaults (first attempt, final):
        building the event is most of what a listener costs the fire path."""
        scheduler = self.scheduler
        recent = self.recent
        observers = self.observers
        rows: list[Row] = []
        task_id, task_name, scheduler_id, new_run_id = task.id or "", task.name, scheduler.scheduler_id, self.new_run_id
        ended = 0.0
        run_id: str | None = None
        for outcome in outcomes:
            scheduled = outcome[0].timestamp()
            if len(outcome) > 5:
                started: float | None = outcome[5]  # type: ignore[misc]
                ended = outcome[6]  # type: ignore[misc]
                duration: float | None = max(ended - started, 0.0)  # type: ignore[operator]
                lateness: float | None = started - scheduled  # type: ignore[operator]
            else:
                started = duration = lateness = None
                ended = self._now()
            if outcome[1]:
                recent.append((ended, _EXECUTED, lateness))
                if observers:
                    observed = RunObservation(
                        task, alias, executor_alias, outcome[0], _EXECUTED, 1, started, ended, None
                    )
                    notify(observers, observed)
                if record:
                    value = outcome[2]
                    shown = None if value is None else short_repr(value)
                    run_id = new_run_id()
                    row = (run_id, task_id, task_name, scheduled, started, ended, duration, _EXECUTED, 1)
                    rows.append((*row, scheduler_id, None, None, None, shown, None))
                if listens:
                    scheduler.dispatch_event(
                        _new_execution_event(
                            {
                                "code": TASK_EXECUTED,
                                "alias": executor_alias,
                                "task_id": task.id,
                                "store": task.store_alias,
                                "scheduled_run_time": outcome[0],
                                "return_value": outcome[2],
                                "run_id": run_id,
                            }
                        )
                    )
                continue
            exc = outcome[3]
            scheduler.logger.error("Task %r raised an exception", task_name, exc_info=exc)
            recent.append((ended, _ERROR, lateness))
            if observers:
                notify(
                    observers, RunObservation(task, alias, executor_alias, outcome[0], _ERROR, 1, started, ended, exc)
                )
            if record:
                run_id = new_run_id()
                failed = (run_id, task_id, task_name, scheduled, started, ended, duration, _ERROR, 1)
                failure = (exception_type(exc), trim_message(exc), trim_traceback(outcome[4]), None, None)
                rows.append((*failed, scheduler_id, *failure))
            if listens:
                scheduler.dispatch_event(
                    TaskExecutionEvent(
                        code=TASK_ERROR,
                        alias=executor_alias,
                        task_id=task.id,
                        store=task.store_alias,
                        scheduled_run_time=outcome[0],
                        exception=exc,
                        traceback=outcome[4],
                        run_id=run_id,
                    )
                )
        if rows:
            self.add_records(alias, rows, ended)

    def missed(self, task: Task, alias: str, run_times: Iterable[datetime]) -> None:
        """Run times later than the grace time, not run."""
        self._not_run(task, alias, run_times, _MISSED)

    def skipped(self, task: Task, alias: str, run_times: Iterable[datetime]) -> None:
        """Run times not run because ``max_instances`` runs were in flight (a due retry too)."""
        self._not_run(task, alias, run_times, _SKIPPED)

    def abandoned(self, task: Task, alias: str, run_times: Iterable[datetime], attempt: int = 1) -> None:
        """Run times a dead scheduler had claimed, not run again (``on_interrupted="report"``)."""
        self._not_run(task, alias, run_times, _ABANDONED, attempt)

    def not_submitted(self, task: Task, alias: str, run_times: Iterable[datetime]) -> None:
        """The executor refused the submission: forget the attempts registered for it."""
        if self._attempts:
            for run_time in run_times:
                self._attempts.pop((alias, task.id or "", run_time), None)

    def _not_run(self, task: Task, alias: str, run_times: Iterable[datetime], name: str, attempt: int = 1) -> None:
        now = self._now()
        rows: list[Row] = []
        task_id = task.id or ""
        attempts = self._attempts
        for run_time in run_times:
            this_attempt = attempts.pop((alias, task_id, run_time), attempt) if attempts else attempt
            self.recent.append((now, name, None))
            if self.observers:
                executor = task.executor or "default"
                notify(
                    self.observers, RunObservation(task, alias, executor, run_time, name, this_attempt, None, now, None)
                )
            if self.settings.enabled:
                scheduler_id = self.scheduler.scheduler_id
                row = (self.new_run_id(), task_id, task.name, run_time.timestamp(), None, now, None, name)
                rows.append((*row, this_attempt, scheduler_id, None, None, None, None, None))
        if rows:
            self.add_records(alias, rows, now)

    # -- hooks: retries in the pass ------------------------------------------------------

    def fold_retry(
        self, alias: str, task: Task, pending: PendingRetry, runnable: list[datetime], now: datetime
    ) -> list[datetime]:
        """The pass took ``pending`` aside and settled the regular schedule. A due retry runs
        now, in the same submission as the regular runs due with it (first: its run time is
        the earliest); one not due yet is put back. Returns the run times to submit."""
        if pending.retry_at <= now:
            self._attempts[(alias, task.id or "", pending.run_time)] = pending.attempt
            return [pending.run_time, *runnable]
        put_retry(task, pending)
        return runnable

    def keep_for_outcome(self, alias: str, task: Task, last_run: datetime) -> None:
        """The pass is submitting the last run (at ``last_run``) of a task that may retry, on a
        store without claims: the task is stored (paused) rather than deleted, and that run's
        outcome deletes it or stores its retry. Called before the submission, as an inline
        executor or a quick worker thread delivers the outcome before ``send_task`` returns."""
        self._kept[(alias, task.id or "")] = last_run

    def forget_kept(self, alias: str, task: Task) -> None:
        """The submission ``keep_for_outcome`` announced did not happen: no outcome will come."""
        self._kept.pop((alias, task.id or ""), None)

    def interrupted_retry(self, alias: str, task: Task, pending: PendingRetry | None) -> PendingRetry | None:
        """The task's previous scheduler died holding it. A retry that was due when it claimed
        the task may have run: ``report`` drops it (abandoned), ``rerun`` keeps it."""
        claimed_at = task.interrupted_at
        if pending is None or claimed_at is None or pending.retry_at > claimed_at or task.on_interrupted == "rerun":
            return pending
        self.scheduler.logger.warning(
            "Task %r: attempt %d of run %s was interrupted by its scheduler's death; not re-run",
            task.id,
            pending.attempt,
            pending.run_time.isoformat(),
        )
        self.abandoned(task, alias, [pending.run_time], pending.attempt)
        if self.scheduler.listens_to(TASK_RUN_ABANDONED):
            self.scheduler.dispatch_event(
                TaskSubmissionEvent(
                    code=TASK_RUN_ABANDONED, task_id=task.id, store=alias, scheduled_run_times=[pending.run_time]
                )
            )
        return None

    def _schedule_retry(self, alias: str, task: Task, attempt: int, run_time: datetime, retry_at: datetime) -> None:
        scheduler = self.scheduler
        if scheduler.claims.holds_task(alias, task.id):  # its release stores the retry with the claim
            store = scheduler.stores.get(alias)
            if store is not None and not store.blocking_io:
                with scheduler.store_lock:  # the memory store's task is this object: not during a pass
                    schedule_retry(task, attempt, run_time, retry_at)
            else:
                schedule_retry(task, attempt, run_time, retry_at)
            return
        self._queue(alias, task.id or "", PendingRetry(attempt, run_time, retry_at, None), run_time)

    def _queue(self, alias: str, task_id: str, retry: PendingRetry | None, ran: datetime) -> None:
        """Store a retry (None: delete the finished task that ran at ``ran``) into the stored
        task, between passes."""
        with self._lock:
            self._retries.append((alias, task_id, retry, ran))
        self.scheduler.run_store_io(self.apply_retries)

    def apply_retries(self, alias: str | None = None, store: Store | None = None) -> None:
        """Write queued retries to their stored tasks. The pass calls it for its store (it
        holds the pass lock); as a store job it runs only between passes, never inside one
        (an inline executor finishes while the pass still holds the task it will write)."""
        if not self._retries:
            return
        scheduler = self.scheduler
        if alias is None:
            lock = scheduler._process_lock
            if not lock.acquire(blocking=False):
                scheduler.wakeup()  # a pass is running: it, or the one after it, applies them
                return
            try:
                for each_alias, each_store in list(scheduler.stores.items()):
                    self._apply(each_alias, each_store)
            finally:
                lock.release()
        elif store is not None:
            self._apply(alias, store)

    def _apply(self, alias: str, store: Store) -> None:
        with self._lock:
            mine = [entry for entry in self._retries if entry[0] == alias]
            if not mine:
                return
            self._retries = [entry for entry in self._retries if entry[0] != alias]
        scheduler = self.scheduler
        earliest: datetime | None = None
        failed = []
        for entry in mine:
            _, task_id, retry, ran = entry
            try:
                if store.blocking_io:
                    done = _write_outcome(scheduler, alias, store, task_id, retry, ran)
                else:
                    with scheduler.store_lock:
                        done = _write_outcome(scheduler, alias, store, task_id, retry, ran)
            except Exception as exc:
                logger.warning(
                    "Store %r: storing the outcome of task %r failed (%s); trying again", alias, task_id, exc
                )
                failed.append(entry)
                continue
            if done and retry is not None and (earliest is None or retry.retry_at < earliest):
                earliest = retry.retry_at
        if failed:
            with self._lock:
                self._retries.extend(failed)
        if earliest is not None:
            scheduler.wakeup_at(earliest)
            scheduler.announce(alias, earliest)

    # -- records: batched writes on the store I/O thread -----------------------------------

    def add_records(self, alias: str, rows: list[Row], now: float) -> None:
        """Queue ``rows`` for their store (a store without history keeps them in memory)."""
        store = self.scheduler.stores.get(alias)
        if store is None or not store.supports_history:
            self.memory.rows_of(alias).extend(rows)  # a bounded deque: no lock, no pruning here
            return
        with self._lock:
            pending = self._pending.get(alias)
            if pending is None:
                self._pending[alias] = rows
            else:
                pending.extend(rows)
            queue = not self._flush_queued
            self._flush_queued = True
        if queue:
            self.scheduler.run_store_io(self.flush)

    def flush(self) -> None:
        """Write every queued record, one batch per store; prune now and then. A store that
        cannot be reached keeps its batch for the next flush (``max_pending`` at most)."""
        with self._lock:
            pending, self._pending = self._pending, {}
            self._flush_queued = False
        for alias, rows in pending.items():
            store = self.scheduler.stores.get(alias)
            if store is None:
                continue
            try:
                store.record_runs([as_dict(row) for row in rows])
            except Exception as exc:
                self._keep(alias, rows, exc)
                continue
            self._touched.setdefault(alias, set()).update(row[TASK_ID] for row in rows)
            self._prune_now_and_then(alias, store, self._now())

    def _keep(self, alias: str, rows: list[Row], exc: Exception) -> None:
        limit = self.settings.max_pending
        with self._lock:
            kept = rows + self._pending.get(alias, [])
            dropped = max(len(kept) - limit, 0)
            self._pending[alias] = kept[dropped:]
        logger.warning(
            "Store %r: writing %d run record(s) failed (%s); kept for the next attempt%s",
            alias,
            len(rows),
            exc,
            f", {dropped} oldest dropped (max_pending={limit})" if dropped else "",
        )

    def _prune_now_and_then(self, alias: str, store: Store, now: float) -> None:
        """At most every ``prune_interval``: the records of ``max_age`` go, and of each task this
        scheduler wrote records of, those past the newest ``keep_per_task``."""
        if now - self._pruned_at.get(alias, 0.0) < self.settings.prune_interval:
            return
        self._pruned_at[alias] = now
        max_age = self.settings.max_age
        touched = self._touched.pop(alias, set())
        try:
            store.prune_history(touched, self.settings.keep_per_task, None if max_age is None else now - max_age)
        except Exception as exc:
            logger.warning("Store %r: pruning the run history failed (%s)", alias, exc)

    def has_pending(self) -> bool:
        """Records or outcomes still waiting to be written."""
        return bool(self._pending) or bool(self._retries)

    # -- heartbeats, shutdown --------------------------------------------------------------

    def heartbeat(self) -> None:
        """Renew this scheduler's heartbeat in every shared store (store I/O thread); write
        what earlier flushes could not."""
        scheduler = self.scheduler
        now = scheduler.clock()
        expires_at = now + timedelta(seconds=scheduler.lease_seconds)
        for alias, store in list(scheduler.stores.items()):
            if store.supports_claims:
                try:
                    store.beat(scheduler.scheduler_id, now, expires_at)
                except Exception as exc:
                    # other schedulers' health checks see this one as dead once its beat expires
                    if alias not in self._beat_failing:
                        self._beat_failing.add(alias)
                        logger.warning("Store %r: heartbeat failed (%s); retrying every beat", alias, exc)
                    else:
                        logger.debug("Store %r: heartbeat failed again (%s)", alias, exc)
                else:
                    if alias in self._beat_failing:
                        self._beat_failing.discard(alias)
                        logger.info("Store %r: heartbeat written again", alias)
        if self._pending:
            self.flush()
        if self._retries:
            self.apply_retries()

    def heartbeat_interval(self) -> float | None:
        """Seconds between heartbeats (a third of the lease), or None without a shared store."""
        if any(store.supports_claims for store in list(self.scheduler.stores.values())):
            return self.scheduler.lease_seconds / 3
        return None

    def shutdown(self) -> None:
        """Before the stores close: store queued retries and records, drop our heartbeat."""
        scheduler = self.scheduler
        for alias, store in list(scheduler.stores.items()):
            self._apply(alias, store)
        self.flush()
        for alias, store in list(scheduler.stores.items()):
            if store.supports_claims:
                try:
                    store.drop_beat(scheduler.scheduler_id)
                except Exception as exc:
                    logger.debug("Store %r: removing the heartbeat failed (%s)", alias, exc)
        self._attempts.clear()
        self._kept.clear()  # such a task stays stored, paused: its outcome never came

    # -- reading ---------------------------------------------------------------------------

    def get_run_history(
        self,
        task_id: str | None = None,
        limit: int = 50,
        outcome: str | RunOutcome | Iterable[str | RunOutcome] | None = None,
        since: datetime | str | None = None,
        store: str | None = None,
    ) -> list[RunRecord]:
        """Records of every scheduler sharing the stores, newest first (see the scheduler's
        ``get_run_history``)."""
        if task_id is not None and not isinstance(task_id, str):
            raise ArgumentTypeError("task_id", f"expected a task id string or None, got {type(task_id).__name__}")
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
            raise ArgumentError("limit", f"expected a whole number from 1 to {MAX_LIMIT}, got {limit!r}")
        outcomes = _outcomes(outcome)
        since_ts = None if since is None else to_datetime(since, self.scheduler.timezone, "since").timestamp()
        scheduler = self.scheduler
        aliases = [store] if store is not None else list(scheduler.stores)
        found: list[tuple[str, dict[str, Any]]] = []
        for alias in aliases:
            plugin = scheduler.lookup_store(alias)
            if plugin.supports_history:
                rows = plugin.get_run_history(task_id, limit, outcomes, since_ts)
                with self._lock:
                    queued = [as_dict(row) for row in self._pending.get(alias, ())]
                rows += [row for row in queued if _matches(row, task_id, outcomes, since_ts)]
            else:
                max_age = self.settings.max_age
                if max_age is not None:
                    self.memory.prune(alias, self._now() - max_age)
                rows = self.memory.query(alias, task_id, limit, outcomes, since_ts)
            found.extend((alias, row) for row in rows)
        found.sort(key=lambda pair: newest_first(pair[1]), reverse=True)
        unique: dict[str, tuple[str, dict[str, Any]]] = {}
        for alias, row in found:  # a record flushed while we read may appear twice
            unique.setdefault(row["run_id"], (alias, row))
        return [RunRecord.from_stored(row, alias) for alias, row in list(unique.values())[:limit]]

    def recent_outcomes(self, window: float = RECENT_SECONDS) -> list[tuple[float, str, float | None]]:
        """(finished timestamp, outcome, lateness) of this scheduler's outcomes in the last ``window`` seconds."""
        since = self._now() - window
        return [entry for entry in list(self.recent) if entry[0] >= since]


def _write_outcome(
    scheduler: BaseScheduler, alias: str, store: Store, task_id: str, retry: PendingRetry | None, ran: datetime
) -> bool:
    """Into the task as it is stored now: the retry, or (None) the deletion of a task whose
    schedule had finished when it ran and that has no retry pending."""
    task = store.lookup_task(task_id)
    if task is None:  # deleted meanwhile: nothing left to retry
        return False
    if retry is not None:
        schedule_retry(task, retry.attempt, retry.run_time, retry.retry_at)
        store.update_task(task)
        return True
    if task.next_run_time is None and task.retry is None and _finished(scheduler, task, ran):
        store.delete_task(task_id)
        if scheduler.listens_to(TASK_REMOVED):
            scheduler.dispatch_event(TaskEvent(code=TASK_REMOVED, task_id=task_id, store=alias))
    return False


def _finished(scheduler: BaseScheduler, task: Task, ran: datetime) -> bool:
    """No fire time is left after ``ran`` (a paused task with fire times left is not finished)."""
    trigger = task.trigger
    return trigger is None or trigger.get_next_trigger_time(scheduler.timezone, ran, scheduler.now()) is None


def _last_retryable(
    task: Task, alias: str, outcomes: Sequence[Outcome], attempts: dict[tuple[str, str, datetime], int]
) -> int:
    """The index of the last failure with attempts left: a task has one pending retry at most,
    so of several runs failing in one submission only the latest is retried."""
    task_id = task.id or ""
    for index in range(len(outcomes) - 1, -1, -1):
        outcome = outcomes[index]
        if not outcome[1]:
            attempt = attempts.get((alias, task_id, outcome[0]), 1)
            if retries_left(task, attempt, outcome[3]):
                return index
    return -1


def _outcomes(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    items = [value] if isinstance(value, (str, RunOutcome)) else list(value)
    names = []
    for item in items:
        name = item.value if isinstance(item, RunOutcome) else item
        if name not in OUTCOMES:
            raise ArgumentError("outcome", f"expected one of {sorted(OUTCOMES)}, got {item!r}")
        names.append(name)
    return tuple(names)


def _matches(row: dict[str, Any], task_id: str | None, outcomes: Collection[str] | None, since: float | None) -> bool:
    return (
        (task_id is None or row["task_id"] == task_id)
        and (outcomes is None or row["outcome"] in outcomes)
        and (since is None or row["finished_at"] >= since)
    )


__all__ = ["RunLog"]
