"""Module-level task functions: a persistent store keeps a 'module:name' reference to them."""

from __future__ import annotations

import os
from pathlib import Path


def noop(*args: object, **kwargs: object) -> None:
    """Does nothing; the tests look at how it is stored, not at what it does."""


def append_line(path: str, text: str) -> None:
    """Leaves a trace another process can read: proof that the task really ran there."""
    with Path(path).open("a", encoding="utf-8") as handle:
        handle.write(f"{text} {os.getpid()}\n")
