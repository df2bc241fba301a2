"""Functions the fault tests schedule (importable, for persistent stores)."""

from __future__ import annotations

import time


def slow() -> None:
    """In flight long enough for a fault to land while it runs."""
    time.sleep(0.4)


def stuck() -> None:
    """Holds a worker for the whole test, like a call that never returns."""
    time.sleep(3.0)


def quick() -> None:
    """Starts and ends at once."""
