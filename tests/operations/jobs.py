"""Functions the operations tests schedule by reference (other processes import them)."""

from __future__ import annotations

import os
from datetime import datetime, timezone


def record(path: str, label: str = "run") -> str:
    """Appends ``label`` and the time to ``path``: the test reads who ran, and when."""
    with open(path, "a", encoding="utf-8") as file:
        file.write(f"{label} {datetime.now(timezone.utc).isoformat()} {os.getpid()}\n")
    return f"recorded {label}"


def fail() -> None:
    raise RuntimeError("deliberate failure")


def noop() -> None:
    """Does nothing."""
