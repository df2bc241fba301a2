"""Retries: the task options, their checks, and the pending retry a task carries.

A failed run with attempts left makes the task carry a :class:`PendingRetry`: which attempt
comes next, of which run time, when, and the task's *regular* next run time. While it is
pending, the task's stored ``next_run_time`` is the earlier of the two, so the retry is
claimed and run like any due run: by exactly one scheduler on a shared store, and after a
restart as well. The pass takes the retry aside (:func:`take_retry`), works on the regular
schedule as before, and puts it back (:func:`put_retry`) if it is not due yet; a retry
therefore never moves the regular schedule.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from asyncz_like._callables import reference_of, resolve_reference
from asyncz_like._limits import MAX_SECONDS, shorten, to_seconds
from asyncz_like._undefined import undefined
from asyncz_like.exceptions import ArgumentError, ArgumentTypeError

if TYPE_CHECKING:
    from asyncz_like.tasks.task import Task

#: the most retries a task may ask for
MAX_RETRIES = 1_000
#: the largest backoff factor (each retry waits at most this many times longer than the one before)
MAX_BACKOFF = 100.0
#: the options ``add_task`` takes for retries, with their defaults
RETRY_DEFAULTS: dict[str, Any] = {"max_retries": 0, "retry_delay": 1.0, "retry_backoff": 1.0, "retry_on": None}


class PendingRetry(NamedTuple):
    """The next attempt of a failed run, kept with the task (and stored with it)."""

    #: the attempt this retry is (2 for the first retry)
    attempt: int
    #: the run time of the run being repeated (records and events show it)
    run_time: datetime
    #: when the attempt is due
    retry_at: datetime
    #: the task's regular next run time, which the retry does not move
    regular_next: datetime | None

    def state(self) -> dict[str, Any]:
        """Plain data for the stored task state."""
        return {
            "attempt": self.attempt,
            "run_time": self.run_time,
            "retry_at": self.retry_at,
            "regular_next": self.regular_next,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any] | None) -> PendingRetry | None:
        if not state:
            return None
        return cls(state["attempt"], state["run_time"], state["retry_at"], state["regular_next"])


# -- the options, checked where they are given ----------------------------------------------


def retry_options(options: dict[str, Any], defaults: dict[str, Any], *given: Any) -> None:
    """Put the retry options ``add_task`` was given (``undefined``: the scheduler's default) in
    ``options``, leaving out those at the built-in default: a task that does not retry pays
    nothing for checking them."""
    for (key, default), value in zip(RETRY_DEFAULTS.items(), given, strict=True):
        if value is undefined:
            value = defaults.get(key, default)
        if value is not default:
            options[key] = value


def check_max_retries(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ArgumentTypeError("max_retries", f"expected a whole number of retries, got {shorten(value)}")
    if not 0 <= value <= MAX_RETRIES:
        raise ArgumentError("max_retries", f"must be between 0 and {MAX_RETRIES}, got {value!r}")
    return value


def check_retry_delay(value: Any) -> float:
    return to_seconds(value, "retry_delay")


def check_retry_backoff(value: Any) -> float:
    factor = to_seconds(value, "retry_backoff", maximum=MAX_BACKOFF, unit="(factor)")
    if factor < 1:
        raise ArgumentError("retry_backoff", f"must be at least 1 (1 waits retry_delay every time), got {value!r}")
    return factor


def check_retry_on(value: Any) -> tuple[type[BaseException], ...] | None:
    """None (every ``Exception``), an exception class, a ``"module:Class"`` reference, or a
    list or tuple of them."""
    if value is None:
        return None
    items = list(value) if isinstance(value, (list, tuple)) else [value]
    if not items:
        raise ArgumentError("retry_on", "an empty list retries nothing; give max_retries=0 instead")
    classes = []
    for item in items:
        cls = resolve_reference(item, "retry_on") if isinstance(item, str) else item
        if not (isinstance(cls, type) and issubclass(cls, BaseException)):
            raise ArgumentTypeError("retry_on", f"expected exception classes, got {shorten(item)}")
        classes.append(cls)
    return tuple(classes)


def retry_on_references(classes: Sequence[type[BaseException]] | None, task_id: str | None) -> list[str] | None:
    """``retry_on`` as import references, for the stored state (classes survive any serializer)."""
    if classes is None:
        return None
    references = []
    for cls in classes:
        reference = reference_of(cls)  # type: ignore[arg-type]
        if reference is None:
            raise ArgumentTypeError(
                "retry_on",
                f"task {task_id!r}: {cls.__qualname__} has no importable 'module:Class' reference (a class "
                "defined inside a function?), so the task cannot be stored persistently",
            )
        references.append(reference)
    return references


def retry_on_classes(references: list[str] | None) -> tuple[type[BaseException], ...] | None:
    return None if references is None else tuple(resolve_reference(ref, "retry_on") for ref in references)


# -- the pending retry on a task ----------------------------------------------------------


def take_retry(task: Task) -> PendingRetry | None:
    """Set the task's pending retry aside: ``task.next_run_time`` is its regular schedule again."""
    pending = task.retry
    if pending is not None:
        task.retry = None
        task.next_run_time = pending.regular_next
    return pending


def put_retry(task: Task, pending: PendingRetry) -> None:
    """Make ``pending`` the task's retry; ``task.next_run_time`` (its regular schedule) stays
    as the regular next run time, and the task is due at the earlier of the two."""
    regular = task.next_run_time
    task.retry = pending._replace(regular_next=regular)
    task.next_run_time = pending.retry_at if regular is None or pending.retry_at < regular else regular


def set_regular_next(task: Task, regular: datetime | None) -> None:
    """Move the task's regular schedule to ``regular``; a pending retry stays pending."""
    task.next_run_time = regular
    if task.retry is not None:
        put_retry(task, task.retry)


def schedule_retry(task: Task, attempt: int, run_time: datetime, retry_at: datetime) -> None:
    """A run failed and ``attempt`` comes next at ``retry_at``; replaces a retry still pending."""
    take_retry(task)
    put_retry(task, PendingRetry(attempt, run_time, retry_at, None))


def retry_delay(task: Task, failed_attempt: int) -> float:
    """Seconds before the attempt after ``failed_attempt``: ``retry_delay * retry_backoff **
    (failed_attempt - 1)``, at most 10 years."""
    try:
        delay = task.retry_delay * task.retry_backoff ** (failed_attempt - 1)
    except OverflowError:
        return MAX_SECONDS
    return min(delay, MAX_SECONDS)


def retries_left(task: Task, failed_attempt: int, exc: BaseException | None) -> int:
    """How many attempts may still follow ``failed_attempt`` (0: this failure is final)."""
    left = task.max_retries + 1 - failed_attempt
    if left <= 0:
        return 0
    allowed = task.retry_on
    if allowed is None:
        return left if isinstance(exc, Exception) else 0
    return left if isinstance(exc, allowed) else 0


__all__ = ["RETRY_DEFAULTS", "PendingRetry", "put_retry", "schedule_retry", "set_regular_next", "take_retry"]
