"""Filtering and sorting task snapshots for ``get_task_infos``."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from asyncz_like.tasks.info import TaskInfo, TaskScheduleState

_LAST = datetime.max.timestamp()

SORTERS: dict[str, Callable[[TaskInfo], Any]] = {
    "id": lambda info: info.id or "",
    "name": lambda info: (info.name or "").lower(),
    "next_run_time": lambda info: (
        info.next_run_time is None,
        info.next_run_time.timestamp() if info.next_run_time else _LAST,
    ),
    "schedule_state": lambda info: info.schedule_state.value,
    "executor": lambda info: info.executor or "",
    "store": lambda info: info.store_alias or "",
    "trigger": lambda info: info.trigger_alias or info.trigger_name or "",
}


def parse_state(value: TaskScheduleState | str | None) -> TaskScheduleState | None:
    if value is None or isinstance(value, TaskScheduleState):
        return value
    try:
        return TaskScheduleState(str(value).strip().lower())
    except ValueError:
        allowed = ", ".join(state.value for state in TaskScheduleState)
        raise ValueError(f"schedule_state: {value!r} is not one of {allowed}") from None


def _haystack(info: TaskInfo) -> str:
    fields = (
        info.id,
        info.name,
        info.callable_name,
        info.callable_reference,
        info.trigger_alias,
        info.trigger_name,
        info.trigger_description,
        info.executor,
        info.store_alias,
        info.schedule_state.value,
    )
    return " ".join(field for field in fields if field).lower()


def select(
    infos: Iterable[TaskInfo],
    *,
    schedule_state: TaskScheduleState | str | None,
    executor: str | None,
    trigger: str | None,
    q: str | None,
    sort_by: str,
    descending: bool,
) -> list[TaskInfo]:
    sorter = SORTERS.get(sort_by)
    if sorter is None:
        raise ValueError(f"sort_by: {sort_by!r} is not one of {', '.join(SORTERS)}")
    state = parse_state(schedule_state)
    needle = q.strip().lower() if q else None
    chosen = [
        info
        for info in infos
        if (state is None or info.schedule_state is state)
        and (executor is None or info.executor == executor)
        and (trigger is None or trigger in (info.trigger_alias, info.trigger_name))
        and (not needle or needle in _haystack(info))
    ]
    chosen.sort(key=sorter, reverse=descending)
    return chosen
