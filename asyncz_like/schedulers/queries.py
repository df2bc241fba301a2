"""Filtering and sorting task snapshots for ``get_task_infos``."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from asyncz_like.tasks.info import TaskInfo, TaskScheduleState

_LAST = datetime.max.timestamp()


def _by_id(info: TaskInfo) -> tuple[str, str]:
    """The last sort key of every order: ties are listed by id, so a listing is stable."""
    return ((info.id or "").lower(), info.id or "")


def _run_time(info: TaskInfo) -> tuple[bool, float]:
    return (info.next_run_time is None, info.next_run_time.timestamp() if info.next_run_time else _LAST)


#: the same orders as asyncz's ``get_task_infos``, each ending in the id
SORTERS: dict[str, Callable[[TaskInfo], Any]] = {
    "id": _by_id,
    "name": lambda info: ((info.name or "").lower(), _by_id(info)),
    "next_run_time": lambda info: (_run_time(info), (info.name or "").lower(), _by_id(info)),
    "schedule_state": lambda info: (info.schedule_state.value, _run_time(info), _by_id(info)),
    "executor": lambda info: ((info.executor or "").lower(), _by_id(info)),
    "store": lambda info: ((info.store_alias or "").lower(), _by_id(info)),
    "trigger": lambda info: ((info.trigger_alias or info.trigger_name or "").lower(), _by_id(info)),
    # the order in which due runs are taken: the highest priority first, then the earliest
    "priority": lambda info: (-info.priority, _run_time(info), _by_id(info)),
}


def _trigger_matches(info: TaskInfo, wanted: str) -> bool:
    """``trigger=`` names an alias (``"cron"``) or a class (``"CronTrigger"``), in any case."""
    return wanted in ((info.trigger_alias or "").lower(), (info.trigger_name or "").lower())


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
    wanted_trigger = trigger.strip().lower() if trigger else None
    chosen = [
        info
        for info in infos
        if (state is None or info.schedule_state is state)
        and (executor is None or info.executor == executor)
        and (wanted_trigger is None or _trigger_matches(info, wanted_trigger))
        and (not needle or needle in _haystack(info))
    ]
    chosen.sort(key=sorter, reverse=descending)
    return chosen
