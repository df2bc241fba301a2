"""Prometheus metrics of one scheduler, through ``prometheus-client`` (the ``metrics`` extra).

Counted as the run log decides each outcome (the figures the run history records):

* ``<ns>_runs_total{outcome, store, executor}``: executed, error, retried, missed, skipped
  (``max_instances``), abandoned;
* ``<ns>_run_lateness_seconds{store, executor}``: start minus scheduled time, first attempts;
* ``<ns>_run_duration_seconds{store, executor}``: from start to end of each run.

Read from the scheduler when scraped (a collector, so nothing is paid between scrapes):

* ``<ns>_runs_in_flight{executor}``, ``<ns>_claims_held{store}`` (shared stores),
  ``<ns>_tasks_set_aside{store}``.

Labels are aliases and outcomes, so the number of series stays bounded; the task id is a
label only when asked for (``task_id_label=True``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from threading import Lock
from typing import TYPE_CHECKING, Any

from asyncz_like._extras import extra_needed

with extra_needed("asyncz_like metrics"):  # a missing library fails here, naming the extra to install
    import prometheus_client  # noqa: F401

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from asyncz_like.history.observe import RunObservation

if TYPE_CHECKING:
    from asyncz_like.schedulers.base import BaseScheduler

#: seconds; a run a minute late is already an incident
LATENESS_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)
#: seconds; scheduled jobs run from milliseconds to an hour
DURATION_BUCKETS = (0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)


class SchedulerMetrics:
    """The metrics of one scheduler in one registry; made by
    :func:`~asyncz_like.observability.enable_metrics`. ``close()`` stops counting and removes
    the metrics from the registry."""

    def __init__(
        self,
        scheduler: BaseScheduler,
        registry: CollectorRegistry | None = None,
        *,
        namespace: str = "asyncz_like",
        task_id_label: bool = False,
        lateness_buckets: Sequence[float] = LATENESS_BUCKETS,
        duration_buckets: Sequence[float] = DURATION_BUCKETS,
    ) -> None:
        if any(isinstance(getattr(each, "__self__", None), SchedulerMetrics) for each in scheduler.run_log.observers):
            raise ValueError("scheduler: its metrics are enabled already (close() them first)")
        if not isinstance(task_id_label, bool):
            raise TypeError(f"task_id_label: expected True or False, got {task_id_label!r}")
        self.scheduler = scheduler
        self.registry = REGISTRY if registry is None else registry
        self.task_id_label = task_id_label
        extra = ("task_id",) if task_id_label else ()
        self.runs = Counter(
            f"{namespace}_runs",
            "Runs by outcome: executed, error, retried, missed, skipped (max_instances), abandoned",
            ("outcome", "store", "executor", *extra),
            registry=None,
        )
        self.lateness = Histogram(
            f"{namespace}_run_lateness_seconds",
            "How late runs start: start minus scheduled run time, first attempts only",
            ("store", "executor", *extra),
            buckets=lateness_buckets,
            registry=None,
        )
        self.duration = Histogram(
            f"{namespace}_run_duration_seconds",
            "How long runs take, from start to end",
            ("store", "executor", *extra),
            buckets=duration_buckets,
            registry=None,
        )
        self.state = SchedulerStateCollector(scheduler, namespace)
        self._collectors: list[Collector] = [self.runs, self.lateness, self.duration, self.state]
        self._children: dict[tuple[str, ...], Any] = {}
        self._children_lock = Lock()
        registered: list[Collector] = []
        try:
            for collector in self._collectors:
                self.registry.register(collector)
                registered.append(collector)
        except ValueError as exc:
            for collector in registered:
                self.registry.unregister(collector)
            raise ValueError(
                f"registry: it has {namespace!r} metrics already (another scheduler's?): give each scheduler a "
                f"registry of its own, or a namespace ({exc})"
            ) from exc
        scheduler.run_log.add_observer(self.observe)

    def observe(self, observation: RunObservation) -> None:
        """The run log's observer: count one outcome (any thread)."""
        store, executor = observation.store, observation.executor or "default"
        key: tuple[str, ...] = (observation.outcome, store, executor)
        if self.task_id_label:
            key = (*key, observation.task.id or "")
        children = self._children.get(key)
        if children is None:
            children = self._make_children(key)
        children[0].inc()
        if observation.started is None:
            return
        if observation.attempt == 1:
            children[1].observe(max(observation.started - observation.run_time.timestamp(), 0.0))
        children[2].observe(max(observation.ended - observation.started, 0.0))

    def _make_children(self, key: tuple[str, ...]) -> tuple[Any, Any, Any]:
        """The labelled series for ``key``, looked up once: ``labels()`` costs more than a run's
        bookkeeping."""
        without_outcome = key[1:]
        children = (
            self.runs.labels(*key),
            self.lateness.labels(*without_outcome),
            self.duration.labels(*without_outcome),
        )
        with self._children_lock:
            if len(self._children) > 10_000:  # task ids as labels: keep the cache bounded
                self._children.clear()
            self._children[key] = children
        return children

    def close(self) -> None:
        """Stop counting and take the metrics out of the registry."""
        self.scheduler.run_log.remove_observer(self.observe)
        for collector in self._collectors:
            try:
                self.registry.unregister(collector)
            except KeyError:
                pass


class SchedulerStateCollector(Collector):
    """Gauges read from the scheduler when the registry is scraped: runs in flight per
    executor, claims held per shared store, tasks set aside per store."""

    def __init__(self, scheduler: BaseScheduler, namespace: str = "asyncz_like") -> None:
        self.scheduler = scheduler
        self.namespace = namespace

    def _families(self) -> tuple[GaugeMetricFamily, GaugeMetricFamily, GaugeMetricFamily]:
        ns = self.namespace
        return (
            GaugeMetricFamily(
                f"{ns}_runs_in_flight", "Runs handed to an executor and not finished yet", labels=("executor",)
            ),
            GaugeMetricFamily(
                f"{ns}_claims_held",
                "Runs this scheduler holds claimed in a shared store while they run",
                labels=("store",),
            ),
            GaugeMetricFamily(
                f"{ns}_tasks_set_aside",
                "Stored tasks that cannot be restored (kept in the store, not run)",
                labels=("store",),
            ),
        )

    def describe(self) -> Iterable[Metric]:
        return self._families()

    def collect(self) -> Iterator[Metric]:
        scheduler = self.scheduler
        in_flight, claims, set_aside = self._families()
        for alias, executor in list(scheduler.executors.items()):
            count = getattr(executor, "runs_in_flight", None)
            if count is not None:
                in_flight.add_metric((alias,), float(count()))
        held = scheduler.claims.by_store
        for alias, store in list(scheduler.stores.items()):
            if store.supports_claims:
                claims.add_metric((alias,), float(len(held.get(alias, ()))))
            aside = getattr(store, "set_aside_count", None)
            set_aside.add_metric((alias,), float(aside() if aside is not None else 0))
        yield in_flight
        yield claims
        yield set_aside


__all__ = ["DURATION_BUCKETS", "LATENESS_BUCKETS", "SchedulerMetrics", "SchedulerStateCollector"]
