"""Keep tasks in this process: fast, lost on exit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sortedcontainers import SortedList

from asyncz_like.abc import Store
from asyncz_like.exceptions import ConflictIdError, TaskLookupError
from asyncz_like.tasks.task import Task

_MAX_ID = "\U0010ffff"


class MemoryStore(Store):
    """Tasks by id, plus a sorted index of (next run timestamp, id) for due lookups.

    Add, update, delete and the due lookup are O(log n), so the 100,001st task is as
    cheap to add as the first. Paused tasks are kept out of the index.
    """

    blocking_io = False

    def __init__(self, **kwargs: Any) -> None:
        if kwargs:
            raise TypeError(f"memory store: unexpected argument(s) {sorted(kwargs)}")
        self._tasks: dict[str, Task] = {}
        self._run_at: dict[str, float] = {}
        self._index: SortedList = SortedList()

    def _index_add(self, task: Task) -> None:
        if task.next_run_time is not None:
            timestamp = task.next_run_time.timestamp()
            self._run_at[task.id] = timestamp  # type: ignore[index]
            self._index.add((timestamp, task.id))

    def _index_remove(self, task_id: str) -> None:
        timestamp = self._run_at.pop(task_id, None)
        if timestamp is not None:
            self._index.remove((timestamp, task_id))

    def shutdown(self) -> None:
        """Tasks in memory end with the scheduler, as in asyncz: code that adds its tasks on
        every start can start again without ``ConflictIdError``."""
        self.remove_all_tasks()

    def lookup_task(self, task_id: str) -> Task | None:
        return self._tasks.get(task_id)

    def get_due_tasks(self, now: datetime) -> list[Task]:
        end = self._index.bisect_right((now.timestamp(), _MAX_ID))
        tasks = self._tasks
        return [tasks[task_id] for _, task_id in self._index.islice(0, end)]

    def get_next_run_time(self) -> datetime | None:
        if not self._index:
            return None
        return self._tasks[self._index[0][1]].next_run_time

    def get_all_tasks(self) -> list[Task]:
        scheduled = [self._tasks[task_id] for _, task_id in self._index]
        paused = [task for task_id, task in self._tasks.items() if task_id not in self._run_at]
        return scheduled + paused

    def count_tasks(self) -> tuple[int, int]:
        return len(self._run_at), len(self._tasks) - len(self._run_at)

    def add_task(self, task: Task) -> None:
        if task.id in self._tasks:
            raise ConflictIdError(task.id)
        self._tasks[task.id] = task  # type: ignore[index]
        self._index_add(task)

    def update_task(self, task: Task) -> None:
        task_id: str = task.id  # type: ignore[assignment]
        if task_id not in self._tasks:
            raise TaskLookupError(task_id)
        self._index_remove(task_id)
        self._tasks[task_id] = task
        self._index_add(task)

    def delete_task(self, task_id: str) -> None:
        if task_id not in self._tasks:
            raise TaskLookupError(task_id)
        self._index_remove(task_id)
        del self._tasks[task_id]

    def remove_all_tasks(self) -> None:
        self._tasks.clear()
        self._run_at.clear()
        self._index.clear()

    def __len__(self) -> int:
        return len(self._tasks)

    def __repr__(self) -> str:
        return f"<MemoryStore ({len(self._tasks)} tasks)>"
