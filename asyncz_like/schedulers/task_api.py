"""The task API of a scheduler: add, change, run, delete and inspect tasks.

A mixin of :class:`~asyncz_like.schedulers.base.BaseScheduler`, kept apart so each module
has one job: this one turns user calls into validated tasks and store operations.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import datetime, tzinfo
from functools import lru_cache
from logging import Logger
from threading import RLock
from typing import TYPE_CHECKING, Any

from asyncz_like import plugins
from asyncz_like._limits import check_bool, check_run_time, is_task_id
from asyncz_like._undefined import undefined
from asyncz_like.abc import Executor, Store, Trigger
from asyncz_like.events import (
    ALL_TASKS_REMOVED,
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
    ArgumentError,
    ArgumentTypeError,
    ConflictIdError,
    ExecutorLookupError,
    MaximumInstancesError,
    SchedulerNotRunningError,
    StoreLookupError,
    TaskLookupError,
)
from asyncz_like.history.retries import retry_options, set_regular_next
from asyncz_like.schedulers.queries import select
from asyncz_like.schedulers.state import SchedulerState
from asyncz_like.tasks.info import TaskInfo, TaskScheduleState
from asyncz_like.tasks.task import Task
from asyncz_like.triggers.shutdown import ShutdownTrigger


class TaskAPI:
    """What users call to manage tasks; needs the scheduler's stores, locks and events."""

    if TYPE_CHECKING:
        stores: dict[str, Store]
        executors: dict[str, Executor]
        store_lock: RLock
        pending_tasks: list[tuple[Task, bool, bool]]
        state: SchedulerState
        timezone: tzinfo
        task_defaults: dict[str, Any]
        logger: Logger
        next_wakeup_time: datetime | None
        _listen_mask: int

        @property
        def running(self) -> bool: ...
        def now(self) -> datetime: ...
        def wakeup(self) -> None: ...
        def wakeup_at(self, when: datetime) -> None: ...
        def announce(self, alias: str, next_run_time: datetime | None) -> None: ...
        def lookup_store(self, alias: str) -> Store: ...
        def lookup_executor(self, alias: str) -> Executor: ...
        def listens_to(self, codes: int) -> bool: ...
        def dispatch_event(self, event: SchedulerEvent) -> None: ...

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
        try:
            return cls(**args)  # type: ignore[no-any-return]
        except TypeError as exc:
            if _binds(cls, args):
                raise
            raise ArgumentTypeError("trigger", f"the {trigger!r} trigger does not take these arguments: {exc}") from exc

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
        max_retries: Any = undefined,
        retry_delay: Any = undefined,
        retry_backoff: Any = undefined,
        retry_on: Any = undefined,
        priority: Any = undefined,
        **trigger_args: Any,
    ) -> Task:
        """Schedule ``fn`` (a callable or ``module:name``). With no function, returns a Task to
        use as a decorator. ``next_run_time=None`` adds the task paused. A failed run is run
        again up to ``max_retries`` times, ``retry_delay * retry_backoff ** n`` seconds after
        failure n+1, when it raised one of ``retry_on`` (default: any Exception). When more
        runs are due than the executor can start, a higher ``priority`` (an int, default
        ``task_defaults["priority"]``, 0 unless set) goes first."""
        if fn_or_task is not None and fn is not None:
            raise TypeError("fn: given twice (positionally and as fn=)")
        check_bool(replace_existing, "replace_existing")
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
                ("priority", priority),
            ):
                options[key] = self.task_defaults[key] if value is undefined else value
            retry_options(options, self.task_defaults, max_retries, retry_delay, retry_backoff, retry_on)
            start_task = next_run_time is undefined
            if not start_task:
                options["next_run_time"] = next_run_time
            task = Task(target, id=id, scheduler=self, **options)
            if target is None:
                return task  # decorator mode: Task.__call__ adds it once it has a function
        task.submitted = True  # asyncz's meaning: handed to a scheduler (TaskInfo.submitted)
        if task.trigger is not None:  # unset zone and start come from this scheduler, not the host
            task.trigger.use_scheduler_defaults(self.timezone, self.now(), None if start_task else task.next_run_time)
        first_run_time = self.first_run_time(task.trigger) if start_task else None  # refuses one that never fires
        executor_plugin = self.executors.get(task.executor or "default")
        if executor_plugin is not None:
            executor_plugin.check_task(task)  # e.g. a remote executor needs a 'module:name' reference
        with self.store_lock:
            if self.state == SchedulerState.STATE_STOPPED:
                self.pending_tasks.append((task, replace_existing, start_task))
                self.logger.info("Adding task tentatively; it is scheduled when the scheduler starts")
            else:
                if start_task:
                    task.next_run_time = first_run_time
                self.real_add_task(task, replace_existing, False)
        return task

    def first_run_time(self, trigger: Trigger | None) -> datetime | None:
        """The trigger's first fire time from now. A trigger that can never fire (an end_at in
        the past, the 30th of February) is refused, not stored as a paused task."""
        assert trigger is not None
        now = self.now()
        first = trigger.get_next_trigger_time(self.timezone, None, now)
        if first is None and not isinstance(trigger, ShutdownTrigger):
            raise ArgumentError("trigger", f"{trigger} can never fire (it has no fire time after {now.isoformat()})")
        return None if first is None else check_run_time(first, "trigger")

    def check_task_aliases(self, task: Task) -> None:
        """The executor and store a task names exist here (checked when it is added to a
        running scheduler, or when the scheduler starts for a task added before)."""
        if (task.executor or "default") not in self.executors:
            raise ExecutorLookupError(task.executor, sorted(self.executors), task.id)
        if (task.store_alias or "default") not in self.stores:
            raise StoreLookupError(task.store_alias, sorted(self.stores), task.id)

    def real_add_task(self, task: Task, replace_existing: bool, start_task: bool) -> None:
        self.check_task_aliases(task)
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
        self.wakeup_if_earlier(task.next_run_time, alias)

    def wakeup_if_earlier(self, run_time: datetime | None, alias: str | None = None) -> None:
        """A task here is now due at ``run_time``: plan a pass for it (only one earlier than the
        planned one changes anything) and tell the other schedulers sharing ``alias``."""
        if run_time is None:
            return
        if self.state == SchedulerState.STATE_RUNNING:
            self.wakeup_at(run_time)
        if alias is not None and self.state != SchedulerState.STATE_STOPPED:
            self.announce(alias, run_time)

    def scheduled_job(
        self, trigger: Trigger | str | None = None, **options: Any
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """APScheduler-style decorator: ``@scheduler.scheduled_job("interval", seconds=5)``."""
        return self.add_task(None, trigger, **options)

    # -- changing tasks ----------------------------------------------------------

    def lookup_task(self, task_id: str, store_alias: str | None) -> tuple[Task, str]:
        if not isinstance(task_id, str):
            raise TypeError(f"task_id: expected a string, got {type(task_id).__name__}")
        if not is_task_id(task_id):  # no task can have it: do not send it to a store that would choke on it
            raise TaskLookupError(task_id)
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
            if "trigger" in updates:
                updates["trigger"].use_scheduler_defaults(self.timezone, self.now())
            changed._apply_updates(**updates)  # validated on a copy: all or nothing
            if "executor" in updates and self.running:
                self.check_task_aliases(changed)
            _copy_into(changed, task)
            if not task.pending:
                self.lookup_store(alias).update_task(task)
        self.dispatch_event(TaskEvent(code=TASK_MODIFIED, task_id=task_id, store=alias))
        self.wakeup_if_earlier(task.next_run_time, alias)
        return task

    def reschedule_task(
        self, task_id: str | Task, store: str | None = None, trigger: Trigger | str | None = None, **trigger_args: Any
    ) -> Task:
        """Give the task a new trigger (an instance, or an alias with ``trigger_args``); its
        next run time is the new trigger's first. One that can never fire is refused."""
        new_trigger = self.create_trigger(trigger, trigger_args)
        new_trigger.use_scheduler_defaults(self.timezone, self.now())
        next_run_time = self.first_run_time(new_trigger)
        return self.update_task(task_id, store, trigger=new_trigger, next_run_time=next_run_time)

    def pause_task(self, task_id: str | Task, store: str | None = None) -> Task:
        """Keep the task but stop running it (``next_run_time`` None) until ``resume_task``."""
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
        """Remove the task (pending, stored or set aside); TaskLookupError if there is none."""
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
        """Remove every task of ``store``, or of all stores."""
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
                assert task.trigger is not None
                if task.trigger.get_next_trigger_time(self.timezone, now, now) is not None:
                    return task  # a forced extra run leaves a schedule that goes on as it was
                next_run_time = None  # a one-shot task forced now has had its run
            if next_run_time is None and remove_finished and task.retry is None:
                self.lookup_store(alias).delete_task(task_id)
                self.dispatch_event(TaskEvent(code=TASK_REMOVED, task_id=task_id, store=alias))
                return None
            set_regular_next(task, next_run_time)  # a pending retry stays pending
            self.lookup_store(alias).update_task(task)
        self.dispatch_event(TaskEvent(code=TASK_MODIFIED, task_id=task_id, store=alias))
        self.wakeup_if_earlier(next_run_time, alias)
        return task

    # -- reading tasks -----------------------------------------------------------

    def get_tasks(self, store: str | None = None) -> list[Task]:
        """The tasks of ``store`` (or of all stores) as live Task objects; pending ones included."""
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
        """The task with this id (in ``store``, or any store), or None."""
        try:
            return self.lookup_task(task_id, store)[0]
        except TaskLookupError:
            return None

    def get_task_info(self, task_id: str, store: str | None = None) -> TaskInfo | None:
        """An immutable ``TaskInfo`` snapshot of the task, or None."""
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


def _binds(cls: type, arguments: dict[str, Any]) -> bool:
    """Whether ``cls(**arguments)`` fits its signature (asked only after it raised TypeError)."""
    try:
        inspect.signature(cls).bind(**arguments)
    except TypeError:
        return False
    except ValueError:  # no signature to check
        return True
    return True


@lru_cache(maxsize=256)
def _accepts(cls: type, parameter: str) -> bool:
    """Cached: ``inspect.signature`` on every ``add_task`` dominated adding tasks."""
    try:
        parameters = inspect.signature(cls).parameters
    except (TypeError, ValueError):
        return False
    return parameter in parameters
