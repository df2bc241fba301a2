"""Tasks and triggers described in JSON, as the CLI, the REST API and config files give them.

Nothing here is ever unpickled: a function is a ``module:function`` reference that the
scheduler imports, and arguments are plain JSON values.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_validator

from asyncz_like._limits import MAX_PRIORITY, MIN_PRIORITY
from asyncz_like.abc import Trigger
from asyncz_like.exceptions import ArgumentError

if TYPE_CHECKING:
    from asyncz_like.schedulers.base import BaseScheduler
    from asyncz_like.tasks.task import Task

#: ``package.module:attribute.path``
REFERENCE_PATTERN = r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$"
#: combination triggers whose ``triggers`` argument lists other triggers, each given as
#: ``{"trigger": alias, **its arguments}``
COMBINATIONS = ("and", "or")


class TriggerSpec(BaseModel):
    """A trigger by alias with its arguments (``{"trigger": "cron", "trigger_args": {"hour": "9-17"}}``)."""

    model_config = ConfigDict(extra="forbid")

    trigger: str = Field(
        "date",
        min_length=1,
        description="a trigger alias: date, interval, cron, and, or, shutdown, or one a plugin registers",
    )
    trigger_args: dict[str, JsonValue] = Field(
        default_factory=dict,
        description="the trigger's arguments; for 'and'/'or', 'triggers' is a list of {'trigger': alias, ...}",
    )


class TaskSpec(TriggerSpec):
    """Everything ``add_task`` takes, in JSON."""

    func: str = Field(description="the function to run, as 'package.module:function'", examples=["myapp.jobs:report"])
    args: list[JsonValue] = Field(default_factory=list, description="positional arguments (JSON values)")
    kwargs: dict[str, JsonValue] = Field(default_factory=dict, description="keyword arguments (JSON values)")
    id: str | None = Field(None, min_length=1, max_length=191)
    name: str | None = None
    executor: str | None = None
    store: str | None = Field(None, description="the alias of the store to keep the task in")
    replace_existing: bool = False
    paused: bool = Field(False, description="add the task paused (it runs once resumed)")
    coalesce: bool | None = None
    max_instances: int | None = Field(None, ge=1)
    mistrigger_grace_time: float | None = Field(None, ge=0)
    on_interrupted: Literal["report", "rerun"] | None = None
    priority: int | None = Field(
        None,
        ge=MIN_PRIORITY,
        le=MAX_PRIORITY,
        description="when more runs are due than the executor can start, higher goes first (default 0)",
    )
    options: dict[str, JsonValue] = Field(
        default_factory=dict, description="further add_task options, passed on as given"
    )

    @field_validator("func")
    @classmethod
    def _reference(cls, value: str) -> str:
        if not re.match(REFERENCE_PATTERN, value):
            raise ValueError(f"expected 'package.module:function', got {value!r}")
        return value


def build_trigger(scheduler: BaseScheduler, alias: str, args: dict[str, Any], field: str = "trigger_args") -> Trigger:
    """The trigger ``alias`` with ``args`` in the scheduler's zone; the parts of an and/or
    combination are built the same way, and a mistake names where it is."""
    args = dict(args)
    if alias in COMBINATIONS:
        parts = args.get("triggers")
        if not isinstance(parts, list) or not parts:
            raise ArgumentError(f"{field}.triggers", "expected a non-empty list of {'trigger': alias, ...}")
        built = []
        for index, part in enumerate(parts):
            where = f"{field}.triggers[{index}]"
            if isinstance(part, Trigger):
                built.append(part)
                continue
            if not isinstance(part, dict) or not isinstance(part.get("trigger"), str):
                raise ArgumentError(where, "expected {'trigger': alias, ...its arguments}")
            part_args = {key: value for key, value in part.items() if key != "trigger"}
            built.append(build_trigger(scheduler, part["trigger"], part_args, where))
        args["triggers"] = built
    try:
        return scheduler.create_trigger(alias, args)
    except (TypeError, ValueError, LookupError) as exc:
        raise _trigger_error(exc, args, field) from exc


def _trigger_error(exc: Exception, args: dict[str, Any], field: str) -> ArgumentError:
    """Name the spec field at fault: the alias, one of the trigger's arguments, or them all."""
    message = str(exc)
    if isinstance(exc, LookupError) and not isinstance(exc, ArgumentError):
        return ArgumentError("trigger" if field == "trigger_args" else f"{field}.trigger", message)
    argument = getattr(exc, "argument", None) or message.split(":", 1)[0].strip()
    if argument in args:
        problem = message[len(argument) + 1 :].strip() if message.startswith(f"{argument}:") else message
        return ArgumentError(f"{field}.{argument}", problem)
    return ArgumentError(field, message)


def add_from_spec(scheduler: BaseScheduler, spec: TaskSpec) -> Task:
    """``scheduler.add_task`` for a spec; errors name the argument."""
    trigger = build_trigger(scheduler, spec.trigger, spec.trigger_args)
    options: dict[str, Any] = dict(spec.options)
    for key in ("coalesce", "max_instances", "mistrigger_grace_time", "on_interrupted", "priority"):
        value = getattr(spec, key)
        if value is not None:
            options[key] = value
    if spec.paused:
        options["next_run_time"] = None
    add_task: Any = scheduler.add_task
    return add_task(  # type: ignore[no-any-return]
        spec.func,
        trigger,
        args=list(spec.args),
        kwargs=dict(spec.kwargs),
        id=spec.id,
        name=spec.name,
        executor=spec.executor,
        store=spec.store,
        replace_existing=spec.replace_existing,
        **options,
    )


def field_of(exc: BaseException) -> str | None:
    """The request field an error is about (``fn`` is called ``func`` in specs)."""
    argument = getattr(exc, "argument", None)
    if not isinstance(argument, str):
        message = str(exc)
        head = message.split(":", 1)[0] if ":" in message else ""
        argument = head if head and " " not in head else None
    if argument is None:
        return None
    return "func" if argument == "fn" else argument
