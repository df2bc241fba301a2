"""The claims a scheduler holds while runs are in flight on a shared store, and their
release when the runs complete — in batches, so a burst of completions costs one
transaction per store rather than one each.

A release that fails (the store is down) is kept and retried every ``store_retry_interval``
while the lease is renewed, so the task runs again as soon as the store is back rather than
when the lease runs out; and should the lease run out all the same, our own pass that claims
the task back recognises it as ours (never as a dead scheduler's) and applies the pending
release instead of reporting the run as interrupted.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from threading import Lock
from typing import TYPE_CHECKING

from asyncz_like._gil import in_slices
from asyncz_like.events import TASK_REMOVED, TaskEvent

if TYPE_CHECKING:
    from asyncz_like.abc import Store
    from asyncz_like.schedulers.base import BaseScheduler
    from asyncz_like.tasks.task import Task


#: the most releases written in one call: a burst completes thousands of runs at once, and
#: a statement naming every one of them holds the GIL (building and parsing it) for tens of ms
RELEASE_SLICE = 500


class HeldClaims:
    def __init__(self, scheduler: BaseScheduler) -> None:
        self.scheduler = scheduler
        self.by_store: dict[str, set[str]] = defaultdict(set)
        self._completed: list[Task] = []
        self._failed: dict[tuple[str, str], Task] = {}
        self._retry_at: datetime | None = None
        self._lock = Lock()
        self._flush_queued = False
        self._closed = False

    def hold(self, task: Task) -> None:
        """The pass submitted a claimed task: keep the claim until its runs complete."""
        self._closed = False
        self.by_store[task.store_alias or "default"].add(task.id)  # type: ignore[arg-type]

    def drop(self, alias: str, task_id: str | None) -> None:
        self.by_store[alias].discard(task_id)  # type: ignore[arg-type]

    def holds(self, alias: str) -> bool:
        return bool(self.by_store.get(alias))

    def holds_task(self, alias: str, task_id: str | None) -> bool:
        return task_id in self.by_store.get(alias, ())

    def holds_any(self) -> bool:
        return any(self.by_store.values())

    def aliases_held(self) -> list[str]:
        return [alias for alias, ids in list(self.by_store.items()) if ids]

    def completed(self, task: Task) -> None:
        """From any thread: a held task's runs are over. Queues its release."""
        if task.id not in self.by_store.get(task.store_alias or "default", ()):
            return
        if self._closed:
            self.scheduler.logger.warning(
                "Task %r finished after shutdown; its claim is left to expire (lease %ss)",
                task.id,
                self.scheduler.lease_seconds,
            )
            return
        with self._lock:
            self._completed.append(task)
            queue_flush = not self._flush_queued
            self._flush_queued = True
        if queue_flush:
            self.scheduler.run_store_io(self.flush)

    def take_pending(self, alias: str, task_id: str | None) -> Task | None:
        """Our own completed run whose release has not reached the store yet (it failed)."""
        with self._lock:
            return self._failed.pop((alias, task_id or ""), None)

    def retry_due(self, now: datetime) -> bool:
        """True when releases failed earlier and it is time to try them again."""
        return bool(self._failed) and (self._retry_at is None or now >= self._retry_at)

    def retry_at(self) -> datetime | None:
        """When failed releases are tried again (None: there are none)."""
        return self._retry_at if self._failed else None

    def flush(self) -> None:
        """Write back every completed task: release the claim with the new schedule, or
        delete the task when its trigger is done. Failed releases are tried again too."""
        with self._lock:
            batch, self._completed = self._completed, []
            batch.extend(self._failed.values())
            self._failed.clear()
            self._flush_queued = False
        by_alias: dict[str, list[Task]] = defaultdict(list)
        for task in batch:
            by_alias[task.store_alias or "default"].append(task)
        for alias, tasks in by_alias.items():
            store = self.scheduler.stores.get(alias)
            if store is None:
                for task in tasks:
                    self.drop(alias, task.id)
                continue
            for chunk in in_slices(tasks, RELEASE_SLICE):
                try:
                    self._write_back(alias, store, list(chunk))
                except Exception as exc:
                    self.keep_for_retry(alias, list(chunk), exc)
                else:
                    for task in chunk:
                        self.drop(alias, task.id)

    def keep_for_retry(self, alias: str, tasks: list[Task], exc: Exception) -> None:
        """Releases that failed (the store is down): tried again every ``store_retry_interval``."""
        scheduler = self.scheduler
        retry_at = scheduler.clock() + timedelta(seconds=scheduler.store_retry_interval)
        scheduler.logger.warning(
            "Releasing %d task(s) in store %r failed (%s); retrying every %ss while the lease is renewed",
            len(tasks),
            alias,
            exc,
            scheduler.store_retry_interval,
        )
        with self._lock:
            for task in tasks:
                self._failed[(alias, task.id or "")] = task
            self._retry_at = retry_at
        scheduler.wakeup_at(retry_at)

    def _write_back(self, alias: str, store: Store, tasks: list[Task]) -> None:
        """Release every claim (finished tasks are deleted) in one round trip where the
        store allows; then plan the next pass for the earliest run just released."""
        scheduler = self.scheduler
        earliest: datetime | None = None
        for task, released in zip(tasks, store.release_tasks(tasks, scheduler.scheduler_id), strict=True):
            if not released:
                scheduler.logger.warning(
                    "Task %r was changed, deleted or taken over while its run was in flight; the run is "
                    "done and the stored task is left as it now is",
                    task.id,
                )
            elif task.next_run_time is None:
                scheduler.dispatch_event(TaskEvent(code=TASK_REMOVED, task_id=task.id, store=alias))
            elif earliest is None or task.next_run_time < earliest:
                earliest = task.next_run_time
        if earliest is not None:
            scheduler.wakeup_at(earliest)
            scheduler.announce(alias, earliest)

    def abandon_in_flight(self) -> None:
        """At shutdown: runs still in flight keep their claims, which expire; say which."""
        self._closed = True
        for alias, ids in list(self.by_store.items()):
            if ids:
                self.scheduler.logger.warning(
                    "Shutdown: %d run(s) still in flight in store %r keep their claims until the lease "
                    "expires (%ss): %s",
                    len(ids),
                    alias,
                    self.scheduler.lease_seconds,
                    sorted(ids),
                )
        with self._lock:
            if self._failed:
                self.scheduler.logger.error(
                    "Shutdown: %d release(s) could not be written; their claims expire after %ss: %s",
                    len(self._failed),
                    self.scheduler.lease_seconds,
                    sorted(task_id for _, task_id in self._failed),
                )
            self._failed.clear()
        self.by_store.clear()
