"""A scheduler used as a client of a store: how the CLI and the REST API change tasks.

It is started paused, so it never runs a processing pass of its own. Every change it makes
goes to the store, and a change that brings a run earlier is announced through the store's
change feed (PostgreSQL NOTIFY, Redis pub/sub, MongoDB change streams); schedulers on
SQLite or MariaDB find it at their next poll. So a CLI works with no scheduler running, and
the running ones honour what it did.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from asyncz_like._limits import shorten
from asyncz_like.events import TASK_ERROR, TASK_EXECUTED, TASK_MAX_INSTANCES, SchedulerEvent
from asyncz_like.exceptions import TaskLookupError
from asyncz_like.operations import features
from asyncz_like.operations.redact import Redactor, url_password
from asyncz_like.operations.specs import TaskSpec, TriggerSpec, add_from_spec, build_trigger
from asyncz_like.schedulers.base import BaseScheduler
from asyncz_like.stores.base import mask_url
from asyncz_like.tasks.info import TaskInfo

#: env variables the CLI and ``serve`` read
STORE_ENV = "ASYNCZ_LIKE_STORE"
CONFIG_ENV = "ASYNCZ_LIKE_CONFIG"


class NoStoreError(ValueError):
    """Neither a store URL nor a config file was named."""

    def __init__(self) -> None:
        super().__init__(f"store: no store named; pass --store URL, set {STORE_ENV}, or pass --config FILE")


@dataclass
class RunOutcome:
    """What ``run now`` did: the run times submitted and, when they finished in time, each
    outcome (``executed`` or ``error`` with the exception)."""

    task_id: str
    submitted: list[datetime] = field(default_factory=list)
    results: list[dict[str, Any]] = field(default_factory=list)
    finished: bool = False

    @property
    def failed(self) -> bool:
        return any(result["outcome"] != "executed" for result in self.results)

    def as_json(self) -> dict[str, Any]:
        return {
            "task_id": self.task_id,
            "submitted": [run_time.isoformat() for run_time in self.submitted],
            "finished": self.finished,
            "results": self.results,
        }


class StoreClient:
    """Task operations on a scheduler's stores, for operators. Either wraps a scheduler the
    application runs (``owned=False``: never started or stopped here) or owns a paused one."""

    def __init__(self, scheduler: BaseScheduler, *, owned: bool, redactor: Redactor | None = None) -> None:
        self.scheduler = scheduler
        self.owned = owned
        self.redactor = redactor or Redactor()
        for store in scheduler.stores.values():
            self.redactor.add(*url_password(getattr(store, "url", None)))
        self._lock = threading.Lock()
        self._started = False

    # -- life cycle ----------------------------------------------------------------

    def start(self) -> StoreClient:
        """Connect (idempotent, thread-safe): an owned scheduler starts paused."""
        with self._lock:
            if self.owned and not self._started:
                self.scheduler.start(paused=True)
                self._started = True
        return self

    def close(self) -> None:
        with self._lock:
            if self.owned and self._started:
                self._started = False
                self.scheduler.shutdown(wait=True)

    def __enter__(self) -> StoreClient:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- reading -------------------------------------------------------------------

    def list_tasks(self, **filters: Any) -> list[TaskInfo]:
        """``get_task_infos`` with its filters: store, schedule_state, executor, trigger, q,
        sort_by, descending."""
        return self.start().scheduler.get_task_infos(**filters)

    def get(self, task_id: str) -> TaskInfo:
        info = self.start().scheduler.get_task_info(task_id)
        if info is None:
            raise TaskLookupError(task_id)
        return info

    def set_aside(self) -> list[dict[str, str]]:
        """Tasks a store keeps but cannot restore here (a function that does not import, a
        wrong key): listed so an operator sees them, never deleted by listing."""
        found = []
        for alias, store in list(self.start().scheduler.stores.items()):
            getter = getattr(store, "get_set_aside_tasks", None)
            for item in getter() if getter is not None else ():
                found.append({"store": alias, "id": item.task_id, "reason": self.redactor.text(item.reason)})
        return found

    def describe(self) -> dict[str, Any]:
        """The scheduler as an operator may see it: stores with masked URLs, no secrets."""
        scheduler = self.scheduler
        stores = []
        for alias, store in list(scheduler.stores.items()):
            url = getattr(store, "url", None)
            stores.append(
                {"alias": alias, "type": type(store).__name__, "url": mask_url(url) if isinstance(url, str) else None}
            )
        return {
            "state": scheduler.state.name.removeprefix("STATE_").lower(),
            "client": self.owned,
            "timezone": str(scheduler.timezone),
            "scheduler_id": scheduler.scheduler_id,
            "stores": stores,
            "features": {"history": features.has_history(scheduler), "health": features.has_health(scheduler)},
        }

    def history(
        self, task_id: str | None = None, limit: int = 50, outcome: str | None = None, since: datetime | None = None
    ) -> list[dict[str, Any]]:
        return self.redactor.value(features.run_history(self.start().scheduler, task_id, limit, outcome, since))  # type: ignore[no-any-return]

    def health(self) -> dict[str, Any]:
        """The scheduler's report; of an owned client, a view of its stores (``store_view``)."""
        report = features.health_report(self.start().scheduler)
        return self.redactor.value(features.store_view(report) if self.owned else report)  # type: ignore[no-any-return]

    def last_outcomes(self) -> dict[str, dict[str, Any]]:
        return self.redactor.value(features.last_outcomes(self.start().scheduler))  # type: ignore[no-any-return]

    # -- changing ------------------------------------------------------------------

    def add(self, spec: TaskSpec) -> TaskInfo:
        task = add_from_spec(self.start().scheduler, spec)
        return task.snapshot()

    def pause(self, task_id: str) -> TaskInfo:
        return self.start().scheduler.pause_task(task_id).snapshot()

    def resume(self, task_id: str) -> TaskInfo | None:
        """None when the trigger has nothing left to fire (the task is then removed)."""
        task = self.start().scheduler.resume_task(task_id)
        return None if task is None else task.snapshot()

    def reschedule(self, task_id: str, spec: TriggerSpec) -> TaskInfo:
        scheduler = self.start().scheduler
        self.get(task_id)  # an unknown id says so before a trigger is built for it
        trigger = build_trigger(scheduler, spec.trigger, spec.trigger_args)
        return scheduler.reschedule_task(task_id, trigger=trigger).snapshot()

    def delete(self, task_id: str) -> None:
        self.start().scheduler.delete_task(task_id)

    def run_now(
        self, task_id: str, wait: float | None = None, local_executor: Callable[[], Any] | None = None
    ) -> RunOutcome:
        """Submit the task at once (``run_task``): its due run times, or one run now. The run
        happens where this client runs, on the task's executor; an owned client lacks the
        application's executors, so an alias it does not know runs on ``local_executor()``.
        Waits up to ``wait`` seconds for the outcome (None: until it ends)."""
        scheduler = self.start().scheduler
        info = self.get(task_id)
        alias = info.executor or "default"
        if alias not in scheduler.executors and self.owned and local_executor is not None:
            scheduler.add_executor(local_executor(), alias)
        outcome = RunOutcome(task_id)
        done = threading.Event()

        def listen(event: SchedulerEvent) -> None:
            if getattr(event, "task_id", None) != task_id:
                return
            if event.code == TASK_MAX_INSTANCES:
                outcome.results.append({"outcome": "max_instances", "message": "already running at max_instances"})
            else:
                outcome.results.append(self._result(event))
            if len(outcome.results) >= max(len(outcome.submitted), 1):
                done.set()

        scheduler.add_listener(listen, TASK_EXECUTED | TASK_ERROR | TASK_MAX_INSTANCES)
        try:
            with _submissions(scheduler, task_id, outcome.submitted):
                scheduler.run_task(task_id)
            if wait is None or wait > 0:
                done.wait(wait)
        finally:
            scheduler.remove_listener(listen)
        outcome.finished = done.is_set()
        return outcome

    def _result(self, event: SchedulerEvent) -> dict[str, Any]:
        exception = getattr(event, "exception", None)
        run_time = getattr(event, "scheduled_run_time", None)
        result: dict[str, Any] = {
            "outcome": "executed" if exception is None else "error",
            "scheduled_run_time": run_time.isoformat() if run_time is not None else None,
        }
        if exception is None:
            result["return_value"] = self.redactor.text(shorten(getattr(event, "return_value", None), 200))
        else:
            result["exception_type"] = type(exception).__name__
            result["message"] = self.redactor.text(str(exception))[:500]
        return result


