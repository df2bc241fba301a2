"""The plugin registry: entry-point group -> alias -> plugin class.

The core names no concrete plugin: built-ins are found through the same entry
points a third party registers, so both are resolved, checked and cached alike.
"""

from __future__ import annotations

from importlib.metadata import EntryPoint, entry_points
from threading import Lock
from typing import Any, TypeVar

from asyncz_like._callables import resolve_reference
from asyncz_like.abc import Executor, Store, Trigger

T = TypeVar("T")

TRIGGERS = "asyncz_like.triggers"
EXECUTORS = "asyncz_like.executors"
STORES = "asyncz_like.stores"

BASES: dict[str, type[Any]] = {TRIGGERS: Trigger, EXECUTORS: Executor, STORES: Store}
_KINDS = {TRIGGERS: "trigger", EXECUTORS: "executor", STORES: "store"}

_entry_points: dict[str, dict[str, EntryPoint]] = {}
_classes: dict[tuple[str, str], type[Any]] = {}
_lock = Lock()


def _group(group: str) -> dict[str, EntryPoint]:
    found = _entry_points.get(group)
    if found is None:
        with _lock:
            found = {ep.name: ep for ep in entry_points(group=group)}
            _entry_points[group] = found
    return found


def aliases(group: str) -> list[str]:
    """The aliases registered in ``group``, sorted."""
    return sorted(_group(group))


def refresh() -> None:
    """Forget cached entry points (after installing a plugin distribution at run time)."""
    with _lock:
        _entry_points.clear()
        _classes.clear()


def plugin_class(group: str, name: str) -> type[Any]:
    """Resolve an alias or a ``package.module:Class`` string to a checked plugin class."""
    if group not in BASES:
        raise ValueError(f"group: unknown plugin group {group!r}; expected one of {sorted(BASES)}")
    kind = _KINDS[group]
    key = (group, name)
    cls = _classes.get(key)
    if cls is not None:
        return cls
    if ":" in name:
        cls = resolve_reference(name, kind)
        origin = repr(name)
    else:
        entry_point = _group(group).get(name)
        if entry_point is None:
            raise LookupError(
                f"{kind}: no {kind} plugin registered as {name!r}; known {kind}s: {', '.join(aliases(group)) or 'none'}"
            )
        cls = entry_point.load()
        origin = f"entry point {name!r} ({entry_point.value})"
    base = BASES[group]
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise TypeError(
            f"{kind}: {origin} is {cls!r}, which is not a subclass of {base.__module__}.{base.__qualname__}"
        )
    _classes[key] = cls
    return cls


def create(group: str, plugin: Any, options: dict[str, Any] | None = None) -> Any:
    """An instance passes through; an alias or reference is instantiated with ``options``."""
    base = BASES[group]
    if isinstance(plugin, base):
        if options:
            raise TypeError(f"{_KINDS[group]}: options {sorted(options)} cannot be applied to an existing instance")
        return plugin
    if isinstance(plugin, type) and issubclass(plugin, base):
        return plugin(**(options or {}))
    if not isinstance(plugin, str):
        raise TypeError(
            f"{_KINDS[group]}: expected an alias, a 'module:Class' string or a {base.__name__}, "
            f"got {type(plugin).__name__}"
        )
    return plugin_class(group, plugin)(**(options or {}))
