"""Module-level task functions and exceptions: stores keep them by 'module:name' reference."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

#: calls per key, for tests in this process
calls: Counter[str] = Counter()


class Flaky(Exception):
    """What the flaky functions raise (a retry_on class)."""


class Fatal(Exception):
    """An exception the tests do not retry."""


def fail_first(key: str, failures: int) -> str:
    """Raises Flaky on the first ``failures`` calls for ``key``, then returns ``key``."""
    calls[key] += 1
    if calls[key] <= failures:
        raise Flaky(f"{key}: call {calls[key]} fails")
    return key


def always_fail(key: str) -> None:
    calls[key] += 1
    raise Flaky(f"{key} failed")


def fatal(key: str) -> None:
    calls[key] += 1
    raise Fatal(f"{key}: not worth retrying")


def succeed(key: str) -> str:
    calls[key] += 1
    return key


def flaky_file(path: str, failures: int) -> int:
    """Across processes: appends ``<pid>`` to ``path`` (one line per attempt, O_APPEND) and
    fails while the file has at most ``failures`` lines."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, f"{os.getpid()}\n".encode())
    finally:
        os.close(fd)
    attempts = len(Path(path).read_text().splitlines())
    if attempts <= failures:
        raise Flaky(f"attempt {attempts} fails")
    return attempts


#: the explicit clock a test runs with; ``take_time`` moves it on, as a long run would
clock: object = None


def take_time(seconds: float) -> str:
    clock.advance(seconds=seconds)  # type: ignore[attr-defined]
    return "done"


def big_result(size: int) -> list[int]:
    return list(range(size))


def deep_failure(depth: int) -> None:
    if depth:
        deep_failure(depth - 1)
    raise Flaky("x" * 5_000)


def take_nap(seconds: float) -> str:
    import time

    time.sleep(seconds)
    return "rested"
