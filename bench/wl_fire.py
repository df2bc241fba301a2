"""Fire N tasks that are all due at once: executions/s, how many ran and how many were
reported missed (every library runs with its default misfire grace of 1 s).

``mode=fire``: the tasks are added while the scheduler is paused, all due at the instant
the scheduler is resumed (``due.add_due_together``); the clock runs from ``resume()``
until every run has executed or been reported missed. ``mode=add_fire``: the scheduler
runs, each task is due the moment it is added, and the clock covers adding as well as
running. ``listener=true`` registers a no-op ``TASK_EXECUTED`` listener first, to show
what calling listeners costs the fire path; ``observe=metrics|tracing|both`` (ours only)
switches on the observability extras first (``bench_observability.py``).
"""

from __future__ import annotations

import asyncio
import itertools
import time
from datetime import datetime, timezone
from typing import Any

from due import add_due_together, wait_for_outcomes
from libs import Adapter

UTC = timezone.utc

_counter = itertools.count()  # next() is atomic under the GIL: safe from pool threads too
_ran = [0]


async def job_async() -> None:
    _ran[0] = next(_counter) + 1


def job_sync() -> None:
    _ran[0] = next(_counter) + 1


def on_executed(event: Any) -> None:
    """A listener that does nothing: its cost is the cost of being called."""


def observe(lib: Adapter, what: str) -> None:
    """Prometheus metrics into a registry of their own, and/or spans from the OpenTelemetry SDK
    through its batch processor to an exporter that drops them: what production pays, short
    of the network."""
    from asyncz_like.observability import enable_metrics, instrument_tracing

    lib.scheduler = lib.scheduler or lib.build()
    if what in ("metrics", "both"):
        from prometheus_client import CollectorRegistry

        enable_metrics(lib.scheduler, CollectorRegistry())
    if what in ("tracing", "both"):
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

        class Drop(SpanExporter):
            def export(self, spans: Any) -> SpanExportResult:
                return SpanExportResult.SUCCESS

        provider = TracerProvider()
        provider.add_span_processor(BatchSpanProcessor(Drop()))
        instrument_tracing(lib.scheduler, provider)


async def run(lib: Adapter, params: dict[str, Any]) -> dict[str, Any]:
    count = int(params["count"])
    fn = job_async if params.get("kind", "async") == "async" else job_sync
    timeout = float(params.get("timeout", 60))
    missed = lib.count("missed")
    if params.get("listener"):
        lib.listen("executed", on_executed)
    if params.get("observe"):
        observe(lib, str(params["observe"]))
    if params.get("mode", "fire") == "fire":
        lib.start(paused=True)
        due = await add_due_together(lib, fn, count)
        began = time.perf_counter()
        lib.resume()
        resumed_late = (datetime.now(UTC) - due).total_seconds()
    else:
        lib.start()
        await asyncio.sleep(0)
        began, resumed_late = time.perf_counter(), 0.0
        for _ in range(count):
            lib.add_date(fn, datetime.now(UTC))
    await wait_for_outcomes(count, _ran, missed, began + timeout)
    elapsed = time.perf_counter() - began
    ran = _ran[0]
    lib.shutdown()
    return {
        "exec_per_s": ran / elapsed,
        "ran": ran,
        "missed": missed[0],
        "expected": count,
        "seconds": elapsed,
        "resumed_late_s": resumed_late,
    }
