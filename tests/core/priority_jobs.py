"""Module-level functions for the priority tests: runs that say when they start, and a run
that holds its worker until told to let go (across processes too: through files)."""

from __future__ import annotations

import os
import time
from pathlib import Path


def mark_start(path: str, label: str) -> None:
    """Append ``label`` to ``path`` as the run starts: the lines are the order runs started in."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, f"{label}\n".encode())
    finally:
        os.close(fd)


def hold_until(started: str, release: str, limit: float = 20.0) -> None:
    """Say it started (create ``started``), then keep the worker until ``release`` exists."""
    Path(started).touch()
    deadline = time.monotonic() + limit
    while not Path(release).exists() and time.monotonic() < deadline:
        time.sleep(0.01)


def die() -> None:
    """Kill the process running it: a process pool's worker, which breaks the pool."""
    os._exit(1)
