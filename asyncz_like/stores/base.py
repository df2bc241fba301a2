"""What every persistent store shares: encoding tasks to bytes, restoring them, and
setting aside the ones that cannot be restored instead of deleting them.

The set-aside rule: a stored task whose bytes are corrupt, whose function no longer
imports or that was encrypted with another key is skipped by the reads, logged once
with its id and reason, reported by :meth:`get_set_aside_tasks` and a
``TASK_RESTORE_FAILED`` event, and left in the store untouched; ``delete_task`` still
removes it. It keeps its stored next run time, so every pass that reads due rows tries
it again (fixing the code or the key brings it back without a restart), but
:meth:`get_next_run_time` looks past it, so a due set-aside task never makes the
scheduler spin or hide the healthy tasks behind it.
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime, timezone
from threading import Lock, local
from typing import Any, ClassVar, TypeVar
from urllib.parse import unquote, urlsplit, urlunsplit

from asyncz_like.abc import Serializer, SetAsideTask, Store
from asyncz_like.events import TASK_RESTORE_FAILED, TaskRestoreFailedEvent
from asyncz_like.exceptions import DecryptionError, StoreConnectionError, StoreUnavailableError, TaskRestoreError
from asyncz_like.serializers import JSONSerializer, PickleSerializer, encode_error
from asyncz_like.stores._encryption import FERNET_PREFIX, make_encryptor
from asyncz_like.tasks.task import Task

logger = logging.getLogger("asyncz_like.stores")

SERIALIZERS: dict[str, type[Serializer]] = {"pickle": PickleSerializer, "json": JSONSerializer}

#: seconds to open a connection (and, for MongoDB, to find the server) before giving up
DEFAULT_CONNECT_TIMEOUT = 5.0
#: seconds one store call may wait on its server (socket read, statement) before giving up
DEFAULT_OPERATION_TIMEOUT = 10.0
#: the store methods whose driver failures surface as StoreUnavailableError (see PersistentStore)
STORE_OPERATIONS = frozenset(
    {
        "lookup_task",
        "get_due_tasks",
        "get_next_run_time",
        "get_all_tasks",
        "add_task",
        "update_task",
        "delete_task",
        "remove_all_tasks",
        "claim_due_tasks",
        "release_task",
        "release_tasks",
        "renew_claims",
        "announce",
        "get_set_aside_tasks",
        "record_runs",
        "get_run_history",
        "prune_history",
        "beat",
        "drop_beat",
        "get_schedulers",
        "count_tasks",
        "ping",
    }
)
#: how much of a driver's error message a StoreUnavailableError quotes (the whole error is its __cause__)
DETAIL_LIMIT = 300
_Method = TypeVar("_Method", bound=Callable[..., Any])


def mask_url(url: str) -> str:
    """``url`` with its password replaced by ``***`` (safe for logs and error messages)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparsable url>"
    if parts.password is None:
        return url
    userinfo, _, host = parts.netloc.rpartition("@")
    user = userinfo.split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def resolve_serializer(serializer: Serializer | str | None, pickle_protocol: int | None = None) -> Serializer:
    """``pickle_protocol`` (asyncz's option) picks the pickle protocol of the default serializer."""
    if pickle_protocol is not None:
        if serializer not in (None, "pickle"):
            raise ValueError(f"pickle_protocol: only applies to the pickle serializer, not to {serializer!r}")
        return PickleSerializer(pickle_protocol)
    if serializer is None:
        return PickleSerializer()
    if isinstance(serializer, Serializer):
        return serializer
    if isinstance(serializer, str) and serializer in SERIALIZERS:
        return SERIALIZERS[serializer]()
    raise ValueError(f"serializer: expected 'pickle', 'json' or a Serializer instance, got {serializer!r}")


def check_name(value: Any, argument: str) -> str:
    """A non-empty string option (table, key, collection names)."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"{argument}: expected a non-empty string, got {value!r}")
    return value


def check_timeout(value: Any, argument: str) -> float:
    """A timeout in seconds: a positive, finite number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < math.inf:
        raise ValueError(f"{argument}: expected a positive, finite number of seconds, got {value!r}")
    return float(value)