@contextmanager
def _submissions(scheduler: BaseScheduler, task_id: str, into: list[datetime]) -> Iterator[None]:
    """Collects the run times ``run_task`` submits (from its TASK_SUBMITTED event)."""
    from asyncz_like.events import TASK_SUBMITTED

    def listen(event: SchedulerEvent) -> None:
        if getattr(event, "task_id", None) == task_id:
            into.extend(getattr(event, "scheduled_run_times", []))

    scheduler.add_listener(listen, TASK_SUBMITTED)
    try:
        yield
    finally:
        scheduler.remove_listener(listen)


def open_client(
    store: str | None = None,
    store_options: dict[str, Any] | None = None,
    config: dict[str, Any] | None = None,
    *,
    timezone: str | None = None,
    executor: str = "debug",
    redactor: Redactor | None = None,
) -> StoreClient:
    """A client (not yet connected) on the store at URL ``store`` and/or the stores of a
    config (``load_config_file``). ``executor`` runs 'run now' requests here: ``debug``
    inline (the CLI, which waits for the outcome), ``threadpool`` in the background."""
    from asyncz_like.operations.config import split_config
    from asyncz_like.schedulers.manual import ManualScheduler

    global_config: dict[str, Any] = {}
    options: dict[str, Any] = {}
    if config is not None:
        global_config, options, _ = split_config(config)
    if store is None and not _names_stores(global_config, options):
        raise NoStoreError()
    if timezone is not None:
        options["timezone"] = timezone
    scheduler = ManualScheduler(global_config or None, **options)
    for alias in list(scheduler.executors):  # runs asked for here happen here, never in a pool of the config
        scheduler.remove_executor(alias, shutdown=True)
    scheduler.add_executor(executor, "default")
    client_redactor = redactor or Redactor()
    client_redactor.add(*url_password(store))
    if store is not None:
        if "default" in scheduler.stores:
            scheduler.remove_store("default")
        try:
            scheduler.add_store(store, "default", **(store_options or {}))
        except (TypeError, ValueError) as exc:
            raise type(exc)(client_redactor.text(str(exc))) from None
    return StoreClient(scheduler, owned=True, redactor=client_redactor)


def _names_stores(global_config: dict[str, Any], options: dict[str, Any]) -> bool:
    return bool(options.get("stores")) or any(key.startswith("asyncz_like.stores.") for key in global_config)
