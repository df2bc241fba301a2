"""The ``history`` scheduler option: whether runs are recorded, and how long records are kept."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from asyncz_like.exceptions import ArgumentError, ArgumentTypeError
from asyncz_like.history.memory import DEFAULT_MEMORY_LIMIT

#: records kept per task (the newest); older ones are pruned
DEFAULT_KEEP_PER_TASK = 100
#: seconds a record is kept at most (7 days)
DEFAULT_MAX_AGE = 7 * 86_400.0
#: seconds between two prunings of a store's history by one scheduler
DEFAULT_PRUNE_INTERVAL = 60.0
#: records waiting for a store that cannot be reached; beyond this the oldest are dropped
DEFAULT_MAX_PENDING = 10_000


class HistorySettings(BaseModel):
    """``AsyncIOScheduler(history={...})``; ``history=False`` records nothing."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = True
    keep_per_task: int = Field(default=DEFAULT_KEEP_PER_TASK, ge=1, le=1_000_000)
    #: seconds; None keeps records until ``keep_per_task`` pushes them out
    max_age: float | None = Field(default=DEFAULT_MAX_AGE, gt=0, le=10 * 365.25 * 86_400)
    prune_interval: float = Field(default=DEFAULT_PRUNE_INTERVAL, gt=0, le=86_400)
    max_pending: int = Field(default=DEFAULT_MAX_PENDING, ge=1, le=10_000_000)
    #: records a store without history of its own (the memory store) keeps in this process
    memory_limit: int = Field(default=DEFAULT_MEMORY_LIMIT, ge=1, le=10_000_000)


def history_settings(value: Any) -> HistorySettings:
    """``True``/``None``: the defaults; ``False``: off; a dict or HistorySettings: as given.
    Errors name the option (``history.keep_per_task: ...``)."""
    if value is None or value is True:
        return HistorySettings()
    if value is False:
        return HistorySettings(enabled=False)
    if isinstance(value, HistorySettings):
        return value
    if not isinstance(value, dict):
        raise ArgumentTypeError("history", f"expected True, False or a dict of settings, got {type(value).__name__}")
    if isinstance(value.get("enabled"), str):  # flat config files give strings
        from asyncz_like.schedulers.config import as_bool

        value = {**value, "enabled": as_bool(value["enabled"], "history.enabled")}
    try:
        return HistorySettings(**value)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error["loc"])
        raise ArgumentError(f"history.{field}", f"{error['msg']}, got {error.get('input')!r}") from None


__all__ = ["HistorySettings", "history_settings"]
