"""Run records: what one outcome of one run looks like, stored and read back.

Inside the scheduler and in the stores a record is a plain dict of JSON-safe values
(timestamps as float UTC seconds), built once per outcome on the fire path, where a
pydantic model would cost more than the run it describes. Readers get
:class:`RunRecord`, the typed, immutable model, built at the edge (``get_run_history``).
"""

from __future__ import annotations

import itertools
import reprlib
import secrets
from datetime import datetime, timezone
from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict

#: how much of an exception's message, its traceback and a return value's repr a record keeps
MESSAGE_LIMIT = 1_000
TRACEBACK_LIMIT = 4_000
RETURN_VALUE_LIMIT = 200
#: a heartbeat expired for this long is deleted (its scheduler is long gone)
STALE_BEAT_SECONDS = 3_600.0

#: every field a stored record has, in the order the stores keep them
FIELDS = (
    "run_id",
    "task_id",
    "task_name",
    "scheduled_run_time",
    "started_at",
    "finished_at",
    "duration",
    "outcome",
    "attempt",
    "scheduler_id",
    "exception_type",
    "exception_message",
    "traceback",
    "return_value",
    "retry_at",
)
TIME_FIELDS = ("scheduled_run_time", "started_at", "finished_at", "retry_at")
#: on the fire path a record is a tuple of FIELDS, in order (cheaper than a dict); these index it
Row = tuple[Any, ...]
RUN_ID, TASK_ID, FINISHED, OUTCOME = 0, 1, 5, 7


def as_dict(row: Row) -> dict[str, Any]:
    return dict(zip(FIELDS, row, strict=True))


class RunOutcome(str, Enum):
    """How a run ended, or why it did not happen."""

    #: the function returned
    EXECUTED = "executed"
    #: the function raised and no further attempt follows
    ERROR = "error"
    #: the function raised and another attempt is scheduled (``retry_at``)
    RETRIED = "retried"
    #: the run was later than the task's ``mistrigger_grace_time`` and was not run
    MISSED = "missed"
    #: ``max_instances`` runs of the task were already in flight, so this one was skipped
    SKIPPED = "skipped"
    #: the scheduler that claimed the run died; ``on_interrupted="report"`` did not run it again
    ABANDONED = "abandoned"

    def __str__(self) -> str:
        return self.value


OUTCOMES = frozenset(outcome.value for outcome in RunOutcome)


class RunRecord(BaseModel):
    """One outcome of one run, as every scheduler sharing the store recorded it."""

    model_config = ConfigDict(frozen=True)

    run_id: str
    task_id: str
    task_name: str | None = None
    #: the alias of the store it was read from (in this scheduler)
    store: str | None = None
    #: the run time the trigger gave; a retry keeps the run time of the run it repeats
    scheduled_run_time: datetime | None = None
    started_at: datetime | None = None
    #: when the outcome was known (the end of the run, or when it was missed or skipped)
    finished_at: datetime
    #: seconds from start to end
    duration: float | None = None
    outcome: RunOutcome
    #: 1 for the first attempt of a run time, 2 for its first retry, ...
    attempt: int = 1
    scheduler_id: str | None = None
    exception_type: str | None = None
    exception_message: str | None = None
    #: the end of the traceback (the frames nearest the error), at most TRACEBACK_LIMIT characters
    traceback: str | None = None
    #: a short repr of what the function returned
    return_value: str | None = None
    #: for ``retried``: when the next attempt is due
    retry_at: datetime | None = None

    @classmethod
    def from_stored(cls, data: dict[str, Any], store: str | None = None) -> RunRecord:
        """The record a store returned (times as float UTC seconds), read from store ``store``."""
        values: dict[str, Any] = {name: data.get(name) for name in FIELDS}
        for name in TIME_FIELDS:
            if values[name] is not None:
                values[name] = datetime.fromtimestamp(float(values[name]), timezone.utc)
        values["store"] = store
        return cls(**values)


_short = reprlib.Repr()
_short.maxstring = RETURN_VALUE_LIMIT
_short.maxother = RETURN_VALUE_LIMIT
_short.maxlong = 60


def short_repr(value: Any) -> str | None:
    """A bounded repr of a return value: ``reprlib`` never builds the repr of a huge list."""
    if value is None:
        return None
    try:
        text = _short.repr(value)
    except Exception:
        text = f"<{type(value).__name__} without a repr>"
    return text if len(text) <= RETURN_VALUE_LIMIT else text[: RETURN_VALUE_LIMIT - 3] + "..."


def trim_message(exc: BaseException | None) -> str | None:
    if exc is None:
        return None
    try:
        text = str(exc)
    except Exception:
        text = f"<{type(exc).__name__} without a message>"
    return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 3] + "..."


def trim_traceback(text: str | None) -> str | None:
    """The end of a traceback: the frames nearest the error and the error line itself."""
    if text is None or len(text) <= TRACEBACK_LIMIT:
        return text
    return "...\n" + text[-(TRACEBACK_LIMIT - 4) :]


def exception_type(exc: BaseException | None) -> str | None:
    if exc is None:
        return None
    cls = type(exc)
    return cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"


class RunIds:
    """Unique run ids, cheaply: a random prefix per scheduler and a counter (no uuid per run)."""

    def __init__(self) -> None:
        self.prefix = secrets.token_hex(6)
        self._counter = itertools.count(2**36)  # ids keep one length (and order) for 2**39 runs

    def __call__(self) -> str:
        return self.prefix + hex(next(self._counter))  # hex() is cheaper than formatting


def timestamp(value: datetime | None) -> float | None:
    return None if value is None else value.timestamp()


__all__ = ["FIELDS", "OUTCOMES", "RunIds", "RunOutcome", "RunRecord", "short_repr"]
