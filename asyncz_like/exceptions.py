"""Every error the library raises on purpose, so callers can catch ours apart from others."""

from __future__ import annotations

from typing import Any


class AsynczException(Exception):
    """Base of every asyncz_like error."""


class SchedulerAlreadyRunningError(AsynczException, RuntimeError):
    """The operation needs a stopped scheduler (``setup`` on a running one raises it)."""

    def __init__(self) -> None:
        super().__init__("The scheduler is already running.")


class SchedulerNotRunningError(AsynczException, RuntimeError):
    """The operation needs a started scheduler (``pause``, ``resume``, ``run_task``, ``shutdown``)."""

    def __init__(self) -> None:
        super().__init__("The scheduler has not been started.")


class TaskLookupError(AsynczException, KeyError):
    """No task has this id (in the store asked, or in any). A ``KeyError``, as in asyncz."""

    def __init__(self, task_id: str | None) -> None:
        super().__init__(f"No task by the id of {task_id!r} was found.")
        self.task_id = task_id

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0])


class ConflictIdError(AsynczException, KeyError):
    """A task with this id is already stored; pass ``replace_existing=True`` to update it."""

    def __init__(self, task_id: str | None) -> None:
        super().__init__(f"Task identifier {task_id!r} conflicts with an existing task.")
        self.task_id = task_id

    def __str__(self) -> str:
        return str(self.args[0])


class MaximumInstancesError(AsynczException):
    """The task already has ``max_instances`` runs in flight; this run was not started."""

    def __init__(self, task_id: str | None, max_instances: int) -> None:
        super().__init__(f"Task {task_id!r} has already reached its maximum number of instances ({max_instances}).")
        self.task_id = task_id
        self.max_instances = max_instances


class TaskRestoreError(AsynczException):
    """A stored task could not be turned back into a Task (corrupt data, missing code, wrong key)."""

    def __init__(self, task_id: str | None, reason: str) -> None:
        super().__init__(f"Task {task_id!r} could not be restored: {reason}")
        self.task_id = task_id
        self.reason = reason


class DecryptionError(AsynczException):
    """Stored state was encrypted with a different key, or was tampered with."""


class ReferenceLookupError(AsynczException, LookupError):
    """A ``"package.module:name"`` reference that finds nothing: a ``LookupError``, as asyncz raises."""


class ReferenceImportError(ReferenceLookupError, ImportError):
    """The reference's module cannot be imported (so also an ``ImportError``)."""


class ReferenceAttributeError(ReferenceLookupError, AttributeError):
    """The reference's module has no such name (so also an ``AttributeError``)."""


class UnknownTaskOptionError(AsynczException, TypeError, AttributeError):
    """A change to a field a task does not have: an ``AttributeError``, as asyncz raises, and
    a ``TypeError``, as Python raises for an unexpected keyword argument."""


class StoreFormatError(AsynczException, RuntimeError):
    """A store holds data this version cannot use as it is (tasks written by asyncz, a table
    of an older schema that cannot be upgraded in place); the message says how to convert it."""


class StoreConnectionError(AsynczException, ConnectionError):
    """A store could not reach its server; the message names the store and its (masked) URL."""

    def __init__(self, store: str, url: str, cause: Any = None) -> None:
        detail = f": {cause}" if cause is not None else ""
        super().__init__(f"Store {store!r} could not connect to {url}{detail}")
        self.store = store
        self.url = url

    def __reduce__(self) -> tuple[Any, ...]:  # picklable despite the three-argument __init__
        return (type(self), (self.store, self.url), {"args": self.args})


class StoreUnavailableError(StoreConnectionError):
    """A store call failed because its server went away, did not answer within the store's
    timeout, or broke the connection. The store stays usable: it reconnects on a later call."""

    def __init__(self, store: str, url: str, cause: Any = None, operation: str | None = None) -> None:
        super().__init__(store, url, cause)
        during = f" during {operation}" if operation else ""
        detail = f": {cause}" if cause is not None else ""
        self.args = (f"Store {store!r} at {url} is unavailable{during}{detail}",)
        self.operation = operation

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.store, self.url, None, self.operation), {"args": self.args})


class ArgumentError(AsynczException, ValueError):
    """An argument with a value the library cannot accept; the message starts with its name."""

    def __init__(self, argument: str, problem: str) -> None:
        super().__init__(f"{argument}: {problem}")
        self.argument = argument
        self.problem = problem

    def __reduce__(self) -> tuple[Any, ...]:  # picklable despite the two-argument __init__
        return (type(self), (self.argument, self.problem))


class ArgumentTypeError(ArgumentError, TypeError):
    """An argument of the wrong type: a ``TypeError`` (as asyncz raises) and, like every
    ``ArgumentError``, a ``ValueError`` (as earlier releases raised for some of them)."""


class _AliasLookupError(AsynczException, KeyError):
    """A plugin alias that names nothing; a ``KeyError`` (hence ``LookupError``) as in asyncz."""

    kind = ""

    def __init__(self, alias: str | None, known: list[str], task_id: str | None = None) -> None:
        missing = f"there is no {self.kind} {alias!r}"
        if task_id is not None:
            missing = f"task {task_id!r} names the {self.kind} {alias!r}, which does not exist"
        super().__init__(
            f"{self.kind}: {missing}; known {self.kind}s: {', '.join(repr(name) for name in known) or 'none'}"
        )
        self.alias = alias
        self.known = known
        self.task_id = task_id

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0])

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.alias, self.known, self.task_id))


class ExecutorLookupError(_AliasLookupError):
    """A task names an executor alias the scheduler does not have."""

    kind = "executor"


class StoreLookupError(_AliasLookupError):
    """A task names a store alias the scheduler does not have."""

    kind = "store"
