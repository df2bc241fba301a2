"""Every plugin contract in one place: trigger, executor, store, serializer.

A third-party plugin subclasses one of these and registers it under the matching
entry-point group (``asyncz_like.triggers``, ``asyncz_like.executors``,
``asyncz_like.stores``); the built-ins are registered exactly the same way.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any, ClassVar

from asyncz_like.exceptions import TaskLookupError

if TYPE_CHECKING:
    from asyncz_like.events import SchedulerEvent
    from asyncz_like.schedulers.base import BaseScheduler
    from asyncz_like.tasks.task import Task


class Trigger(ABC):
    """Decides when a task runs.

    Triggers are pickled into persistent stores, so keep their state plain data.
    ``alias`` is the name the trigger is registered under (shown in snapshots).
    """

    alias: ClassVar[str | None] = None
    __slots__ = ("jitter",)

    jitter: float | None

    @abstractmethod
    def get_next_trigger_time(
        self, timezone: tzinfo, previous_time: datetime | None, now: datetime | None = None
    ) -> datetime | None:
        """The first fire time after ``previous_time`` (or the first one at all when it is
        None), or None when the trigger will never fire again."""

    def use_scheduler_defaults(  # noqa: B027 - optional hook, most triggers need none
        self, timezone: tzinfo, now: datetime, first_run_time: datetime | None = None
    ) -> None:
        """Called when a task with this trigger is added to a scheduler: settings the user
        left unset come from the scheduler (its zone, its clock), not from the host. An
        explicit ``first_run_time`` (``add_task(next_run_time=...)``) is the task's first run."""

    def __getstate__(self) -> dict[str, Any]:
        state: dict[str, Any] = {}
        for cls in type(self).__mro__:
            for name in getattr(cls, "__slots__", ()):
                if hasattr(self, name):
                    state[name] = getattr(self, name)
        if hasattr(self, "__dict__"):
            state.update(self.__dict__)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name, value in state.items():
            object.__setattr__(self, name, value)

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.__getstate__() == other.__getstate__()  # type: ignore[union-attr]

    __hash__ = None  # type: ignore[assignment]


class Executor(ABC):
    """Runs tasks. ``send_task`` must return quickly: the run happens elsewhere."""

    @abstractmethod
    def start(self, scheduler: BaseScheduler, alias: str) -> None:
        """Called when the scheduler starts or the executor is added to a running one."""

    @abstractmethod
    def shutdown(self, wait: bool = True) -> None:
        """Stop accepting work; with ``wait`` block until running tasks finish."""

    @abstractmethod
    def send_task(self, task: Task, run_times: Sequence[datetime]) -> None:
        """Start running ``task`` once for each of ``run_times``.

        Raises :class:`~asyncz_like.exceptions.MaximumInstancesError` when the task
        already has ``max_instances`` runs in flight.
        """

    def check_task(self, task: Task) -> None:  # noqa: B027 - optional hook, most executors run anything
        """Called by ``add_task``: raise (naming the argument) when this executor could never
        run ``task``, so the mistake shows at once rather than at its first run time."""


@dataclass(frozen=True, slots=True)
class SetAsideTask:
    """A stored task that could not be restored. It stays in the store untouched."""

    task_id: str
    reason: str


