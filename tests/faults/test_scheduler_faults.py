"""Faults seen from the scheduler: a store that goes away while a run is in flight, a hung
server, an executor with every worker busy, a shutdown at any moment. Private servers (never
the shared ones) where a server is stopped or hung."""

from __future__ import annotations

import asyncio
import random
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from asyncz_like import (
    SCHEDULER_SHUTDOWN,
    TASK_EXECUTED,
    TASK_MISSED,
    TASK_QUEUED,
    TASK_RUN_ABANDONED,
    TASK_SUBMITTED,
    AsyncIOScheduler,
    SchedulerEvent,
    StoreConnectionError,
)
from tests.private_servers import Server, postgres_server, redis_server  # noqa: F401 - fixtures
from tests.realtime.conftest import (  # noqa: F401 - fixture
    ErrorRecords,
    Timeline,
    any_store,
    error_log,
)

UTC = timezone.utc
pytestmark = pytest.mark.servers


def private_store(kind: str, server: Server) -> dict[str, Any]:
    timeouts = {"connect_timeout": 0.5, "operation_timeout": 1.0}
    if kind == "redis":
        return {
            "type": "redis",
            "url": server.url,
            "tasks_key": "sched.tasks",
            "run_times_key": "sched.runs",
            **timeouts,
        }
    return {"type": "sqlalchemy", "url": server.url, "tablename": "sched_faults", **timeouts}


class Outcomes:
    """Executions (scheduled time, wall time), abandoned and missed runs, as listeners saw them."""

    def __init__(self) -> None:
        self.executed: list[tuple[datetime, float]] = []
        self.abandoned: list[datetime] = []
        self.missed: list[datetime] = []

    def __call__(self, event: SchedulerEvent) -> None:
        if event.code == TASK_EXECUTED:
            self.executed.append((event.scheduled_run_time, time.time()))  # type: ignore[attr-defined]
        elif event.code == TASK_MISSED:
            self.missed.append(event.scheduled_run_time)  # type: ignore[attr-defined]
        elif event.code == TASK_RUN_ABANDONED:
            self.abandoned.extend(event.scheduled_run_times)  # type: ignore[attr-defined]

    MASK = TASK_EXECUTED | TASK_MISSED | TASK_RUN_ABANDONED


@pytest.mark.parametrize("kind", ["redis", "postgres"])
@pytest.mark.parametrize("outage", [1.5, 5.0], ids=["shorter-than-the-lease", "longer-than-the-lease"])
async def test_a_store_outage_during_a_run_loses_nothing_and_the_task_runs_once_the_store_is_back(
    kind: str, outage: float, request: pytest.FixtureRequest
) -> None:
    server: Server = request.getfixturevalue(f"{kind}_server")
    outcomes = Outcomes()
    scheduler = AsyncIOScheduler(
        timezone="UTC",
        stores={"default": private_store(kind, server)},
        executors={"default": "threadpool"},
        lease_seconds=3.0,
        store_retry_interval=0.5,
    )
    scheduler.add_listener(outcomes, Outcomes.MASK)
    scheduler.start()
    try:
        scheduler.remove_all_tasks()
        scheduler.add_task("tests.faults.jobs:slow", "interval", seconds=0.5, id="work", mistrigger_grace_time=None)
        await asyncio.sleep(1.2)
        server.stop()  # a run is in flight (0.4 s of every 0.5 s)
        stopped = time.time()
        await asyncio.sleep(outage)
        server.start()
        back = time.time()
        await asyncio.sleep(3.0)
    finally:
        server.heal()
        scheduler.shutdown()

    before = [t for t, wall in outcomes.executed if wall < stopped]
    after = sorted(wall for _, wall in outcomes.executed if wall > back)
    assert before, "ran before the outage"
    assert after, "never ran again after the store came back"
    # released as soon as the store answers (retried every store_retry_interval), not when the lease ends
    assert after[0] - back < 0.5 + 0.5 + 0.4 + 0.5, f"ran again {after[0] - back:.2f} s after the store was back"
    assert outcomes.abandoned == [], "a scheduler reported its own run as a dead scheduler's"
    runs = [t for t, _ in outcomes.executed]
    assert len(runs) == len(set(runs)), "a run time executed twice"


