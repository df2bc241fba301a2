"""The task commands: list, show, add, pause, resume, run-now, reschedule, delete, history, health."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import click

from asyncz_like._time import to_datetime
from asyncz_like.cli import output
from asyncz_like.cli.app import cli
from asyncz_like.cli.errors import ExitCode
from asyncz_like.cli.session import Session, parse_json, parse_pairs, store_command
from asyncz_like.operations.client import StoreClient
from asyncz_like.operations.features import health_status
from asyncz_like.operations.specs import TaskSpec, TriggerSpec
from asyncz_like.schedulers.queries import SORTERS
from asyncz_like.tasks.info import TaskInfo, TaskScheduleState

STATES = [state.value for state in TaskScheduleState]
#: more items than this show a progress bar (on a terminal)
PROGRESS_FROM = 2


def _filters(func: Callable[..., Any]) -> Callable[..., Any]:
    """The filters of ``get_task_infos``."""
    for decorate in reversed(
        [
            click.option("--state", type=click.Choice(STATES), help="Only tasks in this state."),
            click.option("--executor", help="Only tasks on this executor alias."),
            click.option("--trigger", help="Only tasks with this trigger (alias or class name)."),
            click.option("-q", "--query", help="Free text, matched in id, name, function, trigger, ..."),
            click.option("--in-store", "in_store", metavar="ALIAS", help="Only tasks of this store alias."),
        ]
    ):
        func = decorate(func)
    return func


def _filter_args(
    state: str | None, executor: str | None, trigger: str | None, query: str | None, in_store: str | None
) -> dict[str, Any]:
    return {"store": in_store, "schedule_state": state, "executor": executor, "trigger": trigger, "q": query}


# -- reading ---------------------------------------------------------------------


@cli.command("list")
@store_command
@_filters
@click.option("--sort-by", type=click.Choice(list(SORTERS)), default="next_run_time", show_default=True)
@click.option("--descending", is_flag=True, help="Reverse the order.")
def list_tasks(session: Session, sort_by: str, descending: bool, **filters: Any) -> int:
    """List tasks, filtered, searched and sorted."""
    with session.client() as client:
        infos = client.list_tasks(**_filter_args(**filters), sort_by=sort_by, descending=descending)
        aside = client.set_aside()
        last = client.last_outcomes() if client.describe()["features"]["history"] else None
    if session.as_json:
        tasks = []
        for info in infos:
            data = output.task_json(info)
            if last is not None:
                record = last.get(info.id or "")
                data["last_outcome"] = record.get("outcome") if record else None
            tasks.append(data)
        output.echo_json({"tasks": tasks, "set_aside": aside})
        return ExitCode.OK
    if infos:
        click.echo(output.task_table(infos, last))
    else:
        click.echo("no tasks", err=True)
    for item in aside:
        click.echo(f"set aside in store {item['store']!r}: {item['id']} ({item['reason']})", err=True)
    return ExitCode.OK


@cli.command("show")
@store_command
@click.argument("task_id")
def show(session: Session, task_id: str) -> int:
    """Show one task."""
    with session.client() as client:
        info = client.get(task_id)
    _print_task(session, info)
    return ExitCode.OK


def _print_task(session: Session, info: TaskInfo) -> None:
    if session.as_json:
        output.echo_json(output.task_json(info))
    else:
        click.echo(output.task_details(info))


@cli.command("history")
@store_command
@click.argument("task_id", required=False)
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@click.option("--outcome", help="Only runs with this outcome (executed, error, missed, ...).")
@click.option("--since", metavar="ISO-TIME", help="Only runs since then, e.g. 2026-03-01T00:00:00+00:00.")
def history(session: Session, task_id: str | None, limit: int, outcome: str | None, since: str | None) -> int:
    """Show run history, newest first (of one task, or of all)."""
    with session.client() as client:
        since_time = _since(since, client)
        records = client.history(task_id, limit, outcome, since_time)
    if session.as_json:
        output.echo_json(records)
    elif records:
        click.echo(output.history_table(records))
    else:
        click.echo("no runs recorded", err=True)
    return ExitCode.OK


def _since(text: str | None, client: StoreClient) -> datetime | None:
    if text is None:
        return None
    try:
        return to_datetime(text, client.scheduler.timezone, "--since")
    except ValueError as exc:
        raise click.BadParameter(str(exc).removeprefix("--since: "), param_hint="--since") from None


@cli.command("health")
@store_command
@click.option("--strict", is_flag=True, help="Exit 1 when degraded too, not only when failing.")
def health(session: Session, strict: bool) -> int:
    """Show the health report; exit 1 when failing."""
    with session.client() as client:
        report = client.health()
    if session.as_json:
        output.echo_json(report)
    else:
        click.echo(output.mapping(report))
    status = health_status(report)
    return ExitCode.FAILED if status == "failing" or (strict and status == "degraded") else ExitCode.OK


# -- changing --------------------------------------------------------------------


@cli.command("add")
@store_command
@click.argument("func")
@click.argument("trigger", default="date")
@click.option("-t", "--trigger-arg", multiple=True, metavar="KEY=VALUE", help="A trigger argument, e.g. -t seconds=30.")
@click.option("--arg", "arg", multiple=True, metavar="VALUE", help="A positional argument (JSON or text); repeatable.")
@click.option("--args", "args_json", metavar="JSON", help="All positional arguments as a JSON list.")
@click.option("--kwarg", multiple=True, metavar="KEY=VALUE", help="A keyword argument (JSON or text); repeatable.")
@click.option("--kwargs", "kwargs_json", metavar="JSON", help="All keyword arguments as a JSON object.")
@click.option("--id", "task_id", help="The task id (default: a random one).")
@click.option("--name", help="A readable name.")
@click.option("--executor", help="The executor alias the task runs on.")
@click.option("--to-store", "to_store", metavar="ALIAS", help="The store alias to keep it in (with --config).")
@click.option("--replace", is_flag=True, help="Replace a task with the same id.")
@click.option("--paused", is_flag=True, help="Add it paused.")
@click.option("--coalesce/--no-coalesce", default=None, help="Run once for several missed run times.")
@click.option("--max-instances", type=int, help="How many runs of it may be in flight at once.")
@click.option("--grace-time", type=float, help="Seconds a run may be late (mistrigger_grace_time).")
@click.option("--priority", type=int, help="When more runs are due than can start, higher goes first (default 0).")
@click.option("-o", "--option", "extra", multiple=True, metavar="KEY=VALUE", help="Another add_task option.")
def add(
    session: Session,
    func: str,
    trigger: str,
    trigger_arg: tuple[str, ...],
    arg: tuple[str, ...],
    args_json: str | None,
    kwarg: tuple[str, ...],
    kwargs_json: str | None,
    task_id: str | None,
    name: str | None,
    executor: str | None,
    to_store: str | None,
    replace: bool,
    paused: bool,
    coalesce: bool | None,
    max_instances: int | None,
    grace_time: float | None,
    priority: int | None,
    extra: tuple[str, ...],
) -> int:
    """Add a task running FUNC ('package.module:function') on TRIGGER (date, interval, cron, ...).

    \b
    asyncz-like add myapp.jobs:report cron -t hour=9 -t minute=30 --id daily-report
    asyncz-like add myapp.jobs:ping interval -t seconds=30 --arg example.com
    asyncz-like add myapp.jobs:once date -t run_at=2026-05-01T08:00:00+02:00
    """
    args = list(parse_json(args_json, "--args", list) or []) + [_value(item) for item in arg]
    kwargs = {**(parse_json(kwargs_json, "--kwargs", dict) or {}), **parse_pairs(kwarg, "--kwarg")}
    spec = TaskSpec.model_validate(
        {
            "func": func,
            "trigger": trigger,
            "trigger_args": parse_pairs(trigger_arg, "--trigger-arg"),
            "args": args,
            "kwargs": kwargs,
            "id": task_id,
            "name": name,
            "executor": executor,
            "store": to_store,
            "replace_existing": replace,
            "paused": paused,
            "coalesce": coalesce,
            "max_instances": max_instances,
            "mistrigger_grace_time": grace_time,
            "priority": priority,
            "options": parse_pairs(extra, "--option"),
        }
    )
    with session.client() as client:
        info = client.add(spec)
    _print_task(session, info)
    return ExitCode.OK


def _value(text: str) -> Any:
    from asyncz_like.cli.session import parse_value

    return parse_value(text)


@cli.command("reschedule")
@store_command
@click.argument("task_id")
@click.argument("trigger")
@click.option("-t", "--trigger-arg", multiple=True, metavar="KEY=VALUE", help="A trigger argument, e.g. -t hour=6.")
def reschedule(session: Session, task_id: str, trigger: str, trigger_arg: tuple[str, ...]) -> int:
    """Give a task a new trigger; its next run follows from it."""
    spec = TriggerSpec.model_validate({"trigger": trigger, "trigger_args": parse_pairs(trigger_arg, "--trigger-arg")})
    with session.client() as client:
        info = client.reschedule(task_id, spec)
    _print_task(session, info)
    return ExitCode.OK


def _bulk(
    session: Session,
    verb: str,
    ids: Sequence[str],
    select_all: bool,
    filters: dict[str, Any],
    action: Callable[[StoreClient, str], TaskInfo | None],
    yes: bool,
) -> int:
    """Apply ``action`` to each id (or each task the filters select with ``--all``), with a
    progress bar for many; the first failure stops and is reported."""
    with session.client() as client:
        if select_all:
            if ids:
                raise click.UsageError("give task ids or --all, not both")
            targets = [info.id for info in client.list_tasks(**_filter_args(**filters)) if info.id]
        else:
            if any(value is not None for value in filters.values()):
                raise click.UsageError("the filters (--state, -q, ...) select tasks only with --all")
            if not ids:
                raise click.UsageError(f"name the tasks to {verb}, or pass --all")
            targets = list(ids)
        if verb == "delete" and not _confirmed(targets, yes):
            raise click.exceptions.Abort()
        done: list[dict[str, Any]] = []
        with (
            click.progressbar(targets, label=f"{verb}", file=sys.stderr, show_pos=True)
            if len(targets) >= PROGRESS_FROM and sys.stderr.isatty()
            else _plain(targets) as items
        ):
            for task_id in items:
                info = action(client, task_id)
                done.append({"id": task_id, "task": output.task_json(info) if info is not None else None})
    past = {"pause": "paused", "resume": "resumed", "delete": "deleted"}[verb]
    if session.as_json:
        output.echo_json({past: done})
    else:
        for item in done:
            note = "" if item["task"] is not None or verb == "delete" else " (nothing left to run: removed)"
            click.echo(f"{past} {item['id']}{note}")
    return ExitCode.OK


class _plain:
    """Iterates without a progress bar (one item, or output that is not a terminal)."""

    def __init__(self, items: list[str]) -> None:
        self.items = items

    def __enter__(self) -> list[str]:
        return self.items

    def __exit__(self, *exc_info: object) -> None:
        return None


def _confirmed(targets: list[str], yes: bool) -> bool:
    if yes:
        return True
    if not sys.stdin.isatty():
        raise click.UsageError("refusing to delete without --yes: standard input is not a terminal to confirm on")
    what = targets[0] if len(targets) == 1 else f"{len(targets)} tasks"
    return click.confirm(f"Delete {what}?", default=False, err=True)


def _bulk_command(verb: str, action: Callable[[StoreClient, str], TaskInfo | None], summary: str) -> None:
    def command(
        session: Session, task_ids: tuple[str, ...], select_all: bool, yes: bool = False, **filters: Any
    ) -> int:
        return _bulk(session, verb, task_ids, select_all, filters, action, yes)

    decorators: list[Any] = [
        cli.command(verb, help=summary),
        store_command,
        click.argument("task_ids", nargs=-1, metavar="[TASK_ID]..."),
        click.option("--all", "select_all", is_flag=True, help="Every task the filters select."),
        _filters,
    ]
    if verb == "delete":
        decorators.append(click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation."))
    decorated: Any = command
    for decorate in reversed(decorators):
        decorated = decorate(decorated)


def _delete(client: StoreClient, task_id: str) -> None:
    client.delete(task_id)


_bulk_command("pause", StoreClient.pause, "Pause tasks: they keep their trigger but do not run.")
_bulk_command("resume", StoreClient.resume, "Resume paused tasks from now on.")
_bulk_command("delete", _delete, "Delete tasks (asks first; --yes to skip the question).")


@cli.command("run-now")
@store_command
@click.argument("task_id")
def run_now(session: Session, task_id: str) -> int:
    """Run a task now, here, and report its outcome (exit 1 if it raised).

    Its due run times are used, or one run now; the schedule is kept otherwise.
    """
    executor_log = logging.getLogger("asyncz_like.executors")
    level = executor_log.level
    executor_log.setLevel(logging.CRITICAL)  # the outcome is printed below, once
    try:
        with session.client() as client:
            outcome = client.run_now(task_id, wait=None, local_executor=_debug_executor)
    finally:
        executor_log.setLevel(level)
    if session.as_json:
        output.echo_json(outcome.as_json())
    else:
        for result in outcome.results:
            if result["outcome"] == "executed":
                click.echo(f"ran {task_id}: executed, returned {result.get('return_value')}")
            else:
                detail = f"{result.get('exception_type', '')}: {result.get('message', '')}".strip(": ")
                click.echo(f"ran {task_id}: {result['outcome']} ({detail})")
    return ExitCode.FAILED if outcome.failed else ExitCode.OK


def _debug_executor() -> Any:
    from asyncz_like.executors.debug import DebugExecutor

    return DebugExecutor()
