"""A span per run, read back from the SDK's in-memory exporter: its attributes are the run
history's, it is the current span inside the run on every built-in executor (so the task's
own spans are its children), and its parent is the span current where the run was submitted."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import StatusCode

from asyncz_like import TASK_EXECUTED, AsyncIOScheduler, ManualScheduler, SchedulerEvent
from asyncz_like.executors.base import BaseExecutor
from asyncz_like.executors.process_pool import ProcessPoolExecutor
from asyncz_like.executors.runner import run_sync
from asyncz_like.observability import instrument_tracing
from asyncz_like.tasks.task import Task
from tests.core.clock import FakeClock
from tests.observability import jobs
from tests.observability.conftest import Spans

Make = Callable[..., ManualScheduler]
UTC = timezone.utc


def later(start: datetime, seconds: float) -> datetime:
    return start + timedelta(seconds=seconds)


def attributes(span: ReadableSpan) -> dict[str, Any]:
    return dict(span.attributes or {})


def ids(span: ReadableSpan) -> tuple[int, int]:
    return span.context.trace_id, span.context.span_id


def wait_for_spans(spans: Spans, count: int) -> list[ReadableSpan]:
    deadline = time.monotonic() + 15
    while len(spans.runs()) < count:
        assert time.monotonic() < deadline, f"only {len(spans.runs())} of {count} run spans ended"
        time.sleep(0.01)
    return spans.runs()


def test_each_run_has_a_span_with_its_task_attempt_and_outcome(
    make_scheduler: Make, clock: FakeClock, spans: Spans
) -> None:
    scheduler = make_scheduler(scheduler_id="me")
    instrument_tracing(scheduler, spans.provider)
    start = clock.current
    scheduler.add_task(
        jobs.fail_first, "date", run_at=later(start, 1), args=["c", 2], id="c", max_retries=2, retry_delay=5
    )
    scheduler.add_task(jobs.always_fail, "date", run_at=later(start, 1), args=["b"], id="b", name="the b job")
    scheduler.add_task(jobs.succeed, "date", run_at=later(start, 1), args=["m"], id="m", mistrigger_grace_time=0.5)
    for seconds in (2, 5, 5):
        clock.advance(seconds=seconds)
        scheduler.process_tasks()

    by_task: dict[str, list[ReadableSpan]] = {}
    for span in spans.runs():
        by_task.setdefault(attributes(span)["asyncz_like.task.id"], []).append(span)
    assert set(by_task) == {"c", "b"}  # the missed run never started: no span
    outcomes = [
        (
            attributes(span)["asyncz_like.run.attempt"],
            attributes(span)["asyncz_like.run.outcome"],
            span.status.status_code,
        )
        for span in by_task["c"]
    ]
    assert outcomes == [
        (1, "retried", StatusCode.ERROR),
        (2, "retried", StatusCode.ERROR),
        (3, "executed", StatusCode.UNSET),
    ]
    [failed] = by_task["b"]
    assert failed.name == "run the b job"
    assert attributes(failed) == {
        "asyncz_like.task.id": "b",
        "asyncz_like.task.name": "the b job",
        "asyncz_like.store": "default",
        "asyncz_like.executor": "default",
        "asyncz_like.run.scheduled_at": later(start, 1).isoformat(),
        "asyncz_like.scheduler.id": "me",
        "asyncz_like.run.attempt": 1,
        "asyncz_like.run.outcome": "error",
    }
    assert failed.status.description == "Flaky: b failed"
    [event] = failed.events
    assert event.name == "exception" and dict(event.attributes or {})["exception.type"].endswith("Flaky")
    history = [(r.attempt, r.outcome.value) for r in reversed(scheduler.get_run_history("c"))]
    assert history == [
        (attributes(s)["asyncz_like.run.attempt"], attributes(s)["asyncz_like.run.outcome"]) for s in by_task["c"]
    ]
    # the scheduler's own pass submitted them: each run starts a trace of its own
    assert all(span.parent is None for span in spans.runs())
    assert len({span.context.trace_id for span in spans.runs()}) == 4


@pytest.mark.parametrize("function", [jobs.start_child, jobs.start_child_async], ids=["function", "coroutine"])
@pytest.mark.parametrize("executor", ["debug", "threadpool"])
def test_the_runs_span_is_current_inside_the_run(
    make_scheduler: Make, clock: FakeClock, spans: Spans, executor: str, function: Callable[..., Any]
) -> None:
    scheduler = make_scheduler(executors={"default": {"type": executor}})
    instrument_tracing(scheduler, spans.provider)
    returned: list[Any] = []
    scheduler.add_listener(lambda event: returned.append(event.return_value), TASK_EXECUTED)  # type: ignore[attr-defined]
    scheduler.add_task(function, "date", run_at=clock.current, args=["inside"])
    scheduler.process_tasks()
    [run] = wait_for_spans(spans, 1)
    child = spans.named("inside")
    assert child.parent is not None and child.parent.span_id == run.context.span_id
    assert child.context.trace_id == run.context.trace_id
    deadline = time.monotonic() + 5
    while not returned and time.monotonic() < deadline:
        time.sleep(0.01)
    assert returned == [ids(run)]  # what the function saw as the current span


async def test_the_asyncio_executor_makes_the_span_current_on_the_loop_and_in_its_threads(spans: Spans) -> None:
    scheduler = AsyncIOScheduler(timezone="UTC")
    instrument_tracing(scheduler, spans.provider)
    jobs.provider = spans.provider
    scheduler.start()
    try:
        now = datetime.now(UTC)
        scheduler.add_task(jobs.start_child_async, "date", run_at=now, args=["on the loop"], id="loop")
        scheduler.add_task(jobs.start_child, "date", run_at=now, args=["in a thread"], id="thread")
        await asyncio.to_thread(wait_for_spans, spans, 2)
    finally:
        scheduler.shutdown()
    runs = {attributes(span)["asyncz_like.task.id"]: span for span in spans.runs()}
    for task_id, child_name in (("loop", "on the loop"), ("thread", "in a thread")):
        child = spans.named(child_name)
        assert child.parent is not None and child.parent.span_id == runs[task_id].context.span_id
        assert attributes(runs[task_id])["asyncz_like.run.outcome"] == "executed"


def test_a_process_pools_worker_runs_inside_the_runs_span_context(
    make_scheduler: Make, clock: FakeClock, spans: Spans
) -> None:
    scheduler = make_scheduler(executors={"default": ProcessPoolExecutor(max_workers=1)})
    instrument_tracing(scheduler, spans.provider)
    seen: list[SchedulerEvent] = []
    scheduler.add_listener(seen.append, TASK_EXECUTED)
    scheduler.add_task(
        jobs.current_span_ids, "interval", seconds=10, next_run_time=later(clock.current, -20), coalesce=False,
        id="p", mistrigger_grace_time=None,
    )  # fmt: skip
    scheduler.process_tasks()  # due at -20 s, -10 s and now: three runs in one submission
    runs = wait_for_spans(spans, 3)
    assert [attributes(span)["asyncz_like.run.scheduled_at"] for span in runs] == [
        later(clock.current, seconds).isoformat() for seconds in (-20, -10, 0)
    ]
    assert [event.return_value for event in seen] == [ids(span) for span in runs]  # type: ignore[attr-defined]
    assert len({span.context.span_id for span in runs}) == 3
    assert all(attributes(span)["asyncz_like.run.outcome"] == "executed" for span in runs)


def test_a_process_pools_failed_run_records_its_exception(make_scheduler: Make, clock: FakeClock, spans: Spans) -> None:
    scheduler = make_scheduler(executors={"default": ProcessPoolExecutor(max_workers=1)})
    instrument_tracing(scheduler, spans.provider)
    scheduler.add_task(jobs.always_fail, "date", run_at=clock.current, args=["far away"], id="f")
    scheduler.process_tasks()
    [run] = wait_for_spans(spans, 1)
    assert (attributes(run)["asyncz_like.run.outcome"], run.status.status_code) == ("error", StatusCode.ERROR)
    assert [event.name for event in run.events] == ["exception"]


def test_a_run_submitted_inside_a_span_is_its_child(make_scheduler: Make, clock: FakeClock, spans: Spans) -> None:
    """``run_task`` while handling a request: the run belongs to the request's trace. The same
    task run by the scheduler's own pass starts a trace of its own."""
    scheduler = make_scheduler()
    instrument_tracing(scheduler, spans.provider)
    scheduler.add_task(jobs.succeed, "interval", seconds=60, args=["now"], id="t")
    with spans.provider.get_tracer("web").start_as_current_span("POST /tasks/t/run") as request:
        scheduler.run_task("t")
    clock.advance(seconds=60)
    scheduler.process_tasks()
    on_request, on_schedule = spans.runs()
    assert on_request.parent is not None and on_request.parent.span_id == request.get_span_context().span_id
    assert on_request.context.trace_id == request.get_span_context().trace_id
    assert on_schedule.parent is None and on_schedule.context.trace_id != request.get_span_context().trace_id