def check_claim(owner: Any, lease_seconds: Any) -> str:
    """The owner and lease of a claim, checked the same way by every shared store."""
    owner = check_name(owner, "owner")
    if isinstance(lease_seconds, bool) or not isinstance(lease_seconds, (int, float)) or lease_seconds <= 0:
        raise ValueError(f"lease_seconds: expected a positive number, got {lease_seconds!r}")
    return owner


def to_timestamp(value: datetime | None) -> float | None:
    return None if value is None else value.timestamp()


def from_timestamp(value: float) -> datetime:
    return datetime.fromtimestamp(value, timezone.utc)


_calls = local()  # .stores: ids of the stores this thread is inside a surfaced call of


def _surfacing(method: _Method) -> _Method:
    """``method`` run inside the store's ``operation_guard``, with the store's
    ``unavailable_errors`` raised as StoreUnavailableError naming it. Calls it makes to
    the same store's operations (``release_task`` from ``release_tasks``) are its own part."""
    operation = method.__name__

    @functools.wraps(method)
    def surfaced(self: PersistentStore, *args: Any, **kwargs: Any) -> Any:
        active: set[int] | None = getattr(_calls, "stores", None)
        if active is None:
            active = _calls.stores = set()
        if id(self) in active:
            return method(self, *args, **kwargs)
        active.add(id(self))
        try:
            with self.operation_guard():
                return method(self, *args, **kwargs)
        except StoreConnectionError:
            raise
        except self.unavailable_errors as exc:
            raise self.unavailable(exc, operation) from exc
        finally:
            active.discard(id(self))

    surfaced.__surfaced__ = True  # type: ignore[attr-defined]
    return surfaced  # type: ignore[return-value]


