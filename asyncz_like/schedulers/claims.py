"""The claims a scheduler holds while runs are in flight on a shared store, and their
release when the runs complete — in batches, so a burst of completions costs one
transaction per store rather than one each."""

from __future__ import annotations

from collections import defaultdict
from threading import Lock
from typing import TYPE_CHECKING

from asyncz_like.events import TASK_REMOVED, TaskEvent

if TYPE_CHECKING:
    from asyncz_like.abc import Store
    from asyncz_like.schedulers.base import BaseScheduler
    from asyncz_like.tasks.task import Task


class HeldClaims:
    def __init__(self, scheduler: BaseScheduler) -> None:
        self.scheduler = scheduler
        self.by_store: dict[str, set[str]] = defaultdict(set)
        self._completed: list[Task] = []
        self._lock = Lock()
        self._flush_queued = False

    def hold(self, task: Task) -> None:
        """The pass submitted a claimed task: keep the claim until its runs complete."""
        self.by_store[task.store_alias or "default"].add(task.id)  # type: ignore[arg-type]

    def drop(self, alias: str, task_id: str | None) -> None:
        self.by_store[alias].discard(task_id)  # type: ignore[arg-type]

    def holds(self, alias: str) -> bool:
        return bool(self.by_store.get(alias))

    def holds_any(self) -> bool:
        return any(self.by_store.values())

    def completed(self, task: Task) -> None:
        """From any thread: a held task's runs are over. Queues its release."""
        if task.id not in self.by_store.get(task.store_alias or "default", ()):
            return
        with self._lock:
            self._completed.append(task)
            queue_flush = not self._flush_queued
            self._flush_queued = True
        if queue_flush:
            self.scheduler.run_store_io(self.flush)

    def flush(self) -> None:
        """Write back every completed task: release the claim with the new schedule, or
        delete the task when its trigger is done."""
        with self._lock:
            batch, self._completed = self._completed, []
            self._flush_queued = False
        by_alias: dict[str, list[Task]] = defaultdict(list)
        for task in batch:
            by_alias[task.store_alias or "default"].append(task)
        for alias, tasks in by_alias.items():
            store = self.scheduler.stores.get(alias)
            try:
                if store is not None:
                    self._write_back(alias, store, tasks)
            except Exception:
                self.scheduler.logger.exception(
                    "Releasing %d task(s) in store %r failed; their leases will expire", len(tasks), alias
                )
            finally:
                for task in tasks:
                    self.drop(alias, task.id)

    def _write_back(self, alias: str, store: Store, tasks: list[Task]) -> None:
        """Release every claim (finished tasks are deleted) in one round trip where the
        store allows."""
        for task, released in zip(tasks, store.release_tasks(tasks, self.scheduler.scheduler_id), strict=True):
            if not released:
                self.scheduler.logger.warning(
                    "Task %r: lease expired before release; another scheduler took it over", task.id
                )
            elif task.next_run_time is None:
                self.scheduler.dispatch_event(TaskEvent(code=TASK_REMOVED, task_id=task.id, store=alias))
