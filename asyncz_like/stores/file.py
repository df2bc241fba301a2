"""Tasks as files in one directory: one file per task, written atomically.

Each file holds a first line with the next run timestamp (``-`` while paused) and then
the serialized state. ``start`` reads only those first lines to build an in-memory
index, so the due lookup opens only the files of due tasks. A write goes to a temp file
that is then renamed over (or, for a new task, hard-linked to) the task's name, so a
crash never leaves a half-written task. One scheduler process per directory.
"""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
import tempfile
from datetime import datetime
from pathlib import Path
from threading import RLock
from typing import Any
from urllib.parse import quote, unquote

from sortedcontainers import SortedList

from asyncz_like.abc import Serializer
from asyncz_like.exceptions import ConflictIdError, StoreConnectionError, TaskLookupError
from asyncz_like.history.files import FileHistory
from asyncz_like.stores._legacy import check_file_directory
from asyncz_like.stores.base import PersistentStore
from asyncz_like.tasks.task import Task

_PREFIX = "task-"
_MAX_NAME = 240
_HASHED = "%%"
_MAX_ID = "\U0010ffff"


class FileStore(FileHistory, PersistentStore):
    """``directory``: where the task files live (created with ``mode`` if missing); ``url=``
    accepts ``file:///absolute/path`` too. Task files are named ``task-<id><suffix>``;
    ``cleanup_directory`` removes the directory at shutdown (asyncz's options). A failing
    disk (any ``OSError``) surfaces as StoreUnavailableError; there is no server to time out."""

    unavailable_errors = (OSError,)

    def __init__(
        self,
        directory: str | os.PathLike[str] | None = None,
        suffix: str = ".task",
        mode: int = 0o700,
        cleanup_directory: bool = False,
        pickle_protocol: int | None = None,
        *,
        url: str | None = None,
        serializer: Serializer | str | None = None,
        encryption_key: str | bytes | None = None,
        encryption_key_env: str | None = None,
        fsync: bool = True,
    ) -> None:
        super().__init__(serializer, encryption_key, encryption_key_env, pickle_protocol)
        if not isinstance(suffix, str) or not suffix or any(char in suffix for char in "/\\\0"):
            raise ValueError(f"suffix: expected a non-empty string without '/', '\\' or NUL, got {suffix!r}")
        if isinstance(mode, bool) or not isinstance(mode, int) or not 0 <= mode <= 0o7777:
            raise ValueError(f"mode: expected permission bits such as 0o700, got {mode!r}")
        self.suffix = suffix
        self.mode = mode
        self.cleanup_directory = bool(cleanup_directory)
        if (directory is None) == (url is None):
            raise ValueError("directory, url: give exactly one of them")
        if url is not None:
            if not isinstance(url, str) or not url.startswith("file://") or len(url) <= len("file://"):
                raise ValueError(f"url: expected 'file:///path/to/directory', got {url!r}")
            directory = unquote(url[len("file://") :])
        if not isinstance(directory, (str, os.PathLike)) or not str(directory):
            raise TypeError(f"directory: expected a path, got {directory!r}")
        self.directory = Path(directory)
        self.url = str(self.directory)
        self.fsync = fsync
        self._lock = RLock()
        self._run_at: dict[str, float | None] = {}
        self._index: SortedList = SortedList()
        self._loaded = False

    # -- files -----------------------------------------------------------------------

    def _path(self, task_id: str) -> Path:
        """``task-<quoted id><suffix>``; an id whose quoted form makes too long a file name gets
        ``task-%%<sha256 of the id><suffix>`` instead (``quote`` never writes ``%%``), and the
        file's header line carries the id."""
        name = f"{_PREFIX}{quote(task_id, safe='')}{self.suffix}"
        if len(name) > _MAX_NAME:
            name = f"{_PREFIX}{_HASHED}{hashlib.sha256(task_id.encode()).hexdigest()}{self.suffix}"
        return self.directory / name

    def _write_temp(self, task: Task) -> str:
        timestamp = "-" if task.next_run_time is None else repr(task.next_run_time.timestamp())
        if self._path(task.id).name.startswith(_PREFIX + _HASHED):  # type: ignore[arg-type]
            timestamp += " " + quote(task.id, safe="")  # type: ignore[arg-type]
        data = timestamp.encode() + b"\n" + self.encode_task(task)
        fd, temp = tempfile.mkstemp(prefix=".tmp-", dir=self.directory)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                if self.fsync:
                    os.fsync(handle.fileno())
        except BaseException:
            os.unlink(temp)
            raise
        return temp

    def _files(self) -> list[Path]:
        return list(self.directory.glob(f"{_PREFIX}*{glob.escape(self.suffix)}"))

    @staticmethod
    def _read(path: Path) -> bytes | None:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        return data.partition(b"\n")[2]

    # -- index -----------------------------------------------------------------------

    def _load(self) -> None:
        self.directory.mkdir(self.mode, parents=True, exist_ok=True)
        run_at: dict[str, float | None] = {}
        for path in self._files():
            task_id = unquote(path.name[len(_PREFIX) : -len(self.suffix)])
            try:
                with path.open("rb") as handle:
                    header, _, hashed_id = handle.readline().strip().partition(b" ")
                if hashed_id:
                    task_id = unquote(hashed_id.decode())
                run_at[task_id] = None if header == b"-" else float(header)
            except FileNotFoundError:
                continue
            except ValueError:
                run_at[task_id] = None
                self.set_aside(task_id, f"file {path.name} has no valid run time header")
        self._run_at = run_at
        self._index = SortedList((timestamp, task_id) for task_id, timestamp in run_at.items() if timestamp is not None)
        self._loaded = True

    def _ensure_loaded(self) -> None:
        if not self._loaded:
            with self._lock:
                if not self._loaded:
                    self._load()

    def _index_set(self, task_id: str, timestamp: float | None) -> None:
        old = self._run_at.get(task_id)
        if old is not None:
            self._index.discard((old, task_id))
        self._run_at[task_id] = timestamp
        if timestamp is not None:
            self._index.add((timestamp, task_id))

    def _index_drop(self, task_id: str) -> None:
        old = self._run_at.pop(task_id, None)
        if old is not None:
            self._index.discard((old, task_id))

    # -- lifecycle -------------------------------------------------------------------

    def start(self, scheduler: Any, alias: str) -> None:
        super().start(scheduler, alias)
        try:
            with self._lock:
                self._load()
                check_file_directory(self)  # asyncz's task files: refused until converted
        except OSError as exc:
            raise StoreConnectionError(alias, str(self.directory), exc) from exc

    def shutdown(self) -> None:
        if self.cleanup_directory:
            with self._lock:
                shutil.rmtree(self.directory, ignore_errors=True)
                self._loaded = False

    # -- reads -----------------------------------------------------------------------

    def lookup_task(self, task_id: str) -> Task | None:
        return self.restore_task(task_id, self._read(self._path(task_id)))

    def get_due_tasks(self, now: datetime) -> list[Task]:
        self._ensure_loaded()
        with self._lock:
            end = self._index.bisect_right((now.timestamp(), _MAX_ID))
            ids = [task_id for _, task_id in self._index.islice(0, end)]
        return self.restore_rows((task_id, self._read(self._path(task_id))) for task_id in ids)

    def get_next_run_time(self) -> datetime | None:
        self._ensure_loaded()
        with self._lock:
            first = [(task_id, timestamp) for timestamp, task_id in self._index.islice(0, self.set_aside_count() + 1)]
        return self.first_runnable(first)

    def get_all_tasks(self) -> list[Task]:
        self._ensure_loaded()
        with self._lock:
            order = [task_id for _, task_id in self._index]
            order += sorted(task_id for task_id, timestamp in self._run_at.items() if timestamp is None)
        return self.restore_rows((task_id, self._read(self._path(task_id))) for task_id in order)

    # -- writes ----------------------------------------------------------------------

    def add_task(self, task: Task) -> None:
        self._ensure_loaded()
        path = self._path(task.id)  # type: ignore[arg-type]
        temp = self._write_temp(task)
        try:
            os.link(temp, path)  # fails if the task exists: create-if-absent in one step
        except FileExistsError:
            raise ConflictIdError(task.id) from None
        finally:
            os.unlink(temp)
        with self._lock:
            self._index_set(task.id, None if task.next_run_time is None else task.next_run_time.timestamp())  # type: ignore[arg-type]

    def update_task(self, task: Task) -> None:
        self._ensure_loaded()
        task_id: str = task.id  # type: ignore[assignment]
        path = self._path(task_id)
        if not path.exists():
            raise TaskLookupError(task_id)
        os.replace(self._write_temp(task), path)
        with self._lock:
            self._index_set(task_id, None if task.next_run_time is None else task.next_run_time.timestamp())
        self.forget_set_aside(task_id)

    def delete_task(self, task_id: str) -> None:
        self._ensure_loaded()
        try:
            self._path(task_id).unlink()
        except FileNotFoundError:
            raise TaskLookupError(task_id) from None
        with self._lock:
            self._index_drop(task_id)
        self.forget_set_aside(task_id)

    def remove_all_tasks(self) -> None:
        self._ensure_loaded()
        with self._lock:
            for path in self._files():
                path.unlink(missing_ok=True)
            self._run_at.clear()
            self._index.clear()
        self.forget_set_aside()

    def __repr__(self) -> str:
        return f"<FileStore (directory={str(self.directory)!r})>"