class PersistentStore(Store):
    """Base of the stores that keep tasks outside this process.

    Failures: a subclass names its driver's "server gone, connection broken, no answer in
    time" errors in ``unavailable_errors``; every method in :data:`STORE_OPERATIONS` it
    has is then wrapped (once, here, when the class is made) so those errors surface as
    :class:`~asyncz_like.exceptions.StoreUnavailableError` naming the store's alias, the
    method and the masked URL. Other errors (ConflictIdError, TaskLookupError, bad input)
    pass through unchanged. ``operation_guard`` lets a store bound a whole call in time
    where its driver cannot (PostgreSQL through psycopg has no read timeout).
    """

    unavailable_errors: ClassVar[tuple[type[BaseException], ...]] = ()
    url: str = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name in STORE_OPERATIONS:
            method = getattr(cls, name, None)
            if callable(method) and not getattr(method, "__surfaced__", False):
                setattr(cls, name, _surfacing(method))

    #: the change feed :meth:`watch` started (stores whose server can push changes)
    _feed: Any = None

    def unwatch(self) -> None:
        """Stop the change feed, if one runs."""
        feed, self._feed = self._feed, None
        if feed is not None:
            feed.stop()

    def __init__(
        self,
        serializer: Serializer | str | None = None,
        encryption_key: str | bytes | None = None,
        encryption_key_env: str | None = None,
        pickle_protocol: int | None = None,
    ) -> None:
        self.serializer = resolve_serializer(serializer, pickle_protocol)
        self.encryptor = make_encryptor(encryption_key, encryption_key_env)
        self._set_aside: dict[str, str] = {}
        self._set_aside_lock = Lock()

    # -- bytes <-> tasks -------------------------------------------------------------

    def encode_task(self, task: Task) -> bytes:
        """The task's state, serialized (and encrypted with a key); an error names the part
        the serializer cannot take (``args``, ``kwargs``, ``trigger``)."""
        state = task.__getstate__()
        try:
            data = self.serializer.dumps(state)
        except Exception as exc:  # say which part (args, kwargs, trigger) the serializer cannot take
            raise encode_error(self.serializer, state, exc) from exc
        return data if self.encryptor is None else self.encryptor.encrypt(data)

    def restore_task(self, task_id: str, data: bytes | None) -> Task | None:
        """The task, or None after setting it aside (logged, reported, left stored)."""
        if data is None:
            return None
        try:
            if self.encryptor is not None:
                data = self.encryptor.decrypt(bytes(data))
            elif bytes(data[: len(FERNET_PREFIX)]) == FERNET_PREFIX:
                raise DecryptionError("stored state is encrypted, but the store has no encryption key")
            task = Task.from_state(self.serializer.loads(bytes(data)))
        except TaskRestoreError as exc:
            self.set_aside(task_id, exc.reason)
            return None
        except Exception as exc:
            self.set_aside(task_id, f"{type(exc).__name__}: {exc}")
            return None
        if task.id != task_id:
            self.set_aside(task_id, f"stored state belongs to task {task.id!r}")
            return None
        if self._set_aside:
            with self._set_aside_lock:
                self._set_aside.pop(task_id, None)
        task.store_alias = self.alias
        task.scheduler = self.scheduler
        return task

    def restore_rows(self, rows: Iterable[tuple[str, bytes | None]]) -> list[Task]:
        """Restore rows in order; the unrestorable ones are set aside, the rest unaffected."""
        tasks = []
        for task_id, data in rows:
            task = self.restore_task(task_id, data)
            if task is not None:
                tasks.append(task)
        return tasks

    # -- set-aside bookkeeping ------------------------------------------------------

    def set_aside(self, task_id: str, reason: str) -> None:
        """Mark a stored task as unrestorable (``reason`` says why): reads skip it, it is
        logged and reported once as ``TASK_RESTORE_FAILED``, and it stays in the store."""
        with self._set_aside_lock:
            known = self._set_aside.get(task_id) == reason
            self._set_aside[task_id] = reason
        if known:
            return
        logger.error(
            "Store %r: task %r cannot be restored and is set aside (kept in the store, not run): %s",
            self.alias,
            task_id,
            reason,
        )
        if self.scheduler is not None:
            event = TaskRestoreFailedEvent(code=TASK_RESTORE_FAILED, task_id=task_id, store=self.alias, reason=reason)
            self.scheduler.dispatch_event(event)

    def forget_set_aside(self, task_id: str | None = None) -> None:
        """Drop the note about ``task_id`` (all notes when None), e.g. once it is deleted."""
        with self._set_aside_lock:
            if task_id is None:
                self._set_aside.clear()
            else:
                self._set_aside.pop(task_id, None)

    def is_set_aside(self, task_id: str) -> bool:
        """Whether the task was found unrestorable and is kept aside."""
        return task_id in self._set_aside

    def set_aside_count(self) -> int:
        """How many tasks are set aside."""
        return len(self._set_aside)

    def get_set_aside_tasks(self) -> list[SetAsideTask]:
        """Reads the whole store once, so paused and future tasks are checked too."""
        self.get_all_tasks()
        with self._set_aside_lock:
            return [SetAsideTask(task_id, reason) for task_id, reason in sorted(self._set_aside.items())]

    def first_runnable(self, candidates: Iterable[tuple[str, float]]) -> datetime | None:
        """The earliest run time among ``(id, timestamp)`` in order, looking past set-aside tasks."""
        for task_id, timestamp in candidates:
            if task_id not in self._set_aside:
                return from_timestamp(timestamp)
        return None

    # -- connection errors ---------------------------------------------------------

    def connection_error(self, url: str, cause: BaseException) -> StoreConnectionError:
        """The error for a server that cannot be reached; no password ever appears in it."""
        return StoreConnectionError(self.alias or type(self).__name__, mask_url(url), _masked_detail(url, cause))

    def unavailable(self, cause: BaseException, operation: str | None = None) -> StoreUnavailableError:
        """The error for a call whose server went away or did not answer in time."""
        return StoreUnavailableError(
            self.alias or type(self).__name__, mask_url(self.url), _masked_detail(self.url, cause), operation
        )

    def operation_guard(self) -> AbstractContextManager[Any]:
        """Entered around every store operation; a store whose driver cannot time out a
        call by itself returns a guard that does."""
        return nullcontext()


def _masked_detail(url: str, cause: BaseException) -> str:
    """``Type: message`` of ``cause``, with the URL's password (if any) replaced by ``***``."""
    detail = f"{type(cause).__name__}: {cause}".strip()
    try:
        password = urlsplit(url).password
    except ValueError:
        password = None
    for secret in {password, unquote(password)} if password else ():
        detail = detail.replace(secret, "***")
    return detail if len(detail) <= DETAIL_LIMIT else detail[: DETAIL_LIMIT - 3] + "..."
