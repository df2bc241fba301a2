"""Prometheus metrics, as a user reads them: scraped over HTTP from prometheus_client's own
server. Outcomes are counted as the run history records them; lateness and duration land
in the right buckets; the gauges follow the scheduler's state at scrape time."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import pytest
from prometheus_client import CollectorRegistry

from asyncz_like import AsyncIOScheduler, ManualScheduler
from asyncz_like.executors.pool import ThreadPoolExecutor
from asyncz_like.observability import enable_metrics
from tests.core.clock import FakeClock
from tests.observability import jobs
from tests.observability.conftest import Samples, Scrape

Make = Callable[..., ManualScheduler]
RUNS = "asyncz_like_runs_total"
LATENESS = "asyncz_like_run_lateness_seconds"
DURATION = "asyncz_like_run_duration_seconds"
UTC = timezone.utc


def later(start: datetime, seconds: float) -> datetime:
    return start + timedelta(seconds=seconds)


def step_to(scheduler: ManualScheduler, clock: FakeClock, when: datetime) -> None:
    clock.current = when
    scheduler.process_tasks()


def runs_by_outcome(samples: Samples, **labels: str) -> dict[str, float]:
    """Runs per outcome, summed over the series that have ``labels``."""
    counts: dict[str, float] = {}
    for key, value in samples.named(RUNS).items():
        if labels.items() <= dict(key).items() and value:
            outcome = dict(key)["outcome"]
            counts[outcome] = counts.get(outcome, 0) + value
    return counts


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def test_outcomes_are_counted_as_the_run_history_records_them(
    make_scheduler: Make, clock: FakeClock, registry: CollectorRegistry, scrape: Scrape
) -> None:
    scheduler = make_scheduler(executors={"threads": ThreadPoolExecutor(max_workers=2)})
    enable_metrics(scheduler, registry)
    start = clock.current
    jobs.gates["busy"] = threading.Event()
    scheduler.add_task(jobs.succeed, "date", run_at=later(start, 1), args=["a"], id="a")
    scheduler.add_task(jobs.always_fail, "date", run_at=later(start, 1), args=["b"], id="b")
    scheduler.add_task(
        jobs.fail_first, "date", run_at=later(start, 1), args=["c", 1], id="c", max_retries=1, retry_delay=5
    )
    scheduler.add_task(jobs.succeed, "date", run_at=later(start, 1), args=["m"], id="m", mistrigger_grace_time=0.5)
    scheduler.add_task(
        jobs.wait_for, "interval", seconds=10, start_at=later(start, 1), args=["busy"], id="s", executor="threads"
    )
    step_to(scheduler, clock, later(start, 2))  # a, b run; c fails (retry at +7); m is missed; s starts
    step_to(scheduler, clock, later(start, 7))  # c's retry works
    step_to(scheduler, clock, later(start, 11))  # s is still running: its next run is skipped
    jobs.gates["busy"].set()
    wait_until(lambda: scheduler.executors["threads"].runs_in_flight() == 0, "the blocked run")  # type: ignore[attr-defined]

    samples = scrape()
    assert runs_by_outcome(samples, executor="default", store="default") == {
        "executed": 2,
        "error": 1,
        "retried": 1,
        "missed": 1,
    }
    assert runs_by_outcome(samples, executor="threads", store="default") == {"executed": 1, "skipped": 1}
    history = scheduler.get_run_history(limit=100)
    recorded: dict[str, int] = {}
    for record in history:
        recorded[record.outcome.value] = recorded.get(record.outcome.value, 0) + 1
    assert runs_by_outcome(samples) == recorded  # every label set together: what the history holds
    # first attempts that ran, each 1 s late on the explicit clock: a, b, c's first, and s
    assert samples.value(f"{LATENESS}_count", store="default", executor="default") == 3
    assert samples.value(f"{LATENESS}_sum", store="default", executor="default") == 3.0
    assert samples.value(f"{LATENESS}_count", store="default", executor="threads") == 1
    assert samples.value(f"{DURATION}_count", store="default", executor="default") == 4  # c's retry included


def test_lateness_and_duration_land_in_their_buckets(
    make_scheduler: Make, clock: FakeClock, registry: CollectorRegistry, scrape: Scrape
) -> None:
    scheduler = make_scheduler()
    enable_metrics(scheduler, registry)
    start = clock.current
    scheduler.add_task(
        jobs.take_time, "date", run_at=later(start, 1), args=[2.5], id="slow", mistrigger_grace_time=None
    )
    step_to(scheduler, clock, later(start, 4))  # starts 3 s late, runs 2.5 s on the explicit clock

    samples = scrape()
    labels = {"store": "default", "executor": "default"}
    assert samples.value(f"{LATENESS}_bucket", le="2.5", **labels) == 0
    assert samples.value(f"{LATENESS}_bucket", le="5.0", **labels) == 1
    assert samples.value(f"{LATENESS}_sum", **labels) == 3.0
    assert samples.value(f"{DURATION}_bucket", le="1.0", **labels) == 0
    assert samples.value(f"{DURATION}_bucket", le="5.0", **labels) == 1
    assert samples.value(f"{DURATION}_sum", **labels) == 2.5


def test_a_retry_is_timed_but_its_planned_delay_is_not_lateness(
    make_scheduler: Make, clock: FakeClock, registry: CollectorRegistry, scrape: Scrape
) -> None:
    scheduler = make_scheduler()
    enable_metrics(scheduler, registry)
    start = clock.current
    scheduler.add_task(
        jobs.fail_first, "date", run_at=later(start, 1), args=["r", 1], id="r", max_retries=1, retry_delay=30
    )
    step_to(scheduler, clock, later(start, 1))
    step_to(scheduler, clock, later(start, 45))  # the retry starts 44 s after the run time
    samples = scrape()
    labels = {"store": "default", "executor": "default"}
    assert (samples.value(f"{LATENESS}_count", **labels), samples.value(f"{LATENESS}_sum", **labels)) == (1, 0.0)
    assert samples.value(f"{DURATION}_count", **labels) == 2


def test_the_state_gauges_on_a_memory_store(
    make_scheduler: Make, clock: FakeClock, registry: CollectorRegistry, scrape: Scrape
) -> None:
    """A store that is not shared holds no claims: no claims series, and nothing set aside."""
    scheduler = make_scheduler(executors={"threads": ThreadPoolExecutor(max_workers=2)})
    enable_metrics(scheduler, registry)
    jobs.gates["g"] = threading.Event()
    scheduler.add_task(jobs.wait_for, "date", run_at=clock.current, args=["g"], executor="threads")
    scheduler.process_tasks()
    samples = scrape()
    assert samples.named("asyncz_like_runs_in_flight") == {
        frozenset({("executor", "default")}): 0,
        frozenset({("executor", "threads")}): 1,
    }
    assert samples.named("asyncz_like_claims_held") == {}
    assert samples.named("asyncz_like_tasks_set_aside") == {frozenset({("store", "default")}): 0}
    jobs.gates["g"].set()
    wait_until(lambda: scrape().value("asyncz_like_runs_in_flight", executor="threads") == 0, "the run to end")


def test_task_ids_are_labels_only_when_asked_for(
    make_scheduler: Make, clock: FakeClock, registry: CollectorRegistry, scrape: Scrape
) -> None:
    plain = make_scheduler()
    enable_metrics(plain, registry)
    by_task = make_scheduler()
    other = CollectorRegistry()
    enable_metrics(by_task, other, task_id_label=True)
    for scheduler in (plain, by_task):
        scheduler.add_task(jobs.succeed, "date", run_at=clock.current, args=["x"], id="nightly-report")
        scheduler.process_tasks()
    assert list(scrape().named(RUNS)) == [
        frozenset({("outcome", "executed"), ("store", "default"), ("executor", "default")})
    ]
    labelled = other.get_sample_value(
        RUNS, {"outcome": "executed", "store": "default", "executor": "default", "task_id": "nightly-report"}
    )
    assert labelled == 1
    assert (
        other.get_sample_value(
            f"{DURATION}_count", {"store": "default", "executor": "default", "task_id": "nightly-report"}
        )
        == 1
    )


def test_one_registry_takes_one_scheduler_and_close_removes_the_metrics(
    make_scheduler: Make, clock: FakeClock, registry: CollectorRegistry, scrape: Scrape
) -> None:
    first, second = make_scheduler(), make_scheduler()
    metrics = enable_metrics(first, registry)
    with pytest.raises(ValueError, match=r"^scheduler: its metrics are enabled already"):
        enable_metrics(first, CollectorRegistry())
    with pytest.raises(ValueError, match=r"^registry: it has 'asyncz_like' metrics already"):
        enable_metrics(second, registry)
    enable_metrics(second, registry, namespace="reports")  # a namespace of its own fits beside it
    first.add_task(jobs.succeed, "date", run_at=clock.current, args=["one"])
    first.process_tasks()
    assert scrape().value(RUNS, outcome="executed", store="default", executor="default") == 1

    metrics.close()
    first.add_task(jobs.succeed, "date", run_at=clock.current, args=["two"])
    first.process_tasks()
    after = scrape()
    assert not [name for name, _ in after if name.startswith("asyncz_like_")]
    assert after.named("reports_runs_in_flight")  # the other scheduler's metrics stay
    enable_metrics(first, registry)  # and it can be enabled again


async def test_an_asyncio_scheduler_counts_coroutines_and_functions_in_real_time(
    registry: CollectorRegistry, scrape: Scrape
) -> None:
    async def coroutine() -> str:
        return "on the loop"

    scheduler = AsyncIOScheduler(timezone="UTC")
    enable_metrics(scheduler, registry)
    scheduler.start()
    try:
        now = datetime.now(UTC)
        scheduler.add_task(coroutine, "date", run_at=now)
        scheduler.add_task(jobs.succeed, "date", run_at=now, args=["in a thread"])
        scheduler.add_task(jobs.always_fail, "date", run_at=now, args=["in a thread"])
        for _ in range(500):
            if sum(runs_by_outcome(await asyncio.to_thread(scrape)).values()) == 3:
                break
            await asyncio.sleep(0.01)
        samples = await asyncio.to_thread(scrape)
    finally:
        scheduler.shutdown()
    assert runs_by_outcome(samples, store="default", executor="default") == {"executed": 2, "error": 1}
    lateness = samples.value(f"{LATENESS}_sum", store="default", executor="default")
    assert lateness is not None and 0 <= lateness < 3 * 5.0  # real time: each started within seconds
