"""``scheduler.health_check()``: one typed report of how the scheduler and its stores are doing.

Status rules (the reasons list says which applied):

* **failing**: the scheduler is stopped, or no store can be reached;
* **degraded**: processing is paused, some store cannot be reached, tasks are set aside
  (stored but unrestorable), fewer than 90% of the window's runs succeeded (at least 10
  runs), or the window's lateness p99 is over 5 seconds;
* **ok** otherwise.

The run figures cover this scheduler's own outcomes in the window (default 15 minutes);
the other schedulers on a shared store show up under that store, from their heartbeats and
the leases they hold.
"""

from __future__ import annotations

import math
import time
from datetime import datetime, timedelta, timezone
from enum import Enum
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from asyncz_like.history.records import RunOutcome
from asyncz_like.schedulers.state import SchedulerState

if TYPE_CHECKING:
    from asyncz_like.abc import Store
    from asyncz_like.schedulers.base import BaseScheduler

#: below this share of successful runs (with at least MIN_RUNS runs in the window): degraded
MIN_SUCCESS_RATE = 0.9
MIN_RUNS = 10
#: lateness p99 above this many seconds: degraded
MAX_LATENESS_P99 = 5.0
#: how much of a store's error a report quotes
ERROR_LIMIT = 300
UTC = timezone.utc


class HealthStatus(str, Enum):
    """The overall verdict; the report's ``reasons`` say why it is not ``ok``."""

    OK = "ok"
    DEGRADED = "degraded"
    FAILING = "failing"

    def __str__(self) -> str:
        return self.value


class _Model(BaseModel):
    """Frozen: a report describes one moment."""

    model_config = ConfigDict(frozen=True)


class SchedulerSeen(_Model):
    """A scheduler seen on a shared store (this one included: ``is_self``)."""

    scheduler_id: str
    is_self: bool
    #: seconds since its heartbeat was last renewed (None: seen only by a lease it holds)
    last_renewal_age: float | None
    #: its heartbeat has not expired (renewed within ``lease_seconds``)
    alive: bool
    #: runs it holds claimed in this store
    runs_held: int


class StoreHealth(_Model):
    """One store as this scheduler sees it."""

    alias: str
    kind: str
    #: None when not checked (the scheduler is stopped)
    reachable: bool | None
    round_trip_ms: float | None = None
    error: str | None = None
    #: several schedulers may share it (it claims due runs under leases)
    shared: bool
    scheduled: int | None = None
    paused: int | None = None
    set_aside: int = 0
    #: runs this scheduler holds claimed here
    claims_held: int = 0
    schedulers: list[SchedulerSeen] = []


class TaskCounts(_Model):
    """Tasks in all stores."""

    scheduled: int
    paused: int
    set_aside: int
    #: added before the scheduler started, not stored yet
    pending: int


class RunStats(_Model):
    """This scheduler's outcomes in the last ``window_seconds``."""

    window_seconds: float
    runs: int
    executed: int
    failed: int
    retried: int
    missed: int
    skipped: int
    abandoned: int
    #: executed / (executed + failed + retried); None without runs
    success_rate: float | None
    #: start minus scheduled run time, first attempts only (seconds)
    lateness_p50: float | None
    lateness_p99: float | None


class HealthReport(_Model):
    """What ``scheduler.health_check()`` returns (see the module docstring for the status rules)."""

    status: HealthStatus
    reasons: list[str]
    checked_at: datetime
    scheduler_id: str
    #: running, paused or stopped
    state: str
    last_pass_at: datetime | None
    next_wakeup_time: datetime | None
    runs_in_flight: int
    claims_held: int
    tasks: TaskCounts
    runs: RunStats
    stores: list[StoreHealth]


