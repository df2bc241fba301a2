"""Run records kept in this process, for stores that keep none themselves (the memory store,
third-party stores without the history contract).

One ``deque(maxlen=memory_limit)`` per store: appending a record is one C call, safe from
any thread without a lock, and the oldest record falls out by itself, so the fire path pays
almost nothing. The other limits apply when records are read: at most ``keep_per_task`` of
each task (its newest), none older than ``max_age``. So a task that runs very often can push
the records of quiet tasks out of memory sooner than ``keep_per_task`` suggests; the stores
that keep history themselves prune each task on its own. Lost when the process ends, like
the memory store's tasks.

Records are kept as the tuples the fire path builds (:data:`~asyncz_like.history.records.FIELDS`
order); a query turns the ones it returns into dicts.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Collection
from typing import Any

from asyncz_like.history.records import FINISHED, OUTCOME, RUN_ID, TASK_ID, Row, as_dict

#: records kept in memory per store at most
DEFAULT_MEMORY_LIMIT = 10_000


class MemoryHistory:
    """The records of the stores that keep none, in this process."""

    def __init__(self, keep_per_task: int, memory_limit: int = DEFAULT_MEMORY_LIMIT) -> None:
        self.keep_per_task = keep_per_task
        self.memory_limit = memory_limit
        self._rows: dict[str, deque[Row]] = {}

    def rows_of(self, alias: str) -> deque[Row]:
        """The deque a store's records are appended to (made on first use)."""
        rows = self._rows.get(alias)
        if rows is None:
            rows = self._rows.setdefault(alias, deque(maxlen=self.memory_limit))
        return rows

    def add(self, alias: str, rows: list[Row]) -> None:
        """Append ``rows`` (the oldest records fall out past ``memory_limit``)."""
        self.rows_of(alias).extend(rows)

    def query(
        self,
        alias: str,
        task_id: str | None,
        limit: int,
        outcomes: Collection[str] | None,
        since: float | None,
    ) -> list[dict[str, Any]]:
        """Newest first; of each task only its newest ``keep_per_task``."""
        rows = self._rows.get(alias)
        if not rows:
            return []
        snapshot = list(rows)  # a copy: other threads keep appending
        snapshot.sort(key=lambda row: (row[FINISHED], row[RUN_ID]), reverse=True)
        seen: dict[str, int] = {}
        found = []
        keep = self.keep_per_task
        for row in snapshot:
            if task_id is not None and row[TASK_ID] != task_id:
                continue
            count = seen.get(row[TASK_ID], 0)
            if count >= keep:
                continue
            seen[row[TASK_ID]] = count + 1
            if (outcomes is None or row[OUTCOME] in outcomes) and (since is None or row[FINISHED] >= since):
                found.append(as_dict(row))
                if len(found) >= limit:
                    break
        return found

    def prune(self, alias: str, older_than: float) -> None:
        """Drop the records that finished before ``older_than`` (the maximum age) from the old
        end (records arrive about in the order they finished)."""
        rows = self._rows.get(alias)
        while rows and rows[0][FINISHED] < older_than:
            try:
                rows.popleft()
            except IndexError:
                break


def newest_first(record: dict[str, Any]) -> tuple[float, str]:
    """Sort key for record dicts, with ``reverse=True``: later ``finished_at`` first, then the
    later run id."""
    return (record["finished_at"], record["run_id"])


__all__ = ["MemoryHistory", "newest_first"]
