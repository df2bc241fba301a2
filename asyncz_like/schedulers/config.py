"""Reading ``setup(global_config, prefix=...)``: flat dotted keys into a nested configuration."""

from __future__ import annotations

from typing import Any

_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


def nest(global_config: dict[str, Any] | None, prefix: str | None) -> dict[str, Any]:
    """``{"asyncz_like.stores.default.type": "memory"}`` -> ``{"stores": {"default": {"type": "memory"}}}``."""
    if global_config is None:
        return {}
    if not isinstance(global_config, dict):
        raise TypeError(f"global_config: expected a dict, got {type(global_config).__name__}")
    if prefix:
        global_config = {key[len(prefix) :]: value for key, value in global_config.items() if key.startswith(prefix)}
    config: dict[str, Any] = {}
    for key, value in global_config.items():
        parts = key.split(".")
        parent = config
        for part in parts[:-1]:
            child = parent.setdefault(part, {})
            if not isinstance(child, dict):
                raise ValueError(f"global_config: key {key!r} nests below {part!r}, which already holds a value")
            parent = child
        parent[parts[-1]] = value
    return config


def merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``over`` laid on top, section by section."""
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def as_bool(value: Any, argument: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise ValueError(f"{argument}: expected a boolean, got {value!r}")


def as_number(value: Any, argument: str, integer: bool = False) -> Any:
    """Numbers from config files often arrive as strings."""
    if value is None:
        return None
    try:
        return int(value) if integer else float(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{argument}: expected a number, got {value!r}") from exc


def plugin_spec(spec: Any, argument: str) -> tuple[Any, dict[str, Any]]:
    """A plugin entry in the config: an instance, an alias, or ``{"type"|"class": ..., **options}``."""
    if isinstance(spec, dict):
        options = dict(spec)
        kind = options.pop("type", None) or options.pop("class", None)
        if kind is None:
            raise ValueError(f"{argument}: a plugin given as a dict needs a 'type' (alias) or 'class' key")
        return kind, options
    return spec, {}
