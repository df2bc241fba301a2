"""How the CLI prints: aligned tables for people, ``--json`` for scripts."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import click

from asyncz_like.tasks.info import TaskInfo

#: what ``list`` shows, in order: (heading, TaskInfo JSON key)
TASK_COLUMNS = (
    ("ID", "id"),
    ("NAME", "name"),
    ("STATE", "schedule_state"),
    ("NEXT RUN", "next_run_time"),
    ("TRIGGER", "trigger_description"),
    ("EXECUTOR", "executor"),
    ("STORE", "store_alias"),
)
#: history columns shown when a record has them (first present name wins)
HISTORY_COLUMNS = (
    ("TASK", ("task_id",)),
    ("OUTCOME", ("outcome",)),
    ("SCHEDULED", ("scheduled_run_time", "scheduled_at")),
    ("STARTED", ("started_at", "start", "started")),
    ("DURATION", ("duration", "duration_seconds")),
    ("ATTEMPT", ("attempt",)),
    ("SCHEDULER", ("scheduler_id",)),
    ("ERROR", ("exception_type", "exc_type")),
    ("MESSAGE", ("message", "exception_message", "exc_message")),
)
MAX_CELL = 48


def echo_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, default=str, ensure_ascii=False))


def task_json(info: TaskInfo) -> dict[str, Any]:
    return info.model_dump(mode="json")


def cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        value = value.isoformat(timespec="seconds")
    elif isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] == "T":
        value = _short_time(value)
    elif isinstance(value, float):
        value = f"{value:.3f}"
    text = " ".join(str(value).split())
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 3] + "..."


def _short_time(iso: str) -> str:
    try:
        return datetime.fromisoformat(iso.replace("Z", "+00:00")).isoformat(timespec="seconds")
    except ValueError:
        return iso


def table(headings: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Columns padded to their widest cell; the last column is not padded."""
    cells = [[cell(value) for value in row] for row in rows]
    widths = [max([len(heading), *(len(row[i]) for row in cells)]) for i, heading in enumerate(headings)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(value.ljust(width) for value, width in zip(values, widths, strict=True)).rstrip()

    return "\n".join([line(headings), *(line(row) for row in cells)])


def task_table(infos: Sequence[TaskInfo], last: dict[str, dict[str, Any]] | None = None) -> str:
    headings = [heading for heading, _ in TASK_COLUMNS]
    rows = []
    for info in infos:
        data = task_json(info)
        row = [data[key] for _, key in TASK_COLUMNS]
        if last is not None:
            record = last.get(info.id or "")
            row.append(record.get("outcome") if record else None)
        rows.append(row)
    if last is not None:
        headings.append("LAST")
    return table(headings, rows)


def task_details(info: TaskInfo) -> str:
    data = task_json(info)
    width = max(len(key) for key in data)
    return "\n".join(
        f"{key.ljust(width)}  {cell(value) if key != 'trigger_description' else value}" for key, value in data.items()
    )


def history_table(records: Sequence[dict[str, Any]]) -> str:
    present = [
        (heading, next(name for name in names if any(name in record for record in records)))
        for heading, names in HISTORY_COLUMNS
        if any(name in record for record in records for name in names)
    ]
    rows = [[record.get(name) for _, name in present] for record in records]
    return table([heading for heading, _ in present], rows)


def mapping(data: dict[str, Any], indent: int = 0) -> str:
    """A nested report (health) as indented ``key: value`` lines."""
    lines = []
    pad = "  " * indent
    for key, value in data.items():
        if isinstance(value, dict):
            lines.append(f"{pad}{key}:")
            lines.append(mapping(value, indent + 1))
        elif isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
            lines.append(f"{pad}{key}:")
            for item in value:
                lines.append(mapping(item, indent + 1).replace(f"{pad}  ", f"{pad}- ", 1))
        else:
            shown = ", ".join(cell(item) for item in value) if isinstance(value, list) else cell(value)
            lines.append(f"{pad}{key}: {shown or '-'}")
    return "\n".join(line for line in lines if line)
