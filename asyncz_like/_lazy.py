"""Names a package exports but imports on first use (PEP 562): importing the package stays
cheap, and never needs an optional driver, while ``from package import Name`` still works."""

from __future__ import annotations

from importlib import import_module
from typing import Any


def load(package: str, targets: dict[str, str], name: str) -> Any:
    """The package's ``__getattr__``: ``targets`` maps each lazy name to ``"module"`` (the same
    name in that module) or ``"module:attribute"``."""
    target = targets.get(name)
    if target is None:
        raise AttributeError(f"module {package!r} has no attribute {name!r}")
    module, _, attribute = target.partition(":")
    return getattr(import_module(module), attribute or name)