class Store(ABC):
    """Keeps tasks. Every method is synchronous; ``blocking_io`` tells the scheduler
    whether calls touch a disk or network, so async front ends can keep them off the loop.
    A ``blocking_io`` store is called from several threads and must be thread-safe.

    Contract (the suite in ``tests/stores`` holds every store to it):

    * ``add_task`` raises ConflictIdError for an existing id;
    * ``update_task`` / ``delete_task`` raise TaskLookupError for a missing id;
    * ``get_due_tasks(now)`` returns tasks with ``next_run_time <= now`` ordered by it,
      never paused ones (``next_run_time is None``), and never the whole table;
    * a task that cannot be restored is never deleted: it is set aside, reported by
      ``get_set_aside_tasks`` and left for the user (``delete_task`` still removes it).
    """

    blocking_io: ClassVar[bool] = True
    alias: str | None = None
    scheduler: BaseScheduler | None = None

    def start(self, scheduler: BaseScheduler, alias: str) -> None:
        """Connect; raise StoreConnectionError (naming store and masked URL) if that fails."""
        self.scheduler = scheduler
        self.alias = alias

    def shutdown(self) -> None:  # noqa: B027 - optional hook, most stores need it
        """Release connections."""

    @abstractmethod
    def lookup_task(self, task_id: str) -> Task | None:
        """The task with this id, or None (also None for a task set aside as unrestorable)."""

    @abstractmethod
    def get_due_tasks(self, now: datetime) -> list[Task]:
        """Tasks with ``next_run_time <= now``, earliest first; never paused ones, never a full scan."""

    @abstractmethod
    def get_next_run_time(self) -> datetime | None:
        """The earliest next run time of any task here (None: nothing scheduled); it sets the timer."""

    @abstractmethod
    def get_all_tasks(self) -> list[Task]:
        """Every restorable task, ordered by next run time with paused tasks last."""

    @abstractmethod
    def add_task(self, task: Task) -> None:
        """Store a new task; ConflictIdError if its id is taken."""

    @abstractmethod
    def update_task(self, task: Task) -> None:
        """Replace a stored task with this one (same id); TaskLookupError if it is not stored."""

    @abstractmethod
    def delete_task(self, task_id: str) -> None:
        """Remove a task, a set-aside one included; TaskLookupError if there is none."""

    @abstractmethod
    def remove_all_tasks(self) -> None:
        """Remove every task of this store."""

    def get_set_aside_tasks(self) -> list[SetAsideTask]:
        """Tasks found unrestorable, with the reason; they are still in the store."""
        return []

    # -- shared-store scheduling -------------------------------------------------
    # A store that several schedulers may share sets ``supports_claims`` and overrides the
    # three methods below, so that each due run is claimed by exactly one scheduler under a
    # lease (owner + expiry) that is held until the run completes.

    supports_claims: ClassVar[bool] = False
    #: the most tasks one ``claim_due_tasks`` call returns (None: not known). A claim that
    #: comes back this full tells the pass that more is due, so it claims again at once
    #: instead of first doing the store jobs queued behind it (see ``process_store``)
    claim_batch: int | None = None

    def claim_due_tasks(self, now: datetime, owner: str, lease_seconds: float, limit: int | None = None) -> list[Task]:
        """Due tasks that ``owner`` now holds, atomically (a conditional UPDATE, a script, a
        find-and-modify). A due task claimed by another owner whose lease has expired is taken
        over and comes back with ``task.interrupted_at`` set to the time that owner claimed it:
        its owner died, perhaps mid-run, after submitting the run times due at that moment.

        The default, for stores only one scheduler uses, is every due task."""
        due = self.get_due_tasks(now)
        return due if limit is None else due[:limit]

    def release_task(self, task: Task, owner: str) -> bool:
        """Store the task's new schedule and drop ``owner``'s claim in one atomic step; a task
        with no next run time has finished and is deleted instead. Returns False when the
        claim had been lost (another scheduler took it over) and nothing was written."""
        try:
            if task.next_run_time is None:
                self.delete_task(task.id)  # type: ignore[arg-type]
            else:
                self.update_task(task)
        except TaskLookupError:  # deleted meanwhile: nothing to write back
            return False
        return True

    def release_tasks(self, tasks: list[Task], owner: str) -> list[bool]:
        """``release_task`` for many; stores override it to write them in one round trip."""
        return [self.release_task(task, owner) for task in tasks]

    def renew_claims(self, owner: str, lease_seconds: float, now: datetime) -> None:  # noqa: B027
        """Extend the leases ``owner`` holds on runs still in flight."""

    # -- changes made by other processes ---------------------------------------------
    # A store whose server can push changes (PostgreSQL LISTEN/NOTIFY, Redis pub/sub, MongoDB
    # change streams) overrides these, so running schedulers hear of a task another process
    # added or moved earlier at once; the others are polled every ``poll_interval``.

    def watch(self, callback: Callable[[datetime | None], Any]) -> bool:
        """Start calling ``callback(next_run_time)`` (from any thread) when another process
        makes a task due at ``next_run_time`` (None: something changed, look again). Returns
        False when this store cannot, so the scheduler polls it instead."""
        return False

    def unwatch(self) -> None:  # noqa: B027
        """Stop the change feed started by :meth:`watch`."""

    def announce(self, next_run_time: datetime) -> None:  # noqa: B027
        """Tell the watchers of this store that a task is now due at ``next_run_time``. Stores
        whose feed sees every write by itself (change streams) need not do anything."""

    # -- run history, heartbeats and health (optional; see asyncz_like.history) ----------------
    # A store that keeps run records sets ``supports_history`` and overrides the three history
    # methods; otherwise the scheduler keeps the records of its runs in memory. Records are
    # dicts of JSON-safe values (``asyncz_like.history.records.FIELDS``), times as float UTC
    # seconds. A shared store may keep heartbeats too, so each scheduler sees the others.

    supports_history: ClassVar[bool] = False

    def record_runs(self, records: list[dict[str, Any]]) -> None:
        """Append run records, in one round trip where the store allows."""
        raise NotImplementedError(f"{type(self).__name__} keeps no run history")

    def get_run_history(
        self, task_id: str | None, limit: int, outcomes: Collection[str] | None, since: float | None
    ) -> list[dict[str, Any]]:
        """At most ``limit`` records, newest first (``finished_at``, then ``run_id``), of one task
        or all, with one of ``outcomes``, finished at ``since`` or later."""
        raise NotImplementedError(f"{type(self).__name__} keeps no run history")

    def prune_history(self, task_ids: Collection[str], keep_per_task: int, older_than: float | None) -> None:
        """Keep the newest ``keep_per_task`` records of each of ``task_ids``; delete every record
        that finished before ``older_than``."""
        raise NotImplementedError(f"{type(self).__name__} keeps no run history")

    def beat(self, scheduler_id: str, now: datetime, expires_at: datetime) -> None:  # noqa: B027
        """Renew ``scheduler_id``'s heartbeat (a shared store; the others need not)."""

    def drop_beat(self, scheduler_id: str) -> None:  # noqa: B027
        """``scheduler_id`` stops cleanly: remove its heartbeat."""

    def get_schedulers(self, now: datetime) -> list[dict[str, Any]]:
        """The schedulers seen here: ``{"scheduler_id", "renewed_at", "expires_at", "runs_held"}``
        (times as float UTC seconds, None when only a lease was seen)."""
        return []

    def count_tasks(self) -> tuple[int, int]:
        """(scheduled, paused) tasks; stores override it with a count that restores nothing."""
        tasks = self.get_all_tasks()
        scheduled = sum(1 for task in tasks if task.next_run_time is not None)
        return scheduled, len(tasks) - scheduled

    def ping(self) -> None:
        """One round trip to the store's server (the health report times it)."""
        self.get_next_run_time()


class Serializer(ABC):
    """Turns a task's state dict into bytes for a persistent store, and back."""

    @abstractmethod
    def dumps(self, state: dict[str, Any]) -> bytes:
        """A task's state (plain data, datetimes and the trigger included) as bytes."""

    @abstractmethod
    def loads(self, data: bytes) -> dict[str, Any]:
        """The state dict back from ``dumps``' bytes; raises on bytes it cannot read."""


EventCallback = Any  # Callable[[SchedulerEvent], Any] or an async function
__all__ = ["EventCallback", "Executor", "Serializer", "SetAsideTask", "Store", "Trigger"]
if TYPE_CHECKING:
    _unused: SchedulerEvent
