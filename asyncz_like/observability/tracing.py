"""An OpenTelemetry span per run, through ``opentelemetry-api`` (the ``tracing`` extra).

Where it opens and whose child it is:

* the span wraps the run itself, in the worker (the event loop, a pool thread, the caller's
  thread for the debug executor) and is the current span while the function runs, so a span
  the function starts is its child;
* its parent is the span current where the run was *submitted*: a ``run_task()`` called
  while handling a request makes the run a child of the request's span; runs the scheduler
  starts on its own clock (its pass runs in a thread of its own) begin a trace of their own;
* a process pool cannot hold a span object in the worker: the span opens in the scheduler's
  process when the run is handed to the pool, and its context travels to the worker process
  as a W3C ``traceparent``, where it is current while the function runs;
* executors that run elsewhere (the Celery and Dask plugins, a third party's) get a span
  made afterwards from the run's start and end times, without a context inside the run.

The attributes ``asyncz_like.task.id``, ``asyncz_like.run.attempt`` and
``asyncz_like.run.outcome`` (executed, error, retried) come from the run log, so they are
the ones the run history records; the span ends when the outcome is decided, at the time
the run ended. Runs that never started (missed, skipped, abandoned) have no span.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import datetime
from threading import Lock
from types import TracebackType
from typing import TYPE_CHECKING, Any

from asyncz_like._extras import extra_needed

with extra_needed("asyncz_like tracing"):  # a missing library fails here, naming the extra to install
    import opentelemetry.trace  # noqa: F401

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.propagators.composite import CompositePropagator
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, TracerProvider
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from asyncz_like.executors.runner import Outcome, run_referenced
from asyncz_like.history.observe import RunObservation

if TYPE_CHECKING:
    from asyncz_like.schedulers.base import BaseScheduler
    from asyncz_like.tasks.task import Task

TRACER_NAME = "asyncz_like"
TASK_ID = "asyncz_like.task.id"
TASK_NAME = "asyncz_like.task.name"
STORE = "asyncz_like.store"
EXECUTOR = "asyncz_like.executor"
SCHEDULED_AT = "asyncz_like.run.scheduled_at"
ATTEMPT = "asyncz_like.run.attempt"
OUTCOME = "asyncz_like.run.outcome"
SCHEDULER_ID = "asyncz_like.scheduler.id"
#: outcomes of runs that did not happen: no span
NOT_RUN = frozenset({"missed", "skipped", "abandoned"})
#: fixed, not the global propagator: the worker process may not share the parent's set-up
_PROPAGATOR = CompositePropagator([TraceContextTextMapPropagator()])

_Key = tuple[str, str, datetime]


class SchedulerTracing:
    """Spans for one scheduler's runs; made by
    :func:`~asyncz_like.observability.instrument_tracing`. ``close()`` stops making them."""

    def __init__(self, scheduler: BaseScheduler, tracer_provider: TracerProvider | None = None) -> None:
        if scheduler.run_scopes is not None:
            raise ValueError("scheduler: its runs are traced already (close() the tracing first)")
        from asyncz_like import __version__

        self.scheduler = scheduler
        self.tracer = trace.get_tracer(TRACER_NAME, __version__, tracer_provider=tracer_provider)
        #: spans whose run is over, waiting for the outcome: (store, task id, run time) ->
        #: [(span, end time in ns, or None for a process pool's run: the outcome's)]
        self._open: dict[_Key, list[tuple[Span, int | None]]] = {}
        self._lock = Lock()
        self._closed = False
        scheduler.run_scopes = self.scope
        scheduler.run_log.add_observer(self.observe)

    def scope(self, task: Task, executor: str | None) -> RunScope:
        """The scheduler's hook, in the submitting thread: take that thread's context as the parent."""
        return RunScope(self, task, executor, otel_context.get_current())

    def start_span(
        self, task: Task, executor: str | None, run_time: datetime, parent: Any, start_time: int | None = None
    ) -> Span:
        attributes = {
            TASK_ID: task.id or "",
            TASK_NAME: task.name or "",
            STORE: task.store_alias or "default",
            EXECUTOR: executor or "default",
            SCHEDULED_AT: run_time.isoformat(),
            SCHEDULER_ID: self.scheduler.scheduler_id,
        }
        return self.tracer.start_span(
            f"run {task.name}", context=parent, kind=SpanKind.INTERNAL, attributes=attributes, start_time=start_time
        )

    def keep(self, key: _Key, span: Span, end_time: int | None) -> None:
        with self._lock:
            if not self._closed:
                self._open.setdefault(key, []).append((span, end_time))
                return
        span.end(end_time=end_time)  # a run that ends after close(): no outcome will come

    def observe(self, observation: RunObservation) -> None:
        """The run log's observer: the outcome is decided; end the run's span with it."""
        if observation.outcome in NOT_RUN:
            return
        key = (observation.store, observation.task.id or "", observation.run_time)
        with self._lock:
            waiting = self._open.get(key)
            kept = waiting.pop(0) if waiting else None
            if waiting == []:
                del self._open[key]
        exception = observation.exception
        if kept is None:  # an executor that runs elsewhere: a span from its timing, if it has one
            if observation.started is None:
                return
            span = self.start_span(
                observation.task, observation.executor, observation.run_time, None, _ns(observation.started)
            )
            end_time: int | None = _ns(observation.ended)
            if exception is not None:
                span.record_exception(exception, timestamp=end_time, escaped=True)
        else:
            span, end_time = kept
            if end_time is None:  # a process pool's run: its worker timed it
                end_time = _ns(observation.ended)
                if exception is not None:
                    span.record_exception(exception, timestamp=end_time, escaped=True)
        span.set_attribute(ATTEMPT, observation.attempt)
        span.set_attribute(OUTCOME, observation.outcome)
        if exception is not None:
            span.set_status(Status(StatusCode.ERROR, f"{type(exception).__name__}: {exception}"))
        span.end(end_time=end_time)

    def close(self) -> None:
        """Stop tracing runs; spans still waiting for their outcome end now, without one."""
        if self.scheduler.run_scopes == self.scope:
            self.scheduler.run_scopes = None
        self.scheduler.run_log.remove_observer(self.observe)
        with self._lock:
            waiting, self._open = self._open, {}
            self._closed = True
        for spans in waiting.values():
            for span, end_time in spans:
                span.end(end_time=end_time)


class RunScope:
    """What the runs of one submission run inside (:class:`asyncz_like.executors.runner.Scope`)."""

    __slots__ = ("executor", "parent", "task", "tracing")

    def __init__(self, tracing: SchedulerTracing, task: Task, executor: str | None, parent: Any) -> None:
        self.tracing = tracing
        self.task = task
        self.executor = executor
        self.parent = parent

    def __call__(self, run_time: datetime) -> RunSpan:
        return RunSpan(self, run_time)

    def remote(
        self, reference: str, args: Sequence[Any], kwargs: dict[str, Any], run_times: Sequence[datetime]
    ) -> tuple[Callable[..., list[Outcome]], tuple[Any, ...]]:
        """A process pool's submission: open the spans here, send their contexts along."""
        tracing, task = self.tracing, self.task
        carriers = []
        for run_time in run_times:
            span = tracing.start_span(task, self.executor, run_time, self.parent)
            carrier: dict[str, str] = {}
            _PROPAGATOR.inject(carrier, context=trace.set_span_in_context(span, self.parent))
            carriers.append(carrier)
            tracing.keep((task.store_alias or "default", task.id or "", run_time), span, None)
        return run_referenced_within, (carriers, reference, args, kwargs, run_times)


