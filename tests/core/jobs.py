"""Module-level task functions: importable by reference, so process pools and stores can use them."""

from __future__ import annotations

import os

calls: list[object] = []


def record(value: object = None) -> object:
    calls.append(value)
    return value


def double(value: int) -> int:
    return value * 2


def fail(message: str = "boom") -> None:
    raise RuntimeError(message)


async def async_double(value: int) -> int:
    return value * 2


def process_id() -> int:
    return os.getpid()


def two_args(a: int, b: int) -> int:
    return a + b
