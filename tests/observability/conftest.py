"""Fixtures for the metrics and tracing tests: a registry of the test's own served over real
HTTP, a tracer provider whose finished spans a test reads, and schedulers on an explicit clock."""

from __future__ import annotations

import urllib.request
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.parser import text_string_to_metric_families

from asyncz_like import ManualScheduler
from tests.core.clock import FakeClock
from tests.observability import jobs


@pytest.fixture(autouse=True)
def _fresh_jobs() -> Iterator[None]:
    jobs.calls.clear()
    jobs.gates.clear()
    yield
    for gate in jobs.gates.values():
        gate.set()  # never leave a worker blocked
    jobs.calls.clear()
    jobs.clock = jobs.provider = None


@pytest.fixture
def clock(now: datetime) -> FakeClock:
    jobs.clock = FakeClock(now)
    return jobs.clock  # type: ignore[no-any-return]


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


class Samples(dict[tuple[str, frozenset[tuple[str, str]]], float]):
    """One scrape: (sample name, labels) -> value."""

    def value(self, name: str, **labels: str) -> float | None:
        return self.get((name, frozenset(labels.items())))

    def named(self, name: str) -> dict[frozenset[tuple[str, str]], float]:
        return {labels: value for (each, labels), value in self.items() if each == name}


Scrape = Callable[[], Samples]


@pytest.fixture
def scrape(registry: CollectorRegistry) -> Iterator[Scrape]:
    """GET /metrics of ``registry`` served by prometheus_client's own HTTP server, parsed."""
    server, thread = start_http_server(0, addr="127.0.0.1", registry=registry)
    url = f"http://127.0.0.1:{server.server_port}/metrics"

    def get() -> Samples:
        with urllib.request.urlopen(url, timeout=10) as response:
            assert response.status == 200
            text = response.read().decode()
        samples = Samples()
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
        return samples

    yield get
    server.shutdown()
    server.server_close()
    thread.join(5)


class Spans:
    """A tracer provider exporting to memory, synchronously: a span is readable once it ended."""

    def __init__(self) -> None:
        self.exporter = InMemorySpanExporter()
        self.provider = TracerProvider()
        self.provider.add_span_processor(SimpleSpanProcessor(self.exporter))

    def finished(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def runs(self) -> list[ReadableSpan]:
        """The scheduler's run spans, in the order they ended."""
        return [span for span in self.finished() if span.instrumentation_scope.name == "asyncz_like"]

    def named(self, name: str) -> ReadableSpan:
        [span] = [span for span in self.finished() if span.name == name]
        return span


@pytest.fixture
def spans() -> Iterator[Spans]:
    made = Spans()
    jobs.provider = made.provider
    yield made
    made.provider.shutdown()


@pytest.fixture
def make_scheduler(clock: FakeClock) -> Iterator[Callable[..., ManualScheduler]]:
    """A ManualScheduler on ``clock`` (inline runs by default), shut down after the test."""
    made: list[ManualScheduler] = []

    def make(start: bool = True, **options: Any) -> ManualScheduler:
        scheduler = ManualScheduler(timezone="UTC", clock=clock, lease_seconds=30, **options)
        made.append(scheduler)
        if start:
            scheduler.start()
        return scheduler

    yield make
    for scheduler in made:
        if scheduler.running:
            scheduler.shutdown()


from tests.history.stores import shared  # noqa: E402, F401  (fixture: every store that claims runs)