class ElsewhereExecutor(BaseExecutor):
    """Runs as an engine elsewhere would (a Celery worker): without the scheduler's scope, then
    reports timed outcomes."""

    def do_send_task(self, task: Task, run_times: Sequence[datetime]) -> None:
        assert task.fn is not None
        self.task_finished(task, run_sync(task.fn, task.args, task.kwargs, run_times, self.timer))


def test_an_executor_that_runs_elsewhere_gets_spans_from_its_timing(
    make_scheduler: Make, clock: FakeClock, spans: Spans
) -> None:
    scheduler = make_scheduler(executors={"default": ElsewhereExecutor()})
    instrument_tracing(scheduler, spans.provider)
    scheduler.add_task(jobs.take_time, "date", run_at=clock.current, args=[1.5], id="far")
    started = clock.current
    scheduler.process_tasks()
    [run] = spans.runs()
    assert (run.start_time, run.end_time) == (int(started.timestamp() * 1e9), int((started.timestamp() + 1.5) * 1e9))
    assert attributes(run)["asyncz_like.run.outcome"] == "executed" and run.parent is None


def test_close_stops_the_spans_and_one_scheduler_is_instrumented_once(
    make_scheduler: Make, clock: FakeClock, spans: Spans
) -> None:
    scheduler = make_scheduler()
    tracing = instrument_tracing(scheduler, spans.provider)
    with pytest.raises(ValueError, match=r"^scheduler: its runs are traced already"):
        instrument_tracing(scheduler, spans.provider)
    scheduler.add_task(jobs.succeed, "date", run_at=clock.current, args=["traced"])
    scheduler.process_tasks()
    tracing.close()
    scheduler.add_task(jobs.succeed, "date", run_at=clock.current, args=["not traced"])
    scheduler.process_tasks()
    assert len(spans.runs()) == 1
    assert scheduler.run_scopes is None and scheduler.run_log.observers == ()


def test_a_run_in_flight_when_tracing_closes_still_ends_its_span(
    make_scheduler: Make, clock: FakeClock, spans: Spans
) -> None:
    scheduler = make_scheduler(executors={"default": {"type": "threadpool"}})
    tracing = instrument_tracing(scheduler, spans.provider)
    jobs.gates["late"] = threading.Event()
    scheduler.add_task(jobs.wait_for, "date", run_at=clock.current, args=["late"], id="late")
    scheduler.process_tasks()
    tracing.close()
    jobs.gates["late"].set()
    [run] = wait_for_spans(spans, 1)
    assert attributes(run)["asyncz_like.task.id"] == "late"
    assert "asyncz_like.run.outcome" not in attributes(run)  # it ended after tracing stopped listening
