"""Typed options for ``add_task``: what a type checker knows about each built-in trigger.

At run time ``add_task`` takes the trigger's options as ``**trigger_args`` and the trigger
refuses what it does not know, which a user meets only when the line runs. Here the same
call is described once per built-in alias (``"date"``, ``"interval"``, ``"cron"``,
``"and"``, ``"or"``, ``"shutdown"``) and for a trigger instance, so that ``mypy`` flags
``add_task(fn, "interval", minuts=5)`` where it is written.

Only type checkers read this: :class:`TypedTaskAPI` adds nothing at run time, and the
implementation stays :meth:`TaskAPI.add_task <asyncz_like.schedulers.task_api.TaskAPI.add_task>`.
Code inside the package that passes a trigger alias it only knows at run time calls
``add_task`` through :class:`~asyncz_like.schedulers.task_api.TaskAPI`, which keeps the
untyped signature.

A third-party trigger (an alias another distribution registers) has no overload here:
type-checked code passes an instance of its class instead, which works the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, tzinfo
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Literal, overload

from typing_extensions import TypedDict, Unpack

from asyncz_like.abc import Trigger
from asyncz_like.schedulers.task_api import TaskAPI
from asyncz_like.tasks.task import Task

#: a duration in seconds (``bool`` is refused at run time)
Seconds = float | Decimal | Fraction
#: a point in time: an aware or naive datetime, a date, or an ISO 8601 string
Moment = datetime | date | str
#: what ``add_task`` runs: a callable, a ``"package.module:name"`` reference, or a Task
Target = Callable[..., Any] | str | Task


class TaskOptions(TypedDict, total=False):
    """The options of ``add_task`` that are not the trigger's (see the concepts page)."""

    fn: Callable[..., Any] | str | None
    id: str | None
    name: str | None
    mistrigger_grace_time: Seconds | None
    coalesce: bool
    max_instances: int
    next_run_time: Moment | None
    store: str | None
    executor: str | None
    replace_existing: bool
    on_interrupted: Literal["report", "rerun"]
    max_retries: int
    retry_delay: Seconds
    retry_backoff: float
    retry_on: type[BaseException] | str | Sequence[type[BaseException] | str] | None
    priority: int


class DateOptions(TaskOptions, total=False):
    """``add_task(fn, "date", ...)``: run once."""

    run_at: Moment | None
    timezone: str | tzinfo | None


class IntervalOptions(TaskOptions, total=False):
    """``add_task(fn, "interval", ...)``: every fixed span of elapsed time."""

    weeks: Seconds
    days: Seconds
    hours: Seconds
    minutes: Seconds
    seconds: Seconds
    start_at: Moment | None
    end_at: Moment | None
    timezone: str | tzinfo | None
    jitter: Seconds | None


class CronOptions(TaskOptions, total=False):
    """``add_task(fn, "cron", ...)``: calendar fields."""

    year: int | str | None
    month: int | str | None
    day: int | str | None
    week: int | str | None
    day_of_week: int | str | None
    hour: int | str | None
    minute: int | str | None
    second: int | str | None
    start_at: Moment | None
    end_at: Moment | None
    timezone: str | tzinfo | None
    jitter: Seconds | None


class CombinationOptions(TaskOptions, total=False):
    """``add_task(fn, "and", ...)`` and ``"or"``: a combination of trigger instances."""

    triggers: Sequence[Trigger]
    jitter: Seconds | None


Args = Sequence[Any] | None
Kwargs = Mapping[str, Any] | None


