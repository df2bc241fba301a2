"""Callables and their textual ``package.module:qualified.name`` references."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from functools import partial
from importlib import import_module
from typing import Any

from asyncz_like.exceptions import ReferenceAttributeError, ReferenceImportError


def callable_name(fn: Callable[..., Any]) -> str:
    """A readable name for logs and snapshots."""
    if isinstance(fn, partial):
        return callable_name(fn.func)
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None)
    if name is None:
        name = type(fn).__qualname__
    return str(name)


def reference_of(fn: Callable[..., Any]) -> str | None:
    """``module:qualname`` if importing it gives back the very same object, else None.

    Lambdas, nested functions and bound methods of instances have no such reference,
    which is why they cannot be kept in a persistent store.
    """
    module = getattr(fn, "__module__", None)
    qualname = getattr(fn, "__qualname__", None)
    if inspect.ismethod(fn) and inspect.isclass(fn.__self__):
        qualname = f"{fn.__self__.__qualname__}.{fn.__name__}"
    if not module or not qualname or "<" in qualname:
        return None
    reference = f"{module}:{qualname}"
    try:
        return reference if resolve_reference(reference) == fn else None
    except (ImportError, AttributeError, ValueError):
        return None


def resolve_reference(reference: str, argument: str = "fn") -> Any:
    """Import ``package.module:attr.path``; errors name the argument and the reference."""
    if not isinstance(reference, str) or ":" not in reference:
        raise ValueError(f"{argument}: {reference!r} is not a 'package.module:name' reference")
    module_name, _, attr_path = reference.partition(":")
    if not module_name or not attr_path:
        raise ValueError(f"{argument}: {reference!r} is not a 'package.module:name' reference")
    try:
        obj: Any = import_module(module_name)
    except ImportError as exc:
        raise ReferenceImportError(f"{argument}: cannot import module {module_name!r} of {reference!r}: {exc}") from exc
    for part in attr_path.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError as exc:
            raise ReferenceAttributeError(f"{argument}: {reference!r} has no attribute {part!r}") from exc
    return obj


def check_arguments(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Raise at once, naming ``args``/``kwargs``, when the call could never bind."""
    try:
        signature = inspect.signature(fn)
    except (ValueError, TypeError):  # builtins without a signature: nothing to check
        return
    try:
        signature.bind(*args, **kwargs)
    except TypeError as exc:
        raise ValueError(
            f"args/kwargs: they do not fit the signature of {callable_name(fn)}{signature}: {exc}"
        ) from exc


def is_coroutine_callable(fn: Any) -> bool:
    while isinstance(fn, partial):
        fn = fn.func
    if inspect.iscoroutinefunction(fn):
        return True
    call = getattr(fn, "__call__", None)  # noqa: B004 - instances with async __call__
    return call is not None and not inspect.isfunction(fn) and inspect.iscoroutinefunction(call)