async def test_a_hung_server_fails_an_api_call_within_the_timeout_and_the_loop_keeps_running(
    redis_server: Server,  # noqa: F811
) -> None:
    ticks: list[float] = []

    async def ticker() -> None:
        while True:
            ticks.append(time.monotonic())
            await asyncio.sleep(0.05)

    scheduler = AsyncIOScheduler(timezone="UTC", stores={"default": private_store("redis", redis_server)})
    scheduler.start()
    ticking = asyncio.create_task(ticker())
    try:
        redis_server.pause()
        started = time.monotonic()
        with pytest.raises(StoreConnectionError) as caught:
            scheduler.add_task("tests.faults.jobs:quick", "interval", seconds=1, id="during-the-hang")
        took = time.monotonic() - started
        redis_server.resume()
        assert took < 2.5, f"add_task blocked {took:.1f} s on a hung server (timeout 1 s)"
        assert "default" in str(caught.value) and "***" in str(caught.value), "names the store, masks the password"
        scheduler.add_task("tests.faults.jobs:quick", "interval", seconds=1, id="after-the-hang")
        await asyncio.sleep(0.3)
        assert ticks[-1] > started + took, "the loop runs on after the failed call"
    finally:
        redis_server.heal()
        ticking.cancel()
        scheduler.remove_all_tasks()
        scheduler.shutdown()


async def test_an_executor_with_every_worker_busy_reports_the_runs_it_queues(
    any_store: tuple[str, dict[str, Any]],  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    kind, store = any_store
    queued: list[str | None] = []
    executed: list[str | None] = []
    scheduler = AsyncIOScheduler(
        timezone="UTC",
        stores={"default": dict(store)},
        executors={"default": {"type": "threadpool", "max_workers": 2}},
    )
    scheduler.add_listener(lambda event: queued.append(event.task_id), TASK_QUEUED)
    scheduler.add_listener(lambda event: executed.append(event.task_id), TASK_EXECUTED)
    scheduler.start()
    try:
        for n in range(2):
            scheduler.add_task("tests.faults.jobs:stuck", "date", id=f"stuck{n}")
        await asyncio.sleep(0.3)
        scheduler.add_task("tests.faults.jobs:quick", "date", id="waiting")
        await asyncio.sleep(0.5)
        assert queued == ["waiting"], f"{kind}: queued runs reported: {queued}"
        assert "at capacity" in caplog.text, f"{kind}: no warning about the full pool"
        assert "waiting" not in executed
    finally:
        await asyncio.to_thread(scheduler.shutdown)
    assert "waiting" in executed, f"{kind}: the queued run ran once a worker was free"


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_a_shutdown_at_a_random_moment_fifty_times_over_loses_no_run_and_logs_no_error(
    kind: str,
    tmp_path: Path,
    error_log: ErrorRecords,  # noqa: F811
) -> None:
    rng = random.Random(18)
    store: dict[str, Any] = {"type": "memory"}
    if kind == "sqlite":
        store = {"type": "sqlalchemy", "url": f"sqlite:///{tmp_path / 'tasks.db'}"}
    for round_ in range(50):
        timeline = Timeline()
        codes: list[int] = []

        def note(event: SchedulerEvent, codes: list[int] = codes) -> None:
            codes.append(event.code)  # listeners are called on the loop thread, one at a time

        scheduler = AsyncIOScheduler(timezone="UTC", stores={"default": dict(store)})  # its own loop thread
        scheduler.add_listener(timeline, Timeline.MASK)
        scheduler.add_listener(note)
        scheduler.start()
        for n in range(4):
            scheduler.add_task("tests.realtime.jobs:busy", "interval", seconds=0.02, id=f"p{n}", replace_existing=True)
            scheduler.add_task("tests.realtime.jobs:abusy", "interval", seconds=0.02, id=f"c{n}", replace_existing=True)
        time.sleep(rng.uniform(0.0, 0.25))
        scheduler.shutdown()
        submitted = sorted(task_id for task_id, _ in timeline.submitted)
        executed = sorted(task_id for task_id, _, _, _ in timeline.executed)
        assert submitted == executed, f"round {round_}: a submitted run was never reported"
        assert codes[-1] == SCHEDULER_SHUTDOWN, f"round {round_}: an event after SCHEDULER_SHUTDOWN"
        assert TASK_SUBMITTED not in codes[codes.index(SCHEDULER_SHUTDOWN) :]
    assert error_log.messages() == []
