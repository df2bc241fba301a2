"""Scheduler config files (TOML, JSON or YAML) for ``asyncz-like run`` and ``--config``.

A file holds the scheduler's options in either shape ``setup`` reads: nested (``timezone``,
``[stores.default]``, ...; at the top level or under an ``[asyncz_like]`` table) or flat
dotted keys (``"asyncz_like.stores.default.type" = "sqlalchemy"``), plus an optional
``[[tasks]]`` list of task specs (see :class:`~asyncz_like.operations.specs.TaskSpec`).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from asyncz_like.exceptions import ArgumentError
from asyncz_like.operations.specs import TaskSpec

PREFIX = "asyncz_like."
SUFFIXES = (".toml", ".json", ".yaml", ".yml")


def load_config_file(path: str | Path) -> dict[str, Any]:
    """The file's contents as a dict; an unreadable or malformed file raises naming it."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise ArgumentError("config", f"{path}: expected a .toml, .json, .yaml or .yml file")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ArgumentError("config", f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        data = _parse(text, suffix)
    except ArgumentError:
        raise
    except Exception as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ArgumentError("config", f"{path} is not valid {suffix[1:].upper()}: {detail}") from None
    if not isinstance(data, dict):
        raise ArgumentError("config", f"{path}: expected a table/object at the top, got {type(data).__name__}")
    return data


def _parse(text: str, suffix: str) -> Any:
    if suffix == ".json":
        return json.loads(text)
    if suffix == ".toml":
        if sys.version_info >= (3, 11):
            import tomllib
        else:  # pragma: no cover - Python 3.10
            import tomli as tomllib
        return tomllib.loads(text)
    try:
        import yaml  # type: ignore[import-untyped]
    except ImportError:
        raise ArgumentError(
            "config", "YAML files need PyYAML (pip install pyyaml); TOML and JSON need nothing"
        ) from None
    return yaml.safe_load(text)


def split_config(data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], list[TaskSpec]]:
    """(flat ``global_config``, nested options, task specs) of a loaded config file."""
    data = dict(data)
    raw_tasks = data.pop("tasks", None) or []
    if not isinstance(raw_tasks, list):
        raise ArgumentError("tasks", f"expected a list of task tables, got {type(raw_tasks).__name__}")
    tasks = []
    for index, raw in enumerate(raw_tasks):
        try:
            tasks.append(TaskSpec.model_validate(raw))
        except ValidationError as exc:
            error = exc.errors()[0]
            where = ".".join(str(part) for part in error["loc"])
            raise ArgumentError(f"tasks[{index}].{where}" if where else f"tasks[{index}]", error["msg"]) from None
    flat = {key: value for key, value in data.items() if key.startswith(PREFIX)}
    nested = data.pop("asyncz_like", None)
    if nested is not None and not isinstance(nested, dict):
        raise ArgumentError("asyncz_like", f"expected a table of options, got {type(nested).__name__}")
    options = dict(nested) if nested is not None else {key: value for key, value in data.items() if key not in flat}
    return flat, options, tasks


def scheduler_from_config(
    data: dict[str, Any], cls: type | None = None, **overrides: Any
) -> tuple[Any, list[TaskSpec]]:
    """A scheduler (``NativeAsyncIOScheduler`` unless ``cls``) configured by ``data``; its
    tasks are returned to add once it has started (see ``add_configured_tasks``)."""
    if cls is None:
        from asyncz_like.schedulers.asyncio import NativeAsyncIOScheduler

        cls = NativeAsyncIOScheduler
    flat, options, tasks = split_config(data)
    options.update(overrides)
    return cls(flat or None, **options), tasks
