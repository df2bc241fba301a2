"""Module-level task functions (stores and worker processes find them by reference)."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

from opentelemetry import trace

#: calls per key, in this process
calls: Counter[str] = Counter()
#: what blocked runs wait for, by name
gates: dict[str, threading.Event] = {}
#: the explicit clock of the test; ``take_time`` moves it on as a long run would
clock: Any = None
#: the tracer provider a test reads spans from (``start_child`` starts spans with it)
provider: Any = None


class Flaky(Exception):
    pass


def succeed(key: str) -> str:
    calls[key] += 1
    return key


def always_fail(key: str) -> None:
    calls[key] += 1
    raise Flaky(f"{key} failed")


def fail_first(key: str, failures: int) -> str:
    calls[key] += 1
    if calls[key] <= failures:
        raise Flaky(f"{key}: call {calls[key]} fails")
    return key


def take_time(seconds: float) -> str:
    clock.advance(seconds=seconds)
    return "done"


def wait_for(name: str) -> str:
    """Blocks until the test opens the gate ``name`` (a run kept in flight)."""
    assert gates[name].wait(20), f"gate {name!r} was never opened"
    return name


def current_span_ids() -> tuple[int, int]:
    """(trace id, span id) of the span current while the run executes (any process)."""
    context = trace.get_current_span().get_span_context()
    return context.trace_id, context.span_id


def start_child(name: str) -> tuple[int, int]:
    """Starts a span of its own, as instrumented code in a task would; returns its parent's ids."""
    with provider.get_tracer("tests").start_as_current_span(name):
        pass
    return current_span_ids()


async def start_child_async(name: str) -> tuple[int, int]:
    return start_child(name)


def fail_inside_child(name: str) -> None:
    start_child(name)
    raise Flaky(f"{name} failed")
