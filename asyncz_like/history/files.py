"""Run history for the file store: ``history.jsonl`` in its directory, one record per line.

A batch is appended with one ``write`` (``O_APPEND``), so a reader sees whole lines, bar
perhaps a last one being written, which it skips. Pruning rewrites the file (to a temporary
file renamed over it) only when it has something to remove. The file store serves one
scheduler, so there are no heartbeats.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections import defaultdict
from collections.abc import Collection, Iterator
from pathlib import Path
from threading import Lock
from typing import TYPE_CHECKING, Any

from asyncz_like.history.memory import newest_first

HISTORY_FILE = "history.jsonl"


class FileHistory:
    """Mixed into :class:`~asyncz_like.stores.file.FileStore`."""

    supports_history = True

    if TYPE_CHECKING:
        directory: Path
        fsync: bool
        _run_at: dict[str, float | None]
        _lock: Any

        def _ensure_loaded(self) -> None: ...

    _history_lock = Lock()

    @property
    def history_path(self) -> Path:
        """Where the records are: ``history.jsonl`` in the store's directory."""
        return self.directory / HISTORY_FILE

    def record_runs(self, records: list[dict[str, Any]]) -> None:
        """Append the batch to the file in one write."""
        data = "".join(json.dumps(record, separators=(",", ":")) + "\n" for record in records).encode()
        with self._history_lock:
            fd = os.open(self.history_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, data)
                if self.fsync:
                    os.fsync(fd)
            finally:
                os.close(fd)

    def _records(self) -> Iterator[dict[str, Any]]:
        try:
            with self.history_path.open("rb") as handle:
                for line in handle:
                    try:
                        yield json.loads(line)
                    except ValueError:  # a line being written right now
                        continue
        except FileNotFoundError:
            return

    def get_run_history(
        self, task_id: str | None, limit: int, outcomes: Collection[str] | None, since: float | None
    ) -> list[dict[str, Any]]:
        """Read the file and pick the newest matching records."""
        found = [
            record
            for record in self._records()
            if (task_id is None or record["task_id"] == task_id)
            and (outcomes is None or record["outcome"] in outcomes)
            and (since is None or record["finished_at"] >= since)
        ]
        found.sort(key=newest_first, reverse=True)
        return found[:limit]

    def prune_history(self, task_ids: Collection[str], keep_per_task: int, older_than: float | None) -> None:
        """Every task's newest ``keep_per_task`` (the whole file is read anyway)."""
        with self._history_lock:
            records = list(self._records())
            by_task: dict[str, list[dict[str, Any]]] = defaultdict(list)
            for record in records:
                if older_than is None or record["finished_at"] >= older_than:
                    by_task[record["task_id"]].append(record)
            kept = []
            for task_records in by_task.values():
                task_records.sort(key=newest_first, reverse=True)
                kept.extend(task_records[:keep_per_task])
            if len(kept) == len(records):
                return
            kept.sort(key=newest_first)
            data = "".join(json.dumps(record, separators=(",", ":")) + "\n" for record in kept).encode()
            fd, temp = tempfile.mkstemp(prefix=".history-", dir=self.directory)
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                    if self.fsync:
                        handle.flush()
                        os.fsync(handle.fileno())
                os.replace(temp, self.history_path)
            except BaseException:
                Path(temp).unlink(missing_ok=True)
                raise

    def count_tasks(self) -> tuple[int, int]:
        """From the index the store keeps in memory: no file is opened."""
        self._ensure_loaded()
        with self._lock:
            scheduled = sum(1 for timestamp in self._run_at.values() if timestamp is not None)
            return scheduled, len(self._run_at) - scheduled

    def ping(self) -> None:
        """The directory is there."""
        os.stat(self.directory)


__all__ = ["FileHistory"]