def build_report(scheduler: BaseScheduler, window: float) -> HealthReport:
    now = scheduler.clock()
    state = {
        SchedulerState.STATE_RUNNING: "running",
        SchedulerState.STATE_PAUSED: "paused",
        SchedulerState.STATE_STOPPED: "stopped",
    }[scheduler.state]
    stores = [
        _store_health(scheduler, alias, store, now, probe=state != "stopped")
        for alias, store in list(scheduler.stores.items())
    ]
    runs = _run_stats(scheduler, window)
    reasons: list[str] = []
    failing = state == "stopped"
    if failing:
        reasons.append("the scheduler is not running")
    elif state == "paused":
        reasons.append("processing is paused")
    down = [store for store in stores if store.reachable is False]
    if down:
        if len(down) == len(stores):
            failing = True
        reasons.extend(f"store {store.alias!r} cannot be reached: {store.error}" for store in down)
    reasons.extend(
        f"store {store.alias!r} has {store.set_aside} task(s) set aside (stored but unrestorable)"
        for store in stores
        if store.set_aside
    )
    ran = runs.executed + runs.failed + runs.retried
    if runs.success_rate is not None and ran >= MIN_RUNS and runs.success_rate < MIN_SUCCESS_RATE:
        reasons.append(f"{runs.success_rate:.0%} of the last {ran} runs succeeded")
    if runs.lateness_p99 is not None and runs.lateness_p99 > MAX_LATENESS_P99:
        reasons.append(f"runs start late: p99 {runs.lateness_p99:.2f} s")
    status = HealthStatus.FAILING if failing else HealthStatus.DEGRADED if reasons else HealthStatus.OK
    executors = list(scheduler.executors.values())
    return HealthReport(
        status=status,
        reasons=reasons,
        checked_at=now,
        scheduler_id=scheduler.scheduler_id,
        state=state,
        last_pass_at=scheduler.run_log.last_pass_at,
        next_wakeup_time=scheduler.next_wakeup_time,
        runs_in_flight=sum(int(getattr(executor, "runs_in_flight", lambda: 0)()) for executor in executors),
        claims_held=sum(len(ids) for ids in list(scheduler.claims.by_store.values())),
        tasks=TaskCounts(
            scheduled=sum(store.scheduled or 0 for store in stores),
            paused=sum(store.paused or 0 for store in stores),
            set_aside=sum(store.set_aside for store in stores),
            pending=len(scheduler.pending_tasks),
        ),
        runs=runs,
        stores=stores,
    )


def _store_health(scheduler: BaseScheduler, alias: str, store: Store, now: datetime, probe: bool) -> StoreHealth:
    base: dict[str, Any] = {
        "alias": alias,
        "kind": type(store).__name__,
        "shared": store.supports_claims,
        "claims_held": len(scheduler.claims.by_store.get(alias, ())),
        "set_aside": int(getattr(store, "set_aside_count", lambda: 0)()),
    }
    if not probe:
        return StoreHealth(reachable=None, **base)
    began = time.perf_counter()
    try:
        store.ping()
        round_trip = (time.perf_counter() - began) * 1000
        scheduled, paused = store.count_tasks()
        seen: list[SchedulerSeen] = []
        if store.supports_claims:
            store.beat(scheduler.scheduler_id, now, now + timedelta(seconds=scheduler.lease_seconds))
            seen = _schedulers(scheduler, store.get_schedulers(now), now)
    except Exception as exc:
        detail = f"{type(exc).__name__}: {exc}"
        return StoreHealth(reachable=False, error=detail[:ERROR_LIMIT], **base)
    return StoreHealth(
        reachable=True,
        round_trip_ms=round(round_trip, 3),
        scheduled=scheduled,
        paused=paused,
        schedulers=seen,
        **base,
    )


def _schedulers(scheduler: BaseScheduler, rows: list[dict[str, Any]], now: datetime) -> list[SchedulerSeen]:
    stamp = now.timestamp()
    seen = []
    for row in rows:
        renewed, expires = row.get("renewed_at"), row.get("expires_at")
        seen.append(
            SchedulerSeen(
                scheduler_id=row["scheduler_id"],
                is_self=row["scheduler_id"] == scheduler.scheduler_id,
                last_renewal_age=None if renewed is None else round(max(stamp - renewed, 0.0), 3),
                alive=expires is not None and expires >= stamp,
                runs_held=int(row.get("runs_held") or 0),
            )
        )
    seen.sort(key=lambda entry: (not entry.is_self, entry.scheduler_id))
    return seen


def _run_stats(scheduler: BaseScheduler, window: float) -> RunStats:
    recent = scheduler.run_log.recent_outcomes(window)
    counts = dict.fromkeys((outcome.value for outcome in RunOutcome), 0)
    lateness = []
    for _, outcome, late in recent:
        counts[outcome] += 1
        if late is not None:
            lateness.append(late)
    executed, failed, retried = counts["executed"], counts["error"], counts["retried"]
    ran = executed + failed + retried
    lateness.sort()
    return RunStats(
        window_seconds=window,
        runs=len(recent),
        executed=executed,
        failed=failed,
        retried=retried,
        missed=counts["missed"],
        skipped=counts["skipped"],
        abandoned=counts["abandoned"],
        success_rate=None if not ran else executed / ran,
        lateness_p50=_percentile(lateness, 0.50),
        lateness_p99=_percentile(lateness, 0.99),
    )


def _percentile(ordered: list[float], q: float) -> float | None:
    """Nearest rank: the smallest value with at least ``q`` of the values at or below it."""
    if not ordered:
        return None
    return ordered[max(math.ceil(q * len(ordered)) - 1, 0)]


__all__ = ["HealthReport", "HealthStatus", "RunStats", "SchedulerSeen", "StoreHealth", "TaskCounts", "build_report"]
