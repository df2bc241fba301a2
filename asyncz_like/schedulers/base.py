"""BaseScheduler: the state machine, plugin composition and the task API.

Front ends (asyncio, threads) subclass it and only say how to wake up later
(``start_timer``/``stop_timer``/``wakeup``); the processing pass is in ``processing.py``.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import datetime, timedelta, tzinfo
from enum import IntEnum
from functools import lru_cache
from inspect import isawaitable
from threading import Lock, RLock
from typing import TYPE_CHECKING, Any
from uuid import uuid4

from asyncz_like import plugins
from asyncz_like._time import UTC, local_timezone, to_timezone
from asyncz_like._undefined import undefined
from asyncz_like.abc import Executor, Store, Trigger
from asyncz_like.events import (
    ALL_EVENTS,
    ALL_TASKS_REMOVED,
    EXECUTOR_ADDED,
    EXECUTOR_REMOVED,
    SCHEDULER_PAUSED,
    SCHEDULER_RESUMED,
    SCHEDULER_SHUTDOWN,
    SCHEDULER_START,
    STORE_ADDED,
    STORE_REMOVED,
    TASK_ADDED,
    TASK_MAX_INSTANCES,
    TASK_MODIFIED,
    TASK_REMOVED,
    TASK_SUBMITTED,
    SchedulerEvent,
    TaskEvent,
    TaskSubmissionEvent,
)
from asyncz_like.exceptions import (
    ConflictIdError,
    MaximumInstancesError,
    SchedulerAlreadyRunningError,
    SchedulerNotRunningError,
    TaskLookupError,
)
from asyncz_like.schedulers import config as cfg
from asyncz_like.schedulers.claims import HeldClaims
from asyncz_like.schedulers.locking import StoreFileLocks
from asyncz_like.schedulers.processing import process_store
from asyncz_like.schedulers.queries import select
from asyncz_like.tasks.info import TaskInfo, TaskScheduleState
from asyncz_like.tasks.task import Task
from asyncz_like.triggers.shutdown import ShutdownTrigger

if TYPE_CHECKING:
    from asyncz_like.asgi import ASGIApp

TIMEOUT_MAX = 4_294_967.0  # the longest delay asyncio/threading timers accept everywhere
_TASK_DEFAULT_KEYS = ("mistrigger_grace_time", "coalesce", "max_instances", "on_interrupted")


class SchedulerState(IntEnum):
    STATE_STOPPED = 0
    STATE_RUNNING = 1
    STATE_PAUSED = 2


class BaseScheduler(ABC):
    """Composes trigger, executor and store plugins; see the asyncz API reference."""

    def __init__(self, global_config: dict[str, Any] | None = None, **options: Any) -> None:
        self.executors: dict[str, Executor] = {}
        self.stores: dict[str, Store] = {}
        self.listeners: list[tuple[Callable[[SchedulerEvent], Any], int]] = []
        self.pending_tasks: list[tuple[Task, bool, bool]] = []
        self.state = SchedulerState.STATE_STOPPED
        self.ref_counter = 0
        self.ref_lock = Lock()
        self.store_lock = RLock()
        self.executor_lock = RLock()
        self.listeners_lock = RLock()
        self._listen_mask = 0
        self._process_lock = Lock()
        self.next_wakeup_time: datetime | None = None
        self.timezone: tzinfo = local_timezone()
        self.task_defaults: dict[str, Any] = {
            "mistrigger_grace_time": 1.0,
            "coalesce": True,
            "max_instances": 1,
            "on_interrupted": "report",
        }
        self.claims = HeldClaims(self)
        self.logger = logging.getLogger("asyncz_like.schedulers")
        self.store_retry_interval = 10.0
        self.scheduler_id = f"{socket.gethostname()}-{os.getpid()}-{uuid4().hex[:8]}"
        self.lease_seconds = 30.0
        self.clock: Callable[[], datetime] = _utc_now
        self.setup(global_config, **options)

    # -- configuration -----------------------------------------------------------

    def setup(
        self, global_config: dict[str, Any] | None = None, prefix: str | None = "asyncz_like.", **options: Any
    ) -> None:
        """Reconfigure from a flat dotted ``global_config`` (keys under ``prefix``) and keyword
        options, which win. Only while stopped."""
        if self.state != SchedulerState.STATE_STOPPED:
            raise SchedulerAlreadyRunningError()
        config = cfg.nest(global_config, prefix)
        config.update(options)
        self._setup(config)

    def _setup(self, config: dict[str, Any]) -> None:
        config = dict(config)
        if "logger_name" in config:
            self.logger = logging.getLogger(str(config.pop("logger_name")))
        if "timezone" in config:
            self.timezone = to_timezone(config.pop("timezone")) or local_timezone()
        if "store_retry_interval" in config:
            self.store_retry_interval = cfg.as_number(config.pop("store_retry_interval"), "store_retry_interval")
        if "lease_seconds" in config:
            self.lease_seconds = cfg.as_number(config.pop("lease_seconds"), "lease_seconds")
        if "clock" in config:
            clock = config.pop("clock")
            if not callable(clock):
                raise TypeError(f"clock: expected a callable returning an aware datetime, got {type(clock).__name__}")
            self.clock = clock
        if "scheduler_id" in config:
            self.scheduler_id = str(config.pop("scheduler_id"))
        defaults = config.pop("task_defaults", None) or {}
        if not isinstance(defaults, dict):
            raise TypeError(f"task_defaults: expected a dict, got {type(defaults).__name__}")
        unknown = set(defaults) - {*_TASK_DEFAULT_KEYS, "executor", "store"}
        if unknown:
            raise ValueError(f"task_defaults: unknown key(s) {sorted(unknown)}")
        for key, value in defaults.items():
            if key == "coalesce":
                value = cfg.as_bool(value, "task_defaults.coalesce")
            elif key == "max_instances":
                value = cfg.as_number(value, "task_defaults.max_instances", integer=True)
            elif key == "mistrigger_grace_time" and value is not None:
                value = cfg.as_number(value, "task_defaults.mistrigger_grace_time")
            self.task_defaults[key] = value
        Task(lambda: None, **{k: v for k, v in self.task_defaults.items() if k in _TASK_DEFAULT_KEYS})  # validates
        for kind, adder in (("executors", self.add_executor), ("stores", self.add_store)):
            section = config.pop(kind, None) or {}
            if not isinstance(section, dict):
                raise TypeError(f"{kind}: expected a dict of alias -> plugin, got {type(section).__name__}")
            for alias, spec in section.items():
                plugin, plugin_options = cfg.plugin_spec(spec, f"{kind}.{alias}")
                if alias in getattr(self, kind):
                    getattr(self, f"remove_{kind[:-1]}")(alias)
                adder(plugin, alias, **plugin_options)
        self.lock_path = config.pop("lock_path", None)
        self._file_locks = StoreFileLocks(self.lock_path) if self.lock_path else None
        if config:
            raise TypeError(f"scheduler: unknown option(s) {sorted(config)}")

    def now(self) -> datetime:
        """The scheduler's clock (``clock=`` option; tests pass a fixed one) in its zone."""
        return self.clock().astimezone(self.timezone)

    # -- life cycle --------------------------------------------------------------

    def inc_refcount(self) -> bool:
        with self.ref_lock:
            self.ref_counter += 1
            return self.ref_counter == 1

    def decr_refcount(self) -> bool:
        with self.ref_lock:
            self.ref_counter = max(self.ref_counter - 1, 0)
            return self.ref_counter == 0

    @property
    def running(self) -> bool:
        return self.state != SchedulerState.STATE_STOPPED

    def start(self, paused: bool = False) -> bool:
        """Start (or only count another user of an already started scheduler: returns False)."""
        if not self.inc_refcount():
            return False
        self.check_uwsgi()
        with self.executor_lock:
            if "default" not in self.executors:
                self.add_executor(self.create_default_executor(), "default")
            for alias, executor in self.executors.items():
                executor.start(self, alias)
        with self.store_lock:
            if "default" not in self.stores:
                self.add_store(self.create_default_store(), "default")
            for alias, store in self.stores.items():
                store.start(self, alias)
            pending, self.pending_tasks = self.pending_tasks, []
            for task, replace_existing, start_task in pending:
                self.real_add_task(task, replace_existing, start_task)
        self.state = SchedulerState.STATE_PAUSED if paused else SchedulerState.STATE_RUNNING
        self.logger.info("Scheduler started")
        self.dispatch_event(SchedulerEvent(code=SCHEDULER_START))
        if not paused:
            self.wakeup()
        return True

    def shutdown(self, wait: bool = True) -> bool:
        """Stop when the last user calls it; runs ``shutdown``-trigger tasks first."""
        if self.state == SchedulerState.STATE_STOPPED:
            raise SchedulerNotRunningError()
        if not self.decr_refcount():
            return False
        self.run_shutdown_tasks()
        self.state = SchedulerState.STATE_STOPPED
        self.stop_timer()
        with self.executor_lock:
            for executor in self.executors.values():
                executor.shutdown(wait)
        self.flush_store_io()
        with self.store_lock:
            for store in self.stores.values():
                store.shutdown()
        self.logger.info("Scheduler has been shut down")
        self.dispatch_event(SchedulerEvent(code=SCHEDULER_SHUTDOWN))
        return True

    def run_shutdown_tasks(self) -> None:
        now = self.now()
        with self.store_lock:
            for alias, store in self.stores.items():
                try:
                    tasks = [task for task in store.get_all_tasks() if isinstance(task.trigger, ShutdownTrigger)]
                except Exception:
                    self.logger.exception("Could not read shutdown tasks of store %r", alias)
                    continue
                for task in tasks:
                    executor = self.executors.get(task.executor or "default")
                    try:
                        if executor is not None:
                            executor.send_task(task, [now])
                    except Exception:
                        self.logger.exception("Shutdown task %r could not be run", task.id)
                    store.delete_task(task.id)  # type: ignore[arg-type]
                    self.dispatch_event(TaskEvent(code=TASK_REMOVED, task_id=task.id, store=alias))

    def pause(self) -> None:
        if self.state == SchedulerState.STATE_STOPPED:
            raise SchedulerNotRunningError()
        if self.state == SchedulerState.STATE_RUNNING:
            self.state = SchedulerState.STATE_PAUSED
            self.logger.info("Paused scheduler task processing")
            self.dispatch_event(SchedulerEvent(code=SCHEDULER_PAUSED))

    def resume(self) -> None:
        if self.state == SchedulerState.STATE_STOPPED:
            raise SchedulerNotRunningError()
        if self.state == SchedulerState.STATE_PAUSED:
            self.state = SchedulerState.STATE_RUNNING
            self.logger.info("Resumed scheduler task processing")
            self.dispatch_event(SchedulerEvent(code=SCHEDULER_RESUMED))
            self.wakeup()

    def check_uwsgi(self) -> None:
        uwsgi = sys.modules.get("uwsgi")
        if not getattr(uwsgi, "has_threads", True):
            raise RuntimeError("The scheduler needs threads: run uWSGI with --enable-threads")

    # -- what front ends provide -------------------------------------------------

    @abstractmethod
    def wakeup(self) -> None:
        """Run a processing pass soon (from any thread)."""

    @abstractmethod
    def start_timer(self, wait_seconds: float | None = None) -> None: ...

    @abstractmethod
    def stop_timer(self) -> None: ...

    @abstractmethod
    def create_default_executor(self) -> Executor: ...

    def create_default_store(self) -> Store:
        return plugins.create(plugins.STORES, "memory")  # type: ignore[no-any-return]

    def run_coroutine_listener(self, result: Any, event: SchedulerEvent) -> None:
        """Where an async listener's coroutine goes; synchronous front ends cannot run it."""
        if hasattr(result, "close"):
            result.close()
        self.logger.error("Async listener for %s needs an asyncio scheduler; it was not run", event)

    # -- executors and stores ----------------------------------------------------

    def add_executor(self, executor: Executor | str, alias: str = "default", **executor_options: Any) -> None:
        with self.executor_lock:
            if alias in self.executors:
                raise ValueError(f"alias: an executor named {alias!r} already exists")
            instance: Executor = plugins.create(plugins.EXECUTORS, executor, executor_options)
            self.executors[alias] = instance
            if self.running:
                instance.start(self, alias)
        self.dispatch_event(SchedulerEvent(code=EXECUTOR_ADDED, alias=alias))

    def remove_executor(self, alias: str, shutdown: bool = True) -> None:
        with self.executor_lock:
            executor = self.lookup_executor(alias)
            del self.executors[alias]
        if shutdown:
            executor.shutdown()
        self.dispatch_event(SchedulerEvent(code=EXECUTOR_REMOVED, alias=alias))

    def add_store(self, store: Store | str, alias: str = "default", **store_options: Any) -> None:
        """``store``: an instance, an alias (``"redis"``), a ``module:Class`` or a URL."""
        with self.store_lock:
            if alias in self.stores:
                raise ValueError(f"alias: a store named {alias!r} already exists")
            if isinstance(store, str) and "://" in store:
                from asyncz_like.stores.urls import store_from_url

                instance: Store = store_from_url(store, **store_options)
            else:
                instance = plugins.create(plugins.STORES, store, store_options)
            if self.running:
                instance.start(self, alias)
            self.stores[alias] = instance
        self.dispatch_event(SchedulerEvent(code=STORE_ADDED, alias=alias))
        if self.running:
            self.wakeup()

    def remove_store(self, alias: str, shutdown: bool = True) -> None:
        with self.store_lock:
            store = self.lookup_store(alias)
            del self.stores[alias]
        if shutdown:
            store.shutdown()
        self.dispatch_event(SchedulerEvent(code=STORE_REMOVED, alias=alias))

    def lookup_executor(self, alias: str) -> Executor:
        try:
            return self.executors[alias]
        except KeyError:
            raise KeyError(f"executor: no executor named {alias!r}; known: {sorted(self.executors)}") from None

    def lookup_store(self, alias: str) -> Store:
        try:
            return self.stores[alias]
        except KeyError:
            raise KeyError(f"store: no store named {alias!r}; known: {sorted(self.stores)}") from None

    # -- listeners ---------------------------------------------------------------

    def add_listener(self, callback: Callable[[SchedulerEvent], Any], mask: int = ALL_EVENTS) -> None:
        if not callable(callback):
            raise TypeError(f"callback: expected a callable, got {type(callback).__name__}")
        if isinstance(mask, bool) or not isinstance(mask, int) or mask <= 0:
            raise ValueError(f"mask: expected a positive bitmask of event codes, got {mask!r}")
        with self.listeners_lock:
            self.listeners.append((callback, mask))
            self._listen_mask |= mask

    def remove_listener(self, callback: Callable[[SchedulerEvent], Any]) -> None:
        with self.listeners_lock:
            self.listeners = [(cb, mask) for cb, mask in self.listeners if cb != callback]
            self._listen_mask = 0
            for _, mask in self.listeners:
                self._listen_mask |= mask

    def listens_to(self, codes: int) -> bool:
        """True when some listener wants one of ``codes``; lets hot paths skip building events."""
        return bool(self._listen_mask & codes)

    def dispatch_event(self, event: SchedulerEvent) -> None:
        """Call each interested listener; one that raises is logged and harms nothing."""
        if not self._listen_mask & event.code:
            return
        with self.listeners_lock:
            listeners = list(self.listeners)
        for callback, mask in listeners:
            if event.code & mask:
                try:
                    result = callback(event)
                    if isawaitable(result):
                        self.run_coroutine_listener(result, event)
                except Exception:
                    self.logger.exception("Error notifying listener %r of %s", callback, event)

    # -- adding tasks ------------------------------------------------------------

    def create_trigger(self, trigger: Trigger | str | None, trigger_args: dict[str, Any]) -> Trigger:
        """An instance passes through; an alias is built with ``trigger_args`` in our zone."""
        if isinstance(trigger, Trigger):
            if trigger_args:
                raise TypeError(f"trigger: extra arguments {sorted(trigger_args)} given with a trigger instance")
            return trigger
        if trigger is None:
            trigger = "date"
        if not isinstance(trigger, str):
            raise TypeError(f"trigger: expected an alias or a Trigger instance, got {type(trigger).__name__}")
        cls = plugins.plugin_class(plugins.TRIGGERS, trigger)
        args = dict(trigger_args)
        if "timezone" not in args and _accepts(cls, "timezone"):  # type: ignore[arg-type]
            args["timezone"] = self.timezone
        return cls(**args)  # type: ignore[no-any-return]

    def add_task(
        self,
        fn_or_task: Callable[..., Any] | str | Task | None = None,
        trigger: Trigger | str | None = None,
        args: Any = None,
        kwargs: Any = None,
        id: str | None = None,
        name: str | None = None,
        mistrigger_grace_time: Any = undefined,
        coalesce: Any = undefined,
        max_instances: Any = undefined,
        next_run_time: Any = undefined,
        store: str | None = None,
        executor: str | None = None,
        replace_existing: bool = False,
        fn: Callable[..., Any] | str | None = None,
        on_interrupted: Any = undefined,
        **trigger_args: Any,
    ) -> Task:
        """Schedule ``fn`` (a callable or ``module:name``). With no function, returns a Task to
        use as a decorator. ``next_run_time=None`` adds the task paused."""
        if fn_or_task is not None and fn is not None:
            raise TypeError("fn: given twice (positionally and as fn=)")
        target = fn_or_task if fn_or_task is not None else fn
        if trigger is None and (isinstance(target, Trigger) or (isinstance(target, str) and ":" not in target)):
            trigger, target = target, None  # decorator form: @add_task("interval", seconds=5)
        if isinstance(target, Task):
            task = target
            task.scheduler = self
            start_task = task.next_run_time is None and next_run_time is undefined
        else:
            options: dict[str, Any] = {
                "args": args,
                "kwargs": kwargs,
                "name": name,
                "trigger": self.create_trigger(trigger, trigger_args),
                "executor": executor or self.task_defaults.get("executor") or "default",
                "store_alias": store or self.task_defaults.get("store") or "default",
            }
            for key, value in (
                ("mistrigger_grace_time", mistrigger_grace_time),
                ("coalesce", coalesce),
                ("max_instances", max_instances),
                ("on_interrupted", on_interrupted),
            ):
                options[key] = self.task_defaults[key] if value is undefined else value
            start_task = next_run_time is undefined
            if not start_task:
                options["next_run_time"] = next_run_time
            task = Task(target, id=id, scheduler=self, **options)
            if target is None:
                return task  # decorator mode: Task.__call__ adds it once it has a function
        with self.store_lock:
            if self.state == SchedulerState.STATE_STOPPED:
                self.pending_tasks.append((task, replace_existing, start_task))
                self.logger.info("Adding task tentatively; it is scheduled when the scheduler starts")
            else:
                self.real_add_task(task, replace_existing, start_task)
        return task

    def real_add_task(self, task: Task, replace_existing: bool, start_task: bool) -> None:
        if start_task:
            assert task.trigger is not None
            task.next_run_time = task.trigger.get_next_trigger_time(self.timezone, None, self.now())
        alias = task.store_alias or "default"
        store = self.lookup_store(alias)
        task.store_alias = alias
        try:
            store.add_task(task)
        except ConflictIdError:
            if not replace_existing:
                raise
            store.update_task(task)
        task.pending = False
        self.logger.info("Added task %r to store %r", task.name, alias)
        if self._listen_mask & TASK_ADDED:  # no pydantic event per add when nobody listens
            self.dispatch_event(TaskEvent(code=TASK_ADDED, task_id=task.id, store=alias))
        self.wakeup_if_earlier(task.next_run_time)

    def wakeup_if_earlier(self, run_time: datetime | None) -> None:
        """Only a task due before the planned wakeup needs one; others wait for the timer."""
        if self.state != SchedulerState.STATE_RUNNING or run_time is None:
            return
        planned = self.next_wakeup_time
        if planned is None or run_time < planned:
            self.wakeup()

    def scheduled_job(
        self, trigger: Trigger | str | None = None, **options: Any
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """APScheduler-style decorator: ``@scheduler.scheduled_job("interval", seconds=5)``."""
        return self.add_task(None, trigger, **options)

    # -- changing tasks ----------------------------------------------------------

    def lookup_task(self, task_id: str, store_alias: str | None) -> tuple[Task, str]:
        if not isinstance(task_id, str):
            raise TypeError(f"task_id: expected a string, got {type(task_id).__name__}")
        with self.store_lock:
            for task, _, _ in self.pending_tasks:
                if task.id == task_id and store_alias in (None, task.store_alias):
                    return task, task.store_alias or "default"
            aliases = [store_alias] if store_alias is not None else list(self.stores)
            for alias in aliases:
                task = self.lookup_store(alias).lookup_task(task_id)  # type: ignore[assignment]
                if task is not None:
                    task.store_alias = alias
                    task.scheduler = self
                    return task, alias
        raise TaskLookupError(task_id)

    def update_task(self, task_id: str | Task, store: str | None = None, **updates: Any) -> Task:
        """Change options of a task; all are validated before any is applied."""
        task_id = _task_id(task_id)
        with self.store_lock:
            task, alias = self.lookup_task(task_id, store)
            changed = _copy_task(task)
            if "trigger" in updates and not isinstance(updates["trigger"], Trigger):
                updates["trigger"] = self.create_trigger(updates["trigger"], {})
            changed.update_task(**updates)
            _copy_into(changed, task)
            if not task.pending:
                self.lookup_store(alias).update_task(task)
        self.dispatch_event(TaskEvent(code=TASK_MODIFIED, task_id=task_id, store=alias))
        self.wakeup_if_earlier(task.next_run_time)
        return task

    def reschedule_task(
        self, task_id: str | Task, store: str | None = None, trigger: Trigger | str | None = None, **trigger_args: Any
    ) -> Task:
        new_trigger = self.create_trigger(trigger, trigger_args)
        next_run_time = new_trigger.get_next_trigger_time(self.timezone, None, self.now())
        return self.update_task(task_id, store, trigger=new_trigger, next_run_time=next_run_time)

    def pause_task(self, task_id: str | Task, store: str | None = None) -> Task:
        return self.update_task(task_id, store, next_run_time=None)

    def resume_task(self, task_id: str | Task, store: str | None = None) -> Task | None:
        """Resume from now on; a trigger with nothing left to fire removes the task."""
        task_id = _task_id(task_id)
        with self.store_lock:
            task, alias = self.lookup_task(task_id, store)
            assert task.trigger is not None
            next_run_time = task.trigger.get_next_trigger_time(self.timezone, None, self.now())
            if next_run_time is None:
                self.delete_task(task_id, alias)
                return None
            return self.update_task(task_id, alias, next_run_time=next_run_time)

    def delete_task(self, task_id: str | Task, store: str | None = None) -> None:
        task_id = _task_id(task_id)
        with self.store_lock:
            for index, (task, _, _) in enumerate(self.pending_tasks):
                if task.id == task_id and store in (None, task.store_alias):
                    del self.pending_tasks[index]
                    alias = task.store_alias
                    break
            else:
                alias = self._delete_stored_task(task_id, store)
        self.logger.info("Removed task %s", task_id)
        self.dispatch_event(TaskEvent(code=TASK_REMOVED, task_id=task_id, store=alias))

    def _delete_stored_task(self, task_id: str, store: str | None) -> str:
        """Delete from the first store that has it, including a task it set aside as
        unrestorable (which a lookup cannot return). Returns the store alias."""
        for alias in [store] if store is not None else list(self.stores):
            try:
                self.lookup_store(alias).delete_task(task_id)
            except TaskLookupError:
                continue
            return alias
        raise TaskLookupError(task_id)

    def remove_all_tasks(self, store: str | None = None) -> None:
        with self.store_lock:
            if self.state == SchedulerState.STATE_STOPPED:
                self.pending_tasks = [
                    entry for entry in self.pending_tasks if store not in (None, entry[0].store_alias)
                ]
            else:
                for alias in [store] if store else list(self.stores):
                    self.lookup_store(alias).remove_all_tasks()
        self.dispatch_event(SchedulerEvent(code=ALL_TASKS_REMOVED, alias=store))

    def run_task(
        self, task_id: str | Task, store: str | None = None, *, force: bool = True, remove_finished: bool = True
    ) -> Task | None:
        """Submit a task now. Due run times are used; with none due, ``force`` runs it once at
        now. Afterwards a finished schedule deletes the task (``remove_finished``) or pauses it."""
        if self.state == SchedulerState.STATE_STOPPED:
            raise SchedulerNotRunningError()
        task_id = _task_id(task_id)
        now = self.now()
        with self.store_lock:
            task, alias = self.lookup_task(task_id, store)
            run_times, next_run_time = task.due_run_times(self.timezone, now)
            if not run_times and not force:
                return task
            executor = self.lookup_executor(task.executor or "default")
            submitted = run_times or [now]
            try:
                executor.send_task(task, submitted)
            except MaximumInstancesError:
                self.dispatch_event(
                    TaskSubmissionEvent(
                        code=TASK_MAX_INSTANCES, task_id=task_id, store=alias, scheduled_run_times=submitted
                    )
                )
                raise
            task.submitted = True
            self.dispatch_event(
                TaskSubmissionEvent(code=TASK_SUBMITTED, task_id=task_id, store=alias, scheduled_run_times=submitted)
            )
            if not run_times:
                return task  # a forced extra run leaves the schedule as it was
            if next_run_time is None and remove_finished:
                self.lookup_store(alias).delete_task(task_id)
                self.dispatch_event(TaskEvent(code=TASK_REMOVED, task_id=task_id, store=alias))
                return None
            task.next_run_time = next_run_time
            self.lookup_store(alias).update_task(task)
        self.dispatch_event(TaskEvent(code=TASK_MODIFIED, task_id=task_id, store=alias))
        self.wakeup_if_earlier(next_run_time)
        return task

    # -- reading tasks -----------------------------------------------------------

    def get_tasks(self, store: str | None = None) -> list[Task]:
        with self.store_lock:
            tasks = [task for task, _, _ in self.pending_tasks if store in (None, task.store_alias)]
            if self.running:
                for alias in [store] if store else list(self.stores):
                    for task in self.lookup_store(alias).get_all_tasks():
                        task.store_alias = alias
                        task.scheduler = self
                        tasks.append(task)
        return tasks

    def get_task(self, task_id: str, store: str | None = None) -> Task | None:
        try:
            return self.lookup_task(task_id, store)[0]
        except TaskLookupError:
            return None

    def get_task_info(self, task_id: str, store: str | None = None) -> TaskInfo | None:
        task = self.get_task(task_id, store)
        return None if task is None else task.snapshot()

    def get_task_infos(
        self,
        store: str | None = None,
        *,
        schedule_state: TaskScheduleState | str | None = None,
        executor: str | None = None,
        trigger: str | None = None,
        q: str | None = None,
        sort_by: str = "next_run_time",
        descending: bool = False,
    ) -> list[TaskInfo]:
        """Snapshots, filtered by state, executor, trigger and free text ``q``, then sorted."""
        infos = (task.snapshot() for task in self.get_tasks(store))
        return select(
            infos,
            schedule_state=schedule_state,
            executor=executor,
            trigger=trigger,
            q=q,
            sort_by=sort_by,
            descending=descending,
        )

    # -- the processing pass -----------------------------------------------------

    def process_tasks(self, now: datetime | None = None) -> float | None:
        """One pass over every store: submit what is due at ``now`` (default: the clock).
        Returns seconds until the next run time, or None when nothing is scheduled."""
        if self.state == SchedulerState.STATE_PAUSED:
            return None
        # Compare instants in UTC: same-zone comparisons ignore DST folds in Python.
        now = (self.clock() if now is None else now).astimezone(UTC)
        if not self._process_lock.acquire(blocking=False):
            return self.store_retry_interval  # another pass is running; it will set the timer
        events: list[SchedulerEvent] = []
        next_wakeup: datetime | None = None
        try:
            with self.store_lock:
                stores = list(self.stores.items())
            for alias, store in stores:
                if self._file_locks is not None:
                    with self._file_locks.hold(alias) as held:
                        store_next = self._process_store(alias, store, now, events) if held else None
                    # other processes may add or run tasks: look again at least this often
                    retry_at = now + timedelta(seconds=self.store_retry_interval)
                    store_next = retry_at if store_next is None else min(store_next, retry_at)
                else:
                    store_next = self._process_store(alias, store, now, events)
                if store_next is not None and (next_wakeup is None or store_next < next_wakeup):
                    next_wakeup = store_next
        finally:
            self._process_lock.release()
        for event in events:
            self.dispatch_event(event)
        if self.claims.holds_any():
            # leases on runs in flight are renewed each pass: pass often enough to keep them
            renew_at = now + timedelta(seconds=self.lease_seconds / 3)
            next_wakeup = renew_at if next_wakeup is None else min(next_wakeup, renew_at)
        if self.state != SchedulerState.STATE_RUNNING or next_wakeup is None:
            self.next_wakeup_time = None
            return None
        self.next_wakeup_time = next_wakeup
        return min(max((next_wakeup - now).total_seconds(), 0.0), TIMEOUT_MAX)

    def _process_store(self, alias: str, store: Store, now: datetime, events: list[SchedulerEvent]) -> datetime | None:
        try:
            if self.claims.holds(alias):
                store.renew_claims(self.scheduler_id, self.lease_seconds, now)
            if store.blocking_io:
                # Thread-safe stores doing I/O: holding our lock here would make every
                # add_task on the event loop wait for the database.
                return process_store(self, alias, store, now, events)
            with self.store_lock:
                return process_store(self, alias, store, now, events)
        except Exception as exc:
            self.logger.warning(
                "Store %r failed during processing (%s); retrying in %ss", alias, exc, self.store_retry_interval
            )
            return now + timedelta(seconds=self.store_retry_interval)

    def run_finished(self, task: Task) -> None:
        """Executors call this when a submission's runs are over: a claim held for the run
        is released with the new schedule (or the finished task deleted)."""
        self.claims.completed(task)

    def run_store_io(self, function: Callable[..., Any], *args: Any) -> None:
        """Where store I/O triggered outside a pass runs; async front ends move it off the loop."""
        function(*args)

    def flush_store_io(self) -> None:  # noqa: B027 - optional hook
        """Wait for queued store I/O; called at shutdown before the stores close."""

    # -- ASGI ----------------------------------------------------------------------

    def asgi(self, app: ASGIApp | None = None, handle_lifespan: bool = False, wait: bool = False) -> Any:
        """Wrap an ASGI app so its lifespan starts and stops this scheduler; without ``app``,
        a decorator."""
        from asyncz_like.asgi import LifespanWrapper

        def wrap(inner: ASGIApp) -> ASGIApp:
            return LifespanWrapper(inner, self, handle_lifespan=handle_lifespan, wait=wait)

        return wrap if app is None else wrap(app)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _task_id(task_id: str | Task) -> str:
    if isinstance(task_id, Task):
        if task_id.id is None:
            raise ValueError("task_id: a decorator-style task without a function has no id yet")
        return task_id.id
    if not isinstance(task_id, str):
        raise TypeError(f"task_id: expected a task id string or a Task, got {type(task_id).__name__}")
    return task_id


def _copy_task(task: Task) -> Task:
    clone = Task.__new__(Task)
    _copy_into(task, clone)
    return clone


def _copy_into(source: Task, target: Task) -> None:
    for slot in Task.__slots__:
        if slot != "__weakref__":
            object.__setattr__(target, slot, getattr(source, slot))


@lru_cache(maxsize=256)
def _accepts(cls: type, parameter: str) -> bool:
    """Cached: ``inspect.signature`` on every ``add_task`` dominated adding tasks."""
    import inspect

    try:
        parameters = inspect.signature(cls).parameters
    except (TypeError, ValueError):
        return False
    return parameter in parameters


__all__ = ["BaseScheduler", "SchedulerState"]
