"""The Task: what to run, with which arguments, on which trigger, and its schedule state.

A plain slotted class rather than a pydantic model: a scheduler holds hundreds of
thousands of these and touches them on every wakeup, so validation happens once in
``update_task`` (the edge) and the object itself stays small and fast.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, tzinfo
from types import FunctionType
from typing import TYPE_CHECKING, Any
from uuid import uuid4
from weakref import WeakKeyDictionary

from asyncz_like._callables import callable_name, check_arguments, reference_of, resolve_reference
from asyncz_like._limits import check_bool, check_priority, check_run_time, check_task_id, shorten, to_seconds
from asyncz_like._time import to_datetime
from asyncz_like.abc import Trigger
from asyncz_like.exceptions import ArgumentError, ArgumentTypeError, TaskRestoreError, UnknownTaskOptionError
from asyncz_like.history import retries as _retries
from asyncz_like.tasks.info import TaskInfo, TaskScheduleState

if TYPE_CHECKING:
    from asyncz_like.schedulers.task_api import TaskAPI

STATE_VERSION = 1
_EMPTY_KWARGS: Mapping[str, Any] = {}

#: the options a user may change on a task, and nothing else
TASK_OPTIONS = frozenset(
    {
        "id",
        "name",
        "fn",
        "args",
        "kwargs",
        "trigger",
        "executor",
        "mistrigger_grace_time",
        "coalesce",
        "max_instances",
        "next_run_time",
        "store_alias",
        "on_interrupted",
        "max_retries",
        "retry_delay",
        "retry_backoff",
        "retry_on",
        "priority",
    }
)
#: what a scheduler does with a run whose owner died while holding it (see the deployment docs)
INTERRUPTED_POLICIES = ("report", "rerun")


class Task:
    """One scheduled callable. Create tasks through ``scheduler.add_task``."""

    __slots__ = (
        "__weakref__",
        "args",
        "coalesce",
        "executor",
        "fn",
        "fn_reference",
        "id",
        "interrupted_at",
        "kwargs",
        "max_instances",
        "max_retries",
        "mistrigger_grace_time",
        "name",
        "next_run_time",
        "on_interrupted",
        "pending",
        "priority",
        "retry",
        "retry_backoff",
        "retry_delay",
        "retry_on",
        "scheduler",
        "store_alias",
        "submitted",
        "trigger",
    )

    id: str | None
    name: str | None
    fn: Callable[..., Any] | None
    fn_reference: str | None
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    trigger: Trigger | None
    executor: str | None
    store_alias: str | None
    mistrigger_grace_time: float | None
    coalesce: bool
    max_instances: int
    next_run_time: datetime | None
    scheduler: TaskAPI | None
    pending: bool
    submitted: bool
    on_interrupted: str
    interrupted_at: datetime | None
    #: when more runs are due than can start, higher goes first (see docs/priority.md)
    priority: int
    max_retries: int
    retry_delay: float
    retry_backoff: float
    retry_on: tuple[type[BaseException], ...] | None
    #: the next attempt of a failed run, while one is pending (see asyncz_like.history.retries)
    retry: _retries.PendingRetry | None

    def __init__(
        self,
        fn: Callable[..., Any] | str | None = None,
        *,
        id: str | None = None,
        scheduler: TaskAPI | None = None,
        **options: Any,
    ) -> None:
        self.id = None
        self.name = None
        self.fn = None
        self.fn_reference = None
        self.args = ()
        self.kwargs = _EMPTY_KWARGS  # type: ignore[assignment]
        self.trigger = None
        self.executor = None
        self.store_alias = None
        self.mistrigger_grace_time = 1.0
        self.coalesce = True
        self.max_instances = 1
        self.next_run_time = None
        self.scheduler = scheduler
        self.pending = True
        self.submitted = False
        self.on_interrupted = "report"
        self.interrupted_at = None
        self.max_retries = 0
        self.retry_delay = 1.0
        self.retry_backoff = 1.0
        self.retry_on = None
        self.retry = None
        self.priority = 0
        if id is None and fn is not None:
            id = uuid4().hex
        self._apply_updates(fn=fn, id=id, **options)

    # -- validation at the edge --------------------------------------------------

    def update_task(self, **updates: Any) -> None:
        """Change this task's options, all validated before any is applied (asyncz's
        ``job.modify()``). Once the task was added to a scheduler the change goes through
        ``scheduler.update_task``, so its store keeps it; before that, only this object changes."""
        scheduler = self.scheduler
        if scheduler is None or self.id is None or self.fn is None:  # not added yet (a decorator's task)
            self._apply_updates(**updates)
            return
        self._refresh(scheduler.update_task(self.id, self.store_alias, **updates))

    def _apply_updates(self, **updates: Any) -> None:
        """Validate and apply changes to this object only; every error names the offending argument."""
        unknown = set(updates) - TASK_OPTIONS
        if unknown:
            raise UnknownTaskOptionError(
                f"update_task: unknown option(s) {sorted(unknown)}; allowed: {sorted(TASK_OPTIONS)}"
            )
        if "id" in updates:
            task_id = updates["id"]
            if task_id is not None:
                check_task_id(task_id)
            if self.id is not None and task_id != self.id and not self.pending:
                raise ValueError("id: the id of a stored task cannot be changed")
            if task_id is not None:
                self.id = task_id
        fn = updates.get("fn")
        if fn is not None:
            self._set_fn(fn)
        if "args" in updates:
            args = updates["args"]
            if args is None:
                args = ()
            if isinstance(args, (str, bytes, bytearray)) or not isinstance(args, Sequence):
                raise ArgumentTypeError(
                    "args",
                    f"expected a list or tuple of positional arguments, got {type(args).__name__} {shorten(args)}",
                )
            self.args = tuple(args)
        if "kwargs" in updates:
            kwargs = updates["kwargs"]
            if kwargs is None:
                kwargs = {}
            if not isinstance(kwargs, Mapping) or not all(isinstance(k, str) for k in kwargs):
                raise ArgumentTypeError("kwargs", f"expected a dict with string keys, got {shorten(kwargs)}")
            self.kwargs = dict(kwargs) if kwargs else _EMPTY_KWARGS  # type: ignore[assignment]
        if self.fn is not None and ({"fn", "args", "kwargs"} & set(updates)):
            _check_arguments_cached(self.fn, self.args, self.kwargs)
        if "name" in updates:
            name = updates["name"]
            if name is not None and not isinstance(name, str):
                raise TypeError(f"name: expected a string, got {type(name).__name__}")
            self.name = name
        if self.name is None and self.fn is not None:
            self.name = callable_name(self.fn)
        if "trigger" in updates:
            trigger = updates["trigger"]
            if trigger is not None and not isinstance(trigger, Trigger):
                raise TypeError(f"trigger: expected a Trigger instance, got {type(trigger).__name__}")
            self.trigger = trigger
        if "executor" in updates:
            self.executor = _optional_str(updates["executor"], "executor")
        if "store_alias" in updates:
            self.store_alias = _optional_str(updates["store_alias"], "store")
        if "mistrigger_grace_time" in updates:
            grace = updates["mistrigger_grace_time"]
            if grace is not None:  # None: a late run is never missed
                try:
                    grace = to_seconds(grace, "mistrigger_grace_time")
                except ArgumentError as exc:  # asyncz raises TypeError for every bad grace time
                    raise ArgumentTypeError(exc.argument, exc.problem) from None
                if grace <= 0:
                    raise ArgumentTypeError("mistrigger_grace_time", f"must be positive (or None), got {grace!r}")
            self.mistrigger_grace_time = grace
        if "coalesce" in updates:
            self.coalesce = check_bool(updates["coalesce"], "coalesce")
        if "max_instances" in updates:
            max_instances = updates["max_instances"]
            if isinstance(max_instances, bool) or not isinstance(max_instances, int) or max_instances <= 0:
                raise ArgumentTypeError("max_instances", f"must be a positive integer, got {max_instances!r}")
            self.max_instances = max_instances
        if "on_interrupted" in updates:
            policy = updates["on_interrupted"]
            if policy not in INTERRUPTED_POLICIES:
                raise ValueError(f"on_interrupted: expected one of {INTERRUPTED_POLICIES}, got {policy!r}")
            self.on_interrupted = policy
        if "max_retries" in updates:
            self.max_retries = _retries.check_max_retries(updates["max_retries"])
        if "retry_delay" in updates:
            self.retry_delay = _retries.check_retry_delay(updates["retry_delay"])
        if "retry_backoff" in updates:
            self.retry_backoff = _retries.check_retry_backoff(updates["retry_backoff"])
        if "retry_on" in updates:
            self.retry_on = _retries.check_retry_on(updates["retry_on"])
        if "priority" in updates:
            self.priority = check_priority(updates["priority"])
        if "next_run_time" in updates:
            self.next_run_time = self._run_time(updates["next_run_time"])
            self.retry = None  # a new schedule (pause, resume, reschedule) ends a pending retry

    def _run_time(self, value: Any) -> datetime | None:
        """``next_run_time`` as an aware datetime in range; a naive one is read in the scheduler's zone."""
        if value is None:
            return None
        if self.scheduler is not None:
            return to_datetime(value, self.scheduler.timezone, "next_run_time")
        if isinstance(value, datetime) and value.utcoffset() is not None:
            return check_run_time(value, "next_run_time")
        raise ArgumentError("next_run_time", "a naive or non-datetime value needs a scheduler time zone to be read in")

    def _set_fn(self, fn: Callable[..., Any] | str) -> None:
        if isinstance(fn, str):
            self.fn_reference = fn
            self.fn = resolve_reference(fn, "fn")
            if not callable(self.fn):
                raise TypeError(f"fn: {fn!r} refers to a {type(self.fn).__name__}, which is not callable")
        elif callable(fn):
            self.fn = fn
            self.fn_reference = _reference_of_cached(fn)
        else:
            raise TypeError(f"fn: expected a callable or a 'package.module:name' reference, got {type(fn).__name__}")

    # -- schedule ----------------------------------------------------------------

    def get_run_times(self, timezone: tzinfo, now: datetime) -> list[datetime]:
        """Every fire time from ``next_run_time`` up to and including ``now``."""
        return self.due_run_times(timezone, now)[0]

    def due_run_times(
        self, timezone: tzinfo, now: datetime, limit: int = 100_000
    ) -> tuple[list[datetime], datetime | None]:
        """The due fire times (at most ``limit``) and the first one after them, in one walk."""
        run_times: list[datetime] = []
        # the regular schedule: a pending retry is not a fire time of the trigger
        next_run_time = self.next_run_time if self.retry is None else self.retry.regular_next
        trigger = self.trigger
        while next_run_time is not None and next_run_time <= now and len(run_times) < limit:
            run_times.append(next_run_time)
            next_run_time = None if trigger is None else trigger.get_next_trigger_time(timezone, next_run_time, now)
        return run_times, next_run_time

    @property
    def schedule_state(self) -> TaskScheduleState:
        """PENDING (not yet in a store), PAUSED (no next run time) or SCHEDULED."""
        if self.pending:
            return TaskScheduleState.PENDING
        if self.next_run_time is None:
            return TaskScheduleState.PAUSED
        return TaskScheduleState.SCHEDULED

    @property
    def paused(self) -> bool:
        """In a store without a next run time."""
        return not self.pending and self.next_run_time is None

    # -- conveniences that go through the owning scheduler -----------------------

    def _owner(self) -> TaskAPI:
        if self.scheduler is None:
            raise RuntimeError(f"task {self.id!r} is not attached to a scheduler")
        return self.scheduler

    def _refresh(self, saved: Task | None) -> None:
        """Take the state the scheduler saved, so this object shows the change as well."""
        if saved is None or saved is self:
            return
        for slot in Task.__slots__:
            if slot != "__weakref__":
                object.__setattr__(self, slot, getattr(saved, slot))

    def update(self, **updates: Any) -> Task:
        """Change options through the scheduler (saved in the store); returns this task."""
        self._refresh(self._owner().update_task(self.id, self.store_alias, **updates))  # type: ignore[arg-type]
        return self

    def reschedule(self, trigger: Trigger | str, **trigger_args: Any) -> Task:
        """Switch to another trigger through the scheduler; returns this task."""
        saved = self._owner().reschedule_task(self.id, self.store_alias, trigger, **trigger_args)  # type: ignore[arg-type]
        self._refresh(saved)
        return self

    def pause(self) -> Task:
        """Stop running this task until it is resumed (saved in the store); returns this task."""
        self._refresh(self._owner().pause_task(self.id, self.store_alias))  # type: ignore[arg-type]
        return self

    def resume(self) -> Task:
        """Resume from now on (a trigger with nothing left to fire removes the task). Returns
        this task, as asyncz does, so calls chain."""
        self._refresh(self._owner().resume_task(self.id, self.store_alias))  # type: ignore[arg-type]
        return self

    def delete(self) -> Task:
        """Remove this task from its store; returns it, as asyncz does."""
        self._owner().delete_task(self.id, self.store_alias)  # type: ignore[arg-type]
        return self

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """Decorator mode: ``@scheduler.add_task("interval", seconds=5)`` binds ``fn`` here."""
        if self.fn is not None:
            raise TypeError(f"task {self.id!r} already has a function; it is not a decorator")
        if self.id is None:
            self.id = uuid4().hex
        self._apply_updates(fn=fn, args=self.args, kwargs=self.kwargs)
        self._owner().add_task(self)
        return fn

    def snapshot(self) -> TaskInfo:
        """An immutable ``TaskInfo`` of this task, for display and APIs."""
        trigger = self.trigger
        name: str | None = callable_name(self.fn) if self.fn is not None else None
        if name is None and self.fn_reference:
            name = self.fn_reference.rsplit(":", 1)[-1]
        return TaskInfo(
            id=self.id,
            name=self.name,
            callable_name=name,
            callable_reference=self.fn_reference,
            trigger_alias=getattr(trigger, "alias", None),
            trigger_name=type(trigger).__name__ if trigger is not None else None,
            trigger_description=str(trigger) if trigger is not None else None,
            executor=self.executor,
            store_alias=self.store_alias,
            schedule_state=self.schedule_state,
            next_run_time=self.next_run_time,
            coalesce=self.coalesce,
            max_instances=self.max_instances,
            mistrigger_grace_time=self.mistrigger_grace_time,
            pending=self.pending,
            paused=self.paused,
            submitted=self.submitted,
            max_retries=self.max_retries,
            priority=self.priority,
            retry_attempt=None if self.retry is None else self.retry.attempt,
            retry_at=None if self.retry is None else self.retry.retry_at,
        )

    # -- persistence -------------------------------------------------------------

    def __getstate__(self) -> dict[str, Any]:
        """Plain state for persistent stores. Needs an importable function reference."""
        if self.fn_reference is None:
            raise ValueError(
                f"fn: task {self.id!r} runs {self.name!r}, which has no importable 'module:name' "
                "reference (a lambda, nested function or instance method), so it cannot be stored "
                "persistently; use a module-level function"
            )
        return {
            "version": STATE_VERSION,
            "id": self.id,
            "name": self.name,
            "fn_reference": self.fn_reference,
            "args": self.args,
            "kwargs": dict(self.kwargs),
            "trigger": self.trigger,
            "executor": self.executor,
            "mistrigger_grace_time": self.mistrigger_grace_time,
            "coalesce": self.coalesce,
            "max_instances": self.max_instances,
            "next_run_time": self.next_run_time,
            "on_interrupted": self.on_interrupted,
            **(self._retry_state() if self.max_retries or self.retry is not None else {}),
            **({"priority": self.priority} if self.priority else {}),  # stored only when not 0, like retries
        }

    def _retry_state(self) -> dict[str, Any]:
        """Stored only by tasks that retry, so other tasks' state is as before."""
        return {
            "max_retries": self.max_retries,
            "retry_delay": self.retry_delay,
            "retry_backoff": self.retry_backoff,
            "retry_on": _retries.retry_on_references(self.retry_on, self.id),
            "retry": None if self.retry is None else self.retry.state(),
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        version = state.get("version")
        if version != STATE_VERSION:
            raise TaskRestoreError(state.get("id"), f"unsupported state version {version!r}")
        try:
            fn = resolve_reference(state["fn_reference"], "fn")
        except Exception as exc:
            raise TaskRestoreError(state.get("id"), f"{type(exc).__name__}: {exc}") from exc
        self.id = state["id"]
        self.name = state["name"]
        self.fn = fn
        self.fn_reference = state["fn_reference"]
        self.args = tuple(state["args"])
        self.kwargs = state["kwargs"] or _EMPTY_KWARGS  # type: ignore[assignment]
        self.trigger = state["trigger"]
        self.executor = state["executor"]
        self.store_alias = None
        self.mistrigger_grace_time = state["mistrigger_grace_time"]
        self.coalesce = state["coalesce"]
        self.max_instances = state["max_instances"]
        self.next_run_time = state["next_run_time"]
        self.scheduler = None
        self.pending = False
        self.submitted = True  # asyncz's meaning: handed to a scheduler (added, or restored from a store)
        self.on_interrupted = state.get("on_interrupted", "report")
        self.interrupted_at = None
        self.max_retries = state.get("max_retries", 0)
        self.retry_delay = state.get("retry_delay", 1.0)
        self.retry_backoff = state.get("retry_backoff", 1.0)
        try:
            self.retry_on = _retries.retry_on_classes(state.get("retry_on"))
        except Exception as exc:
            raise TaskRestoreError(state.get("id"), f"retry_on: {type(exc).__name__}: {exc}") from exc
        self.retry = _retries.PendingRetry.from_state(state.get("retry"))
        self.priority = state.get("priority", 0)  # tasks stored before priorities existed: 0

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Task:
        """Rebuild a stored task; raises TaskRestoreError saying why it cannot be."""
        task = cls.__new__(cls)
        task.__setstate__(state)
        return task

    def __repr__(self) -> str:
        return f"<Task (id={self.id!r} name={self.name!r} trigger={self.trigger} next_run_time={self.next_run_time})>"

    def __str__(self) -> str:
        return f"{self.name} (trigger: {self.trigger}, next run at: {self.next_run_time})"


#: per plain function, its last ``module:qualname`` reference (re-verified on every use)
_REFERENCES: WeakKeyDictionary[Callable[..., Any], str] = WeakKeyDictionary()


def _reference_of_cached(fn: Callable[..., Any]) -> str | None:
    """``reference_of`` without ``import_module`` per add: a remembered reference counts
    only if walking the already imported module still gives back this very function."""
    if isinstance(fn, FunctionType):
        reference = _REFERENCES.get(fn)
        if reference is not None:
            module_name, _, path = reference.partition(":")
            obj: Any = sys.modules.get(module_name)
            for part in path.split("."):
                obj = getattr(obj, part, None)
            if obj is fn:
                return reference
    reference = reference_of(fn)
    if reference is not None and isinstance(fn, FunctionType):
        _REFERENCES[fn] = reference
    return reference


#: per plain function, the argument shapes (count, keyword names) already known to bind
_FITTING_SHAPES: WeakKeyDictionary[Callable[..., Any], set[tuple[int, tuple[str, ...]]]] = WeakKeyDictionary()


def _check_arguments_cached(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
    """``check_arguments``, remembered per function: whether a call binds depends only on how
    many positional arguments and which keyword names it has, and ``inspect.signature``
    on every add dominated adding tasks."""
    if not isinstance(fn, FunctionType):
        check_arguments(fn, args, dict(kwargs))
        return
    shape = (len(args), tuple(kwargs))
    known = _FITTING_SHAPES.get(fn)
    if known is not None and shape in known:
        return
    check_arguments(fn, args, dict(kwargs))
    if known is None:
        known = _FITTING_SHAPES[fn] = set()
    if len(known) < 64:
        known.add(shape)


def _optional_str(value: Any, argument: str) -> str | None:
    if value is not None and not (isinstance(value, str) and value):
        raise TypeError(f"{argument}: expected an alias string, got {value!r}")
    return value  # type: ignore[no-any-return]