class TypedTaskAPI(TaskAPI):
    """:class:`~asyncz_like.schedulers.task_api.TaskAPI` as type checkers see it on a
    scheduler: ``add_task`` with one overload per built-in trigger alias. Nothing changes
    at run time."""

    if TYPE_CHECKING:
        # narrower than TaskAPI.add_task on purpose: that is the point of this class
        # fn, "alias", options -------------------------------------------------
        @overload  # type: ignore[override]
        def add_task(
            self, fn_or_task: Target | None = None, trigger: None = None, args: Args = None, kwargs: Kwargs = None,
            **options: Unpack[DateOptions],
        ) -> Task: ...  # fmt: skip
        @overload
        def add_task(
            self, fn_or_task: Target, trigger: Literal["date"], args: Args = None, kwargs: Kwargs = None,
            **options: Unpack[DateOptions],
        ) -> Task: ...  # fmt: skip
        @overload
        def add_task(
            self, fn_or_task: Target, trigger: Literal["interval"], args: Args = None, kwargs: Kwargs = None,
            **options: Unpack[IntervalOptions],
        ) -> Task: ...  # fmt: skip
        @overload
        def add_task(
            self, fn_or_task: Target, trigger: Literal["cron"], args: Args = None, kwargs: Kwargs = None,
            **options: Unpack[CronOptions],
        ) -> Task: ...  # fmt: skip
        @overload
        def add_task(
            self, fn_or_task: Target, trigger: Literal["and", "or"], args: Args = None, kwargs: Kwargs = None,
            **options: Unpack[CombinationOptions],
        ) -> Task: ...  # fmt: skip
        @overload
        def add_task(
            self, fn_or_task: Target, trigger: Literal["shutdown"] | Trigger, args: Args = None,
            kwargs: Kwargs = None, **options: Unpack[TaskOptions],
        ) -> Task: ...  # fmt: skip

        # fn=..., trigger="alias" (the function given by keyword, or not at all) ----
        @overload
        def add_task(
            self, fn_or_task: None = None, *, trigger: Literal["date"], args: Args = None, kwargs: Kwargs = None,
            **options: Unpack[DateOptions],
        ) -> Task: ...  # fmt: skip
        @overload
        def add_task(
            self, fn_or_task: None = None, *, trigger: Literal["interval"], args: Args = None,
            kwargs: Kwargs = None, **options: Unpack[IntervalOptions],
        ) -> Task: ...  # fmt: skip
        @overload
        def add_task(
            self, fn_or_task: None = None, *, trigger: Literal["cron"], args: Args = None, kwargs: Kwargs = None,
            **options: Unpack[CronOptions],
        ) -> Task: ...  # fmt: skip
        @overload
        def add_task(
            self, fn_or_task: None = None, *, trigger: Literal["and", "or"], args: Args = None,
            kwargs: Kwargs = None, **options: Unpack[CombinationOptions],
        ) -> Task: ...  # fmt: skip
        @overload
        def add_task(
            self, fn_or_task: None = None, *, trigger: Literal["shutdown"] | Trigger, args: Args = None,
            kwargs: Kwargs = None, **options: Unpack[TaskOptions],
        ) -> Task: ...  # fmt: skip

        # decorator: @scheduler.add_task("alias", options) --------------------------
        @overload
        def add_task(
            self, fn_or_task: Literal["interval"], *, args: Args = None, kwargs: Kwargs = None,
            **options: Unpack[IntervalOptions],
        ) -> Task: ...  # fmt: skip
        @overload
        def add_task(
            self, fn_or_task: Literal["cron"], *, args: Args = None, kwargs: Kwargs = None,
            **options: Unpack[CronOptions],
        ) -> Task: ...  # fmt: skip
        @overload
        def add_task(
            self, fn_or_task: Literal["and", "or"], *, args: Args = None, kwargs: Kwargs = None,
            **options: Unpack[CombinationOptions],
        ) -> Task: ...  # fmt: skip
        @overload
        def add_task(
            self, fn_or_task: Literal["shutdown"] | Trigger, *, args: Args = None, kwargs: Kwargs = None,
            **options: Unpack[TaskOptions],
        ) -> Task: ...  # fmt: skip
        def add_task(self, *args: Any, **kwargs: Any) -> Task:  # the implementation is TaskAPI's
            return super().add_task(*args, **kwargs)