class RunSpan:
    """The span of one run, current while the function runs; kept open for its outcome."""

    __slots__ = ("run_time", "scope", "span", "token")

    def __init__(self, scope: RunScope, run_time: datetime) -> None:
        self.scope = scope
        self.run_time = run_time

    def __enter__(self) -> Span:
        scope = self.scope
        self.span = scope.tracing.start_span(scope.task, scope.executor, self.run_time, scope.parent)
        self.token = otel_context.attach(trace.set_span_in_context(self.span, scope.parent))
        return self.span

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        end_time = time.time_ns()
        otel_context.detach(self.token)
        if exc is not None:
            self.span.record_exception(exc, timestamp=end_time, escaped=True)
        task = self.scope.task
        self.scope.tracing.keep((task.store_alias or "default", task.id or "", self.run_time), self.span, end_time)


def run_referenced_within(
    carriers: Sequence[dict[str, str]],
    reference: str,
    args: Sequence[Any],
    kwargs: dict[str, Any],
    run_times: Sequence[datetime],
) -> list[Outcome]:
    """In a worker process: :func:`~asyncz_like.executors.runner.run_referenced`, each run with
    its span's context (from ``carriers``) current."""
    outcomes: list[Outcome] = []
    for carrier, run_time in zip(carriers, run_times, strict=True):
        token = otel_context.attach(_PROPAGATOR.extract(carrier))
        try:
            outcomes.extend(run_referenced(reference, args, kwargs, [run_time]))
        finally:
            otel_context.detach(token)
    return outcomes


def _ns(seconds: float) -> int:
    return int(seconds * 1_000_000_000)


__all__ = ["RunScope", "SchedulerTracing", "run_referenced_within"]
