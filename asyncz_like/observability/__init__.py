"""Metrics and traces for a scheduler, built on the standard libraries; both optional.

* :func:`enable_metrics`: Prometheus metrics through ``prometheus-client``
  (``pip install "asyncz-like[metrics]"``);
* :func:`instrument_tracing`: an OpenTelemetry span per run through ``opentelemetry-api``
  (``pip install "asyncz-like[tracing]"``).

This package imports neither library: each function imports its own when called, and
without it raises an ``ImportError`` (``MissingExtraError``) that names the extra. A scheduler
that enables neither pays nothing on its fire path but a check per outcome.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from asyncz_like.observability.metrics import SchedulerMetrics
    from asyncz_like.observability.tracing import SchedulerTracing
    from asyncz_like.schedulers.base import BaseScheduler


def enable_metrics(
    scheduler: BaseScheduler,
    registry: Any = None,
    *,
    namespace: str = "asyncz_like",
    task_id_label: bool = False,
    lateness_buckets: Sequence[float] | None = None,
    duration_buckets: Sequence[float] | None = None,
) -> SchedulerMetrics:
    """Count ``scheduler``'s runs into ``registry`` (a ``prometheus_client.CollectorRegistry``;
    default: the global one that ``start_http_server`` and ``make_asgi_app`` serve).

    Metric names start with ``namespace``; ``task_id_label=True`` adds the task id to the
    per-run metrics (one series per task: only for a bounded number of tasks). Works on a
    running scheduler too. Returns the metrics; ``close()`` removes them again."""
    from asyncz_like.observability.metrics import DURATION_BUCKETS, LATENESS_BUCKETS, SchedulerMetrics

    return SchedulerMetrics(
        scheduler,
        registry,
        namespace=namespace,
        task_id_label=task_id_label,
        lateness_buckets=LATENESS_BUCKETS if lateness_buckets is None else lateness_buckets,
        duration_buckets=DURATION_BUCKETS if duration_buckets is None else duration_buckets,
    )


def instrument_tracing(scheduler: BaseScheduler, tracer_provider: Any = None) -> SchedulerTracing:
    """Give each of ``scheduler``'s runs a span from ``tracer_provider`` (default: the global
    one, ``opentelemetry.trace.set_tracer_provider``), current while the run executes.
    Returns the instrumentation; ``close()`` stops it."""
    from asyncz_like.observability.tracing import SchedulerTracing

    return SchedulerTracing(scheduler, tracer_provider)


__all__ = ["enable_metrics", "instrument_tracing"]
