"""BaseScheduler: the state machine, plugin composition and the processing loop; the
task API (add, change, run, read tasks) is the ``TaskAPI`` it inherits.

Front ends (asyncio, threads) subclass it and only say how to wake up later
(``wakeup``/``wakeup_at``, and a driver that keeps time); the processing pass is in ``processing.py``.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import datetime, timedelta, tzinfo
from inspect import isawaitable
from threading import Lock, RLock
from typing import TYPE_CHECKING, Any
from uuid import uuid4

from asyncz_like import plugins
from asyncz_like._time import UTC, local_timezone, to_timezone
from asyncz_like.abc import Executor, Store
from asyncz_like.events import (
    ALL_EVENTS,
    EXECUTOR_ADDED,
    EXECUTOR_REMOVED,
    SCHEDULER_PAUSED,
    SCHEDULER_RESUMED,
    SCHEDULER_SHUTDOWN,
    SCHEDULER_START,
    STORE_ADDED,
    STORE_REMOVED,
    TASK_REMOVED,
    SchedulerEvent,
    TaskEvent,
)
from asyncz_like.exceptions import (
    ArgumentError,
    ConflictIdError,
    ExecutorLookupError,
    SchedulerAlreadyRunningError,
    SchedulerNotRunningError,
    StoreLookupError,
)
from asyncz_like.history.api import HistoryAPI
from asyncz_like.history.log import RunLog
from asyncz_like.history.retries import RETRY_DEFAULTS
from asyncz_like.schedulers import config as cfg
from asyncz_like.schedulers._typed import TypedTaskAPI
from asyncz_like.schedulers._workers import warn_if_memory_store_in_workers
from asyncz_like.schedulers.claims import HeldClaims
from asyncz_like.schedulers.locking import StoreFileLocks
from asyncz_like.schedulers.outbox import EventOutbox
from asyncz_like.schedulers.processing import process_store
from asyncz_like.schedulers.state import SchedulerState
from asyncz_like.tasks.task import Task
from asyncz_like.triggers.date import DateTrigger
from asyncz_like.triggers.shutdown import ShutdownTrigger

if TYPE_CHECKING:
    from asyncz_like.asgi import ASGIApp
    from asyncz_like.executors.runner import Scope

TIMEOUT_MAX = 4_294_967.0  # the longest delay asyncio/threading timers accept everywhere
_TASK_DEFAULT_KEYS = (
    "mistrigger_grace_time",
    "coalesce",
    "max_instances",
    "on_interrupted",
    "priority",
    *RETRY_DEFAULTS,
)


class BaseScheduler(TypedTaskAPI, HistoryAPI, ABC):
    """Composes trigger, executor and store plugins and owns the life cycle: ``start``,
    ``pause``/``resume``, ``shutdown``. The task methods (``add_task``, ``get_task``, ...)
    are :class:`~asyncz_like.schedulers.task_api.TaskAPI`'s; a front end
    (``AsyncIOScheduler``, ``NativeAsyncIOScheduler``, ``ManualScheduler``) decides when
    the processing pass runs. Options are ``setup``'s."""

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
            "priority": 0,
            **RETRY_DEFAULTS,
        }
        self.claims = HeldClaims(self)
        self.run_log = RunLog(self)
        #: makes the scope each run of a submission runs inside (``instrument_tracing``); None: no scope
        self.run_scopes: Callable[[Task, str | None], Scope | None] | None = None
        self.logger = logging.getLogger("asyncz_like.schedulers")
        self.store_retry_interval = 10.0
        self.scheduler_id = f"{socket.gethostname()}-{os.getpid()}-{uuid4().hex[:8]}"
        self.lease_seconds = 30.0
        self.poll_interval = 1.0
        self.clock: Callable[[], datetime] = _utc_now
        self.events = EventOutbox(self._call_listeners, self.event_drain_scheduler(), self.delivers_events_here)
        self._watched: set[str] = set()
        #: (task id, executor alias) already logged as naming an executor that was removed
        self.missing_executors_logged: set[tuple[str | None, str | None]] = set()
        self.setup(global_config, **options)

    # -- configuration -----------------------------------------------------------

    def setup(
        self, global_config: dict[str, Any] | None = None, prefix: str | None = "asyncz_like.", **options: Any
    ) -> None:
        """Reconfigure from a flat dotted ``global_config`` (keys under ``prefix``) and keyword
        options, which win. Only while stopped. With the default prefix, asyncz's own
        ``asyncz.`` keys are read too (``asyncz_like.`` keys win), so an asyncz settings dict
        works unchanged."""
        if self.state != SchedulerState.STATE_STOPPED:
            raise SchedulerAlreadyRunningError()
        if prefix == "asyncz_like.":
            config = cfg.merge(cfg.nest(global_config, "asyncz."), cfg.nest(global_config, prefix))
        else:
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
        if "poll_interval" in config:
            self.poll_interval = cfg.as_number(config.pop("poll_interval"), "poll_interval")
            if not 0.01 <= self.poll_interval <= 3600:
                raise ValueError(f"poll_interval: must be between 0.01 and 3600 seconds, got {self.poll_interval!r}")
        if "lease_seconds" in config:
            self.lease_seconds = cfg.as_number(config.pop("lease_seconds"), "lease_seconds")
            if self.lease_seconds <= 0:
                raise ValueError(f"lease_seconds: must be a positive number of seconds, got {self.lease_seconds!r}")
        if "clock" in config:
            clock = config.pop("clock")
            if not callable(clock):
                raise TypeError(f"clock: expected a callable returning an aware datetime, got {type(clock).__name__}")
            self.clock = clock
        if "scheduler_id" in config:
            self.scheduler_id = str(config.pop("scheduler_id"))
        if "history" in config:
            self.run_log.configure(config.pop("history"))
        defaults = config.pop("task_defaults", None) or {}
        if not isinstance(defaults, dict):
            raise TypeError(f"task_defaults: expected a dict, got {type(defaults).__name__}")
        unknown = set(defaults) - {*_TASK_DEFAULT_KEYS, "executor", "store"}
        if unknown:
            raise ValueError(f"task_defaults: unknown key(s) {sorted(unknown)}")
        merged = dict(self.task_defaults)
        for key, value in defaults.items():
            if key == "coalesce":
                value = cfg.as_bool(value, "task_defaults.coalesce")
            elif key in ("max_instances", "priority") and isinstance(value, str):
                value = cfg.as_number(value, f"task_defaults.{key}", integer=True)
            elif key == "max_instances":
                value = cfg.as_number(value, "task_defaults.max_instances", integer=True)
            elif key == "mistrigger_grace_time" and value is not None:
                value = cfg.as_number(value, "task_defaults.mistrigger_grace_time")
            elif key in ("max_retries", "retry_delay", "retry_backoff") and isinstance(value, str):
                value = cfg.as_number(value, f"task_defaults.{key}", integer=key == "max_retries")
            merged[key] = value
        # the same rules as a task's own options, and nothing changes unless all pass
        try:
            Task(lambda: None, **{key: value for key, value in merged.items() if key in _TASK_DEFAULT_KEYS})
        except ArgumentError as exc:  # named as the user wrote it
            raise type(exc)(f"task_defaults.{exc.argument}", exc.problem) from None
        self.task_defaults = merged
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
        """True unless stopped (a paused scheduler is running)."""
        return self.state != SchedulerState.STATE_STOPPED

    def start(self, paused: bool = False) -> bool:
        """Start (or only count another user of an already started scheduler: returns False).

        All or nothing: the pending tasks are checked before anything starts, and a plugin
        that fails to start stops the ones started before it, so a failed ``start()`` leaves
        the scheduler stopped, its pending tasks kept, and ready to start again. A pending task
        whose id is taken (twice in the pending list, or already stored) is logged and
        skipped, as asyncz does."""
        if not self.inc_refcount():
            return False
        try:
            self._start_plugins()
        except BaseException:
            with self.ref_lock:
                self.ref_counter = 0
            raise
        with self.store_lock:
            pending, self.pending_tasks = self.pending_tasks, []
            for task, replace_existing, start_task in pending:
                if start_task and isinstance(task.trigger, DateTrigger) and getattr(task.trigger, "run_now", False):
                    task.trigger.run_at = self.now()  # "run now" means when the scheduler can
                try:
                    self.real_add_task(task, replace_existing, start_task)
                except ConflictIdError:
                    self.logger.error(
                        "Task %r was not added at start: id %r is already taken in store %r",
                        task.name,
                        task.id,
                        task.store_alias or "default",
                    )
        self.state = SchedulerState.STATE_PAUSED if paused else SchedulerState.STATE_RUNNING
        self.start_driver()
        self.logger.info("Scheduler started")
        warn_if_memory_store_in_workers(self.logger, self.stores)  # uvicorn --workers 4 on a memory store
        self.dispatch_event(SchedulerEvent(code=SCHEDULER_START))
        if not paused:
            self.wakeup()
        return True

    def _start_plugins(self) -> None:
        self.check_uwsgi()
        with self.executor_lock:
            if "default" not in self.executors:
                self.add_executor(self.create_default_executor(), "default")
        with self.store_lock:
            if "default" not in self.stores:
                self.add_store(self.create_default_store(), "default")
            for task, _, _ in self.pending_tasks:
                self.check_task_aliases(task)
        started: list[Callable[[], Any]] = []
        try:
            with self.executor_lock:
                for executor in self.executors.values():
                    executor.start(self, alias_of(self.executors, executor))
                    started.append(executor.shutdown)
            with self.store_lock:
                for alias, store in self.stores.items():
                    store.start(self, alias)
                    started.append(store.shutdown)
                    self.watch_store(alias, store)
                    started.append(lambda alias=alias, store=store: self.unwatch_store(alias, store))  # type: ignore[misc]
        except BaseException:
            for stop in reversed(started):
                try:
                    stop()
                except Exception:
                    self.logger.exception("Stopping a plugin after a failed start failed")
            raise

    def shutdown(self, wait: bool = True) -> bool:
        """Stop when the last user calls it; runs ``shutdown``-trigger tasks first.

        In order: no pass starts any more (the one in progress finishes), the executors stop
        (with ``wait``, after their runs), finished runs release their claims, the stores
        close, and ``SCHEDULER_SHUTDOWN`` is the last event listeners see. Runs still in flight
        after ``wait=False`` keep their claims, which expire after ``lease_seconds``: each is
        logged, and its task's ``on_interrupted`` policy applies when another scheduler takes
        it over."""
        if not self.begin_shutdown():
            return False
        self.finish_shutdown(wait)
        return True

    def begin_shutdown(self) -> bool:
        """Count one user off; for the last one, run the shutdown tasks and stop processing.
        False when other users remain."""
        if self.state == SchedulerState.STATE_STOPPED:
            raise SchedulerNotRunningError()
        if not self.decr_refcount():
            return False
        self.run_shutdown_tasks()
        with self._process_lock:  # a pass in progress finishes first; none starts after this
            self.state = SchedulerState.STATE_STOPPED
        self.stop_driver()
        return True

    def finish_shutdown(self, wait: bool) -> None:
        """Stop the executors, release what finished, close the stores, say so last."""
        with self.executor_lock:
            for executor in self.executors.values():
                executor.shutdown(wait)
        self.claims.flush()
        self.claims.abandon_in_flight()
        self.stop_leases()  # kept alive until here: runs finishing during shutdown still held leases
        self.run_log.shutdown()  # queued retries and run records, before the stores close
        with self.store_lock:
            for alias, store in self.stores.items():
                self.unwatch_store(alias, store)
                store.shutdown()
        self.logger.info("Scheduler has been shut down")
        self.dispatch_event(SchedulerEvent(code=SCHEDULER_SHUTDOWN))
        self.flush_events()

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
        """Stop processing tasks until ``resume``; tasks can still be added and changed."""
        if self.state == SchedulerState.STATE_STOPPED:
            raise SchedulerNotRunningError()
        if self.state == SchedulerState.STATE_RUNNING:
            self.state = SchedulerState.STATE_PAUSED
            self.logger.info("Paused scheduler task processing")
            self.dispatch_event(SchedulerEvent(code=SCHEDULER_PAUSED))

    def resume(self) -> None:
        """Process tasks again after ``pause``; due runs are handled at once."""
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
    def create_default_executor(self) -> Executor: ...

    def wakeup_at(self, when: datetime) -> None:
        """A pass no later than ``when`` (from any thread). The default asks for a pass now when
        ``when`` is earlier than the planned one; front ends with a timer plan it exactly."""
        planned = self.next_wakeup_time
        if self.state == SchedulerState.STATE_RUNNING and (planned is None or when < planned):
            self.wakeup()

    def start_driver(self) -> None:
        """Front ends that keep time in a thread of their own start it here."""

    def stop_driver(self) -> None:
        """Stop the timer thread after the pass in progress; queued store jobs still run."""

    def stop_leases(self) -> None:
        """Stop renewing leases (front ends with a lease-keeping thread stop it here)."""

    def event_drain_scheduler(self) -> Callable[[Callable[[], None]], Any] | None:
        """Where listeners are called: None calls them in the thread that produced the event
        (after the events before it); asyncio front ends hop to the loop."""
        return None

    def delivers_events_here(self) -> bool:
        """Whether listeners may be called in the calling thread (asyncio: on the loop thread)."""
        return True

    def flush_events(self) -> None:
        """Deliver queued events now, in this thread (at shutdown, before the loop goes away)."""
        self.events.drain()

    def create_default_store(self) -> Store:
        return plugins.create(plugins.STORES, "memory")  # type: ignore[no-any-return]

    def run_coroutine_listener(self, result: Any, event: SchedulerEvent) -> None:
        """Where an async listener's coroutine goes; synchronous front ends cannot run it."""
        if hasattr(result, "close"):
            result.close()
        self.logger.error("Async listener for %s needs an asyncio scheduler; it was not run", event)

    # -- executors and stores ----------------------------------------------------

    def add_executor(self, executor: Executor | str, alias: str = "default", **executor_options: Any) -> None:
        """Add an executor (an instance, an alias such as ``"threadpool"`` or a
        ``module:Class``) under ``alias``; started at once if the scheduler runs."""
        with self.executor_lock:
            if alias in self.executors:
                raise ValueError(f"alias: an executor named {alias!r} already exists")
            instance: Executor = plugins.create(plugins.EXECUTORS, executor, executor_options)
            self.executors[alias] = instance
            if self.running:
                instance.start(self, alias)
        self.dispatch_event(SchedulerEvent(code=EXECUTOR_ADDED, alias=alias))

    def remove_executor(self, alias: str, shutdown: bool = True) -> None:
        """Remove the executor ``alias``, shutting it down unless ``shutdown=False``."""
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
        """Remove the store ``alias``, shutting it down unless ``shutdown=False``; its tasks stay in it."""
        with self.store_lock:
            store = self.lookup_store(alias)
            del self.stores[alias]
        if shutdown:
            store.shutdown()
        self.dispatch_event(SchedulerEvent(code=STORE_REMOVED, alias=alias))

    def lookup_executor(self, alias: str) -> Executor:
        """The executor named ``alias``; ExecutorLookupError naming the ones that exist."""
        try:
            return self.executors[alias]
        except KeyError:
            raise ExecutorLookupError(alias, sorted(self.executors)) from None

    def lookup_store(self, alias: str) -> Store:
        """The store named ``alias``; StoreLookupError naming the ones that exist."""
        try:
            return self.stores[alias]
        except KeyError:
            raise StoreLookupError(alias, sorted(self.stores)) from None

    # -- listeners ---------------------------------------------------------------

    def add_listener(self, callback: Callable[[SchedulerEvent], Any], mask: int = ALL_EVENTS) -> None:
        """Call ``callback(event)`` for every event whose code is in ``mask`` (a bitmask of
        event codes; all by default). A coroutine function is run on the scheduler's loop."""
        if not callable(callback):
            raise TypeError(f"callback: expected a callable, got {type(callback).__name__}")
        if isinstance(mask, bool) or not isinstance(mask, int) or mask <= 0:
            raise ValueError(f"mask: expected a positive bitmask of event codes, got {mask!r}")
        with self.listeners_lock:
            self.listeners = [*self.listeners, (callback, mask)]  # replaced, never changed in place
            self._listen_mask |= mask

    def remove_listener(self, callback: Callable[[SchedulerEvent], Any]) -> bool:
        """Stop calling ``callback``; True when it was registered."""
        with self.listeners_lock:
            kept = [(cb, mask) for cb, mask in self.listeners if cb != callback]
            removed = len(kept) != len(self.listeners)
            self.listeners = kept
            self._listen_mask = 0
            for _, mask in self.listeners:
                self._listen_mask |= mask
        return removed

    def listens_to(self, codes: int) -> bool:
        """True when some listener wants one of ``codes``; lets hot paths skip building events."""
        return bool(self._listen_mask & codes)

    def dispatch_event(self, event: SchedulerEvent) -> None:
        """Queue ``event`` for the interested listeners; they see events in the order they were
        dispatched, on the thread the front end chooses (the event loop for asyncio)."""
        if self._listen_mask & event.code:
            self.events.put(event)

    def _call_listeners(self, event: SchedulerEvent) -> None:
        """Call each interested listener; one that raises is logged and harms nothing. The list is
        replaced on every change, never changed in place: no lock or copy per event."""
        for callback, mask in self.listeners:
            if event.code & mask:
                try:
                    result = callback(event)
                    if result is not None and isawaitable(result):  # most listeners return None: skip the ABC checks
                        self.run_coroutine_listener(result, event)
                except Exception:
                    self.logger.exception("Error notifying listener %r of %s", callback, event)

    # -- the processing pass -----------------------------------------------------

    def process_tasks(self, now: datetime | None = None) -> float | None:
        """One pass over every store: submit what is due at ``now`` (default: the clock).
        Returns seconds until the next run time, or None when nothing is scheduled."""
        # Compare instants in UTC: same-zone comparisons ignore DST folds in Python.
        now = (self.clock() if now is None else now).astimezone(UTC)
        if not self._process_lock.acquire(blocking=False):
            return self.store_retry_interval  # another pass is running; it will set the timer
        next_wakeup: datetime | None = None
        try:
            if self.state != SchedulerState.STATE_RUNNING:  # checked under the lock: see shutdown
                return None
            self.run_log.last_pass_at = now
            if self.claims.retry_due(now):
                self.claims.flush()
            next_wakeup = self.claims.retry_at()
            with self.store_lock:
                stores = list(self.stores.items())
            for alias, store in stores:
                if self._file_locks is not None:
                    with self._file_locks.hold(alias) as held:
                        store_next = self._process_store(alias, store, now) if held else None
                    # other processes may add or run tasks: look again at least this often
                    retry_at = now + timedelta(seconds=self.store_retry_interval)
                    store_next = retry_at if store_next is None else min(store_next, retry_at)
                else:
                    store_next = self._process_store(alias, store, now)
                if store_next is not None and (next_wakeup is None or store_next < next_wakeup):
                    next_wakeup = store_next
        finally:
            self._process_lock.release()
        self.next_wakeup_time = next_wakeup
        if next_wakeup is None:
            return None
        return min(max((next_wakeup - now).total_seconds(), 0.0), TIMEOUT_MAX)

    def _process_store(self, alias: str, store: Store, now: datetime) -> datetime | None:
        try:
            if store.blocking_io:
                # Thread-safe stores doing I/O: holding our lock here would make every
                # add_task on the event loop wait for the database.
                return process_store(self, alias, store, now)
            with self.store_lock:
                return process_store(self, alias, store, now)
        except Exception as exc:
            self.logger.warning(
                "Store %r failed during processing (%s); retrying in %ss", alias, exc, self.store_retry_interval
            )
            return now + timedelta(seconds=self.store_retry_interval)

    def renew_leases(self) -> None:
        """Extend the leases on runs in flight (every ``lease_seconds / 3`` while there are any)."""
        now = self.clock()
        for alias in self.claims.aliases_held():
            store = self.stores.get(alias)
            if store is None:
                continue
            try:
                store.renew_claims(self.scheduler_id, self.lease_seconds, now)
            except Exception as exc:
                self.logger.warning("Store %r: renewing leases failed (%s); retrying", alias, exc)

    # -- changes made elsewhere ----------------------------------------------------

    def watch_store(self, alias: str, store: Store) -> None:
        """Ask the store to tell us of changes other processes make; otherwise it is polled."""
        try:
            watching = store.watch(self._store_changed)
        except Exception as exc:
            self.logger.warning(
                "Store %r cannot announce changes (%s); polling it every %ss", alias, exc, self.poll_interval
            )
            watching = False
        if watching:
            self._watched.add(alias)

    def unwatch_store(self, alias: str, store: Store) -> None:
        if alias in self._watched:
            self._watched.discard(alias)
            try:
                store.unwatch()
            except Exception:
                self.logger.exception("Store %r: stopping its change feed failed", alias)

    def _store_changed(self, next_run_time: datetime | None) -> None:
        """From a store's change feed: a task may now be due at ``next_run_time`` (None: look)."""
        if next_run_time is None:
            self.wakeup()
        else:
            self.wakeup_at(next_run_time)

    def poll_interval_now(self) -> float | None:
        """Seconds between polls, or None when every store announces its changes (or none
        is shared)."""
        if self.state != SchedulerState.STATE_RUNNING:
            return None
        for alias, store in list(self.stores.items()):
            if store.blocking_io and alias not in self._watched:
                return self.poll_interval
        return None

    def poll_stores(self) -> None:
        """Look at each store that cannot announce changes: a task another process added or
        moved earlier is then run on time (within ``poll_interval``)."""
        for alias, store in list(self.stores.items()):
            if not store.blocking_io or alias in self._watched:
                continue
            try:
                next_run_time = store.get_next_run_time()
            except Exception as exc:
                self.logger.debug("Store %r: poll failed (%s)", alias, exc)
                continue
            if next_run_time is not None:
                self.wakeup_at(next_run_time)

    def announce(self, alias: str, next_run_time: datetime | None) -> None:
        """Tell the other schedulers on store ``alias`` that a task is due at ``next_run_time``
        (no-op for stores without a change feed)."""
        if next_run_time is None:
            return
        store = self.stores.get(alias)
        if store is None or alias not in self._watched:
            return
        self.run_store_io(self._announce, alias, store, next_run_time)

    def _announce(self, alias: str, store: Store, next_run_time: datetime) -> None:
        try:
            store.announce(next_run_time)
        except Exception as exc:
            self.logger.warning("Store %r: announcing a change failed (%s)", alias, exc)

    def run_finished(self, task: Task) -> None:
        """Executors call this when a submission's runs are over: a claim held for the run
        is released with the new schedule (or the finished task deleted)."""
        self.claims.completed(task)

    def run_store_io(self, function: Callable[..., Any], *args: Any) -> None:
        """Where store I/O triggered outside a pass runs; async front ends move it off the loop."""
        function(*args)

    # -- ASGI ----------------------------------------------------------------------

    def asgi(self, app: ASGIApp | None = None, handle_lifespan: bool = False, wait: bool = False) -> Any:
        """Wrap an ASGI app so its lifespan starts and stops this scheduler; without ``app``,
        a decorator."""
        from asyncz_like.asgi import LifespanWrapper

        def wrap(inner: ASGIApp) -> ASGIApp:
            return LifespanWrapper(inner, self, handle_lifespan=handle_lifespan, wait=wait)

        return wrap if app is None else wrap(app)


def alias_of(plugins_by_alias: dict[str, Any], plugin: Any) -> str:
    return next(alias for alias, candidate in plugins_by_alias.items() if candidate is plugin)


def _utc_now() -> datetime:
    return datetime.now(UTC)


__all__ = ["BaseScheduler", "SchedulerState"]
