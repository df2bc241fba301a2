"""Module-level task functions for the asyncz compatibility tests.

Referenced as ``tests.compat.asyncz_jobs:<name>`` by tasks that real asyncz 0.17.2 stored
(the fixtures in ``tests/fixtures/asyncz_0_17_2``), so keep the names and signatures.
"""

from __future__ import annotations

calls: list[object] = []


def tick(*args: object, **kwargs: object) -> str:
    calls.append((args, kwargs))
    return "tick"


async def async_tick(*args: object, **kwargs: object) -> str:
    calls.append((args, kwargs))
    return "async tick"
