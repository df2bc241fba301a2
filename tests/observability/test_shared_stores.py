"""Metrics and spans on the stores several schedulers share, against the real servers: the
claim a run holds while in flight, a dead scheduler's run reported as abandoned, and a
stored task that cannot be restored, each seen in a scrape."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from prometheus_client import CollectorRegistry

from asyncz_like import ManualScheduler
from asyncz_like.executors.pool import ThreadPoolExecutor
from asyncz_like.observability import enable_metrics, instrument_tracing
from tests.core.clock import FakeClock
from tests.observability import jobs
from tests.observability.conftest import Scrape, Spans
from tests.stores._raw import write_raw_state
from tests.stores.conftest import StoreFactory

pytestmark = pytest.mark.servers
Make = Callable[..., ManualScheduler]


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 15
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def test_claims_abandoned_runs_and_set_aside_tasks_are_scraped(
    shared: StoreFactory,
    make_scheduler: Make,
    clock: FakeClock,
    registry: CollectorRegistry,
    scrape: Scrape,
    spans: Spans,
) -> None:
    scheduler = make_scheduler(start=False, executors={"default": ThreadPoolExecutor(max_workers=2)})
    scheduler.add_store(shared(start=False), "default")
    scheduler.start()
    enable_metrics(scheduler, registry)
    instrument_tracing(scheduler, spans.provider)
    start = clock.current
    store = scheduler.stores["default"]

    # a run in flight holds its claim
    jobs.gates["held"] = threading.Event()
    scheduler.add_task(jobs.wait_for, "date", run_at=start + timedelta(seconds=1), args=["held"], id="held")
    clock.advance(seconds=1)
    scheduler.process_tasks()
    samples = scrape()
    assert samples.value("asyncz_like_claims_held", store="default") == 1
    assert samples.value("asyncz_like_runs_in_flight", executor="default") == 1
    jobs.gates["held"].set()
    wait_until(lambda: scrape().value("asyncz_like_claims_held", store="default") == 0, "the claim's release")
    assert scrape().value("asyncz_like_runs_in_flight", executor="default") == 0
    wait_until(lambda: len(spans.runs()) == 1, "the run's span")

    # a scheduler that died holding a run: taken over after its lease, reported, not re-run
    scheduler.add_task(jobs.succeed, "date", run_at=start + timedelta(seconds=2), args=["z"], id="z")
    store.claim_due_tasks(start + timedelta(seconds=2), "dead", 30)
    clock.advance(seconds=40)
    scheduler.process_tasks()

    # a stored task that cannot be restored is set aside
    scheduler.add_task(jobs.succeed, "interval", seconds=60, args=["broken"], id="broken", next_run_time=None)
    write_raw_state(store, "broken", b"not a task any more")
    scheduler.get_tasks()

    samples = scrape()
    runs = {
        dict(labels)["outcome"]: value for labels, value in samples.named("asyncz_like_runs_total").items() if value
    }
    assert runs == {"executed": 1, "abandoned": 1}
    assert samples.value("asyncz_like_tasks_set_aside", store="default") == 1
    assert jobs.calls["z"] == 0
    [span] = spans.runs()  # the abandoned run never started: no span of its own
    assert span.attributes is not None
    assert (span.attributes["asyncz_like.task.id"], span.attributes["asyncz_like.run.outcome"]) == ("held", "executed")
