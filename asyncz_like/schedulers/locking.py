"""asyncz's ``lock_path``: a per-store file lock so that, of several processes on one host,
only one runs a store's processing pass at a time.

``{store}`` in the path is replaced by the store alias. It only works on one machine;
several machines need a store that claims runs (see the deployment docs).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from filelock import FileLock


class StoreFileLocks:
    def __init__(self, path_template: str) -> None:
        if not isinstance(path_template, str) or not path_template:
            raise ValueError(f"lock_path: expected a file path, got {path_template!r}")
        self.path_template = path_template
        self._locks: dict[str, FileLock] = {}

    def _lock(self, alias: str) -> FileLock:
        lock = self._locks.get(alias)
        if lock is None:
            from filelock import FileLock  # only schedulers given a lock_path pay for the import

            lock = self._locks[alias] = FileLock(self.path_template.replace("{store}", alias))
        return lock

    @contextmanager
    def hold(self, alias: str) -> Iterator[bool]:
        """Yields True while this process holds the store's lock, False if another does."""
        from filelock import Timeout

        lock = self._lock(alias)
        try:
            lock.acquire(blocking=False)
        except Timeout:
            yield False
            return
        try:
            yield True
        finally:
            lock.release()
