"""Schedulers sharing a store keep time together: several processes run every due run once
and on time; a change another process makes is honoured at once; a shutdown leaves nothing
behind."""

from __future__ import annotations

import asyncio
import json
import os
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from asyncz_like import SCHEDULER_SHUTDOWN, AsyncIOScheduler, ManualScheduler, SchedulerEvent
from tests.realtime.conftest import NOTIFYING_KINDS, UTC, ErrorRecords, Timeline, percentile

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
POLL = 0.25  # the poll interval the tests set for stores that cannot announce changes


def change_delay_bound(kind: str) -> float:
    """Notifying servers: 100 ms from the change. Others: one poll interval more. The MongoDB-wire
    test server (nx-27017) delivers change-stream events itself some 50-150 ms late, and slows
    down while streams are open: 300 ms there (a real replica set is a server matter too)."""
    if kind == "mongodb":
        return 0.3
    return 0.1 if kind in NOTIFYING_KINDS else POLL + 0.1


def run_actor(store: dict[str, Any], steps: list[dict[str, Any]]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.realtime.actor", "--store", json.dumps(store), "--steps", json.dumps(steps)],
        cwd=ROOT,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def changes_made(actor: subprocess.Popen[str]) -> dict[tuple[str, str], tuple[float, float]]:
    """(op, id) -> (when the change began, when it was committed)."""
    out, err = actor.communicate(timeout=60)
    assert actor.returncode == 0, err[-2000:]
    made = {}
    for line in out.splitlines():
        op, task_id, began, done = line.split()
        made[(op, task_id)] = (float(began), float(done))
    return made


async def test_changes_made_by_another_process_are_honoured_without_a_restart(
    shared_kind_store: tuple[str, dict[str, Any]], error_log: ErrorRecords
) -> None:
    kind, store = shared_kind_store
    if kind == "mongodb":  # the test server is polled unless asked (see MongoDBStore.uses_change_streams)
        store = {**store, "change_streams": True}
    bound = change_delay_bound(kind)
    timeline = Timeline()
    executed_at: dict[str, list[tuple[datetime, float]]] = {}

    def record(event: SchedulerEvent) -> None:
        timeline(event)
        if event.code & Timeline.MASK and getattr(event, "scheduled_run_time", None) is not None:
            executed_at.setdefault(event.task_id or "", []).append((event.scheduled_run_time, time.time()))  # type: ignore[attr-defined]

    scheduler = AsyncIOScheduler(timezone="UTC", stores={"default": dict(store)}, poll_interval=POLL)
    scheduler.add_listener(record, Timeline.MASK)
    scheduler.start()
    try:
        now = datetime.now(UTC)
        scheduler.add_task("tests.realtime.jobs:touch", "date", run_at=now + timedelta(hours=1), id="later")
        scheduler.add_task("tests.realtime.jobs:touch", "interval", seconds=0.3, id="ticking")
        doomed_at = time.time() + 4.0
        scheduler.add_task(
            "tests.realtime.jobs:touch", "date", run_at=datetime.fromtimestamp(doomed_at, UTC), id="doomed"
        )
        await asyncio.sleep(0.5)  # idle but for "ticking"
        soon = time.time() + 2.0  # the actor needs a moment to start
        actor = run_actor(
            store,
            [
                {"op": "add", "id": "fresh"},  # due at once: measured from the change
                {"op": "reschedule", "id": "later", "at": soon + 0.5},  # measured from its run time
                {"op": "pause", "id": "ticking"},
                {"op": "delete", "id": "doomed"},
                {"op": "resume", "id": "ticking", "after": 1.5},
            ],
        )
        made = await asyncio.to_thread(changes_made, actor)
        await asyncio.sleep(max(doomed_at + 0.5 - time.time(), 0) + 0.6)
    finally:
        scheduler.shutdown()

    fresh = executed_at.get("fresh", [])
    assert len(fresh) == 1, f"{kind}: a task added by another process ran {len(fresh)} times"
    added = made[("add", "fresh")][1]
    assert fresh[0][1] - added < bound, f"{kind}: added elsewhere, ran {fresh[0][1] - added:.3f} s after the change"
    later = executed_at.get("later", [])
    assert len(later) == 1, f"{kind}: a task rescheduled elsewhere ran {len(later)} times"
    assert later[0][1] - later[0][0].timestamp() < bound, f"{kind}: rescheduled elsewhere, ran late"
    ticking = [run_time.timestamp() for run_time, _ in executed_at.get("ticking", [])]
    paused, resumed = made[("pause", "ticking")][1], made[("resume", "ticking")][0]
    assert not [t for t in ticking if paused + 0.35 < t < resumed], f"{kind}: ran while paused elsewhere"
    resume_done = made[("resume", "ticking")][1]
    after_resume = sorted(
        (run_time.timestamp(), t_exec) for run_time, t_exec in executed_at.get("ticking", []) if t_exec > resumed
    )
    assert after_resume, f"{kind}: never ran again after being resumed elsewhere"
    first_run_time, first_exec = after_resume[0]
    delay = first_exec - max(first_run_time, resume_done)  # from the change, or the run time if later
    assert delay < bound, f"{kind}: resumed elsewhere, ran {delay:.3f} s after it was due"
    assert "doomed" not in executed_at, f"{kind}: a task deleted elsewhere still ran"
    assert timeline.missed == []
    assert error_log.messages() == []


@pytest.mark.parametrize("processes", [1, 3])
def test_several_processes_run_every_due_run_once_and_on_time(
    shared_kind_store: tuple[str, dict[str, Any]], processes: int, tmp_path: Path
) -> None:
    kind, store = shared_kind_store
    tasks, seconds = 20, 6.0
    record = tmp_path / "record.txt"
    record.touch()
    until = time.time() + 60  # replaced below, once every worker is ready
    workers = []
    for _ in range(processes):
        workers.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tests.realtime.worker",
                    "--store",
                    json.dumps(store),
                    "--record",
                    str(record),
                    "--until",
                    str(time.time() + 3 + seconds + 20),
                ],
                cwd=ROOT,
                env=ENV,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    try:
        for worker in workers:
            assert worker.stdout is not None and worker.stdout.readline().strip() == "ready"
        # due after the workers' first poll (1 s by default): how soon a change made elsewhere
        # is seen is the other test's subject
        start = time.time() + 1.5
        until = start + seconds
        # added by a separate process-like client, as a deploy would, while the workers run
        client = ManualScheduler(timezone="UTC", stores={"default": dict(store)})
        client.start(paused=True)
        for n in range(tasks):
            client.add_task(
                "tests.realtime.jobs:touch",
                "interval",
                seconds=1,
                start_at=datetime.fromtimestamp(start, UTC),
                id=f"t{n}",
            )
        client.shutdown()
        time.sleep(max(until + 0.8 - time.time(), 0))
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)

    lines = [line.split() for line in record.read_text().splitlines()]
    executed = [(fields[1], float(fields[2])) for fields in lines if fields[0] == "executed"]
    lateness = [float(fields[3]) for fields in lines if fields[0] == "executed"]
    missed = [fields for fields in lines if fields[0] == "missed"]
    errors = [fields[1] for fields in lines if fields[0] == "error"]
    due = {(f"t{n}", start + k) for n in range(tasks) for k in range(int(seconds)) if start + k <= until - 0.5}
    counts = Counter(executed)
    ran = {(task_id, round(t - start) + start) for task_id, t in counts}
    assert [run for run, n in counts.items() if n > 1] == [], f"{kind}: duplicate runs"
    assert not due - ran, f"{kind}: {len(due - ran)} of {len(due)} due runs never executed"
    assert missed == [], f"{kind}: {len(missed)} runs reported missed"
    assert percentile(lateness, 0.99) < 0.5, f"{kind}: lateness p99 {percentile(lateness, 0.99):.3f} s"
    assert errors == [], f"{kind}: ERROR log records: {errors[:3]}"


def codes_of(codes: list[int]) -> Any:
    return lambda event: codes.append(event.code)


async def test_a_shutdown_at_any_moment_leaves_no_claim_no_error_and_reports_every_run(
    any_store: tuple[str, dict[str, Any]], error_log: ErrorRecords
) -> None:
    kind, store = any_store
    rng = random.Random(1234)
    for round_ in range(4):
        timeline = Timeline()
        codes: list[int] = []
        scheduler = AsyncIOScheduler(
            timezone="UTC", stores={"default": dict(store)}, executors={"default": "asyncio", "pool": "threadpool"}
        )
        scheduler.add_listener(timeline, Timeline.MASK)
        scheduler.add_listener(codes_of(codes))
        scheduler.start()
        for n in range(6):
            scheduler.add_task(
                "tests.realtime.jobs:busy", "interval", seconds=0.1, id=f"p{n}", executor="pool", replace_existing=True
            )
            scheduler.add_task("tests.realtime.jobs:abusy", "interval", seconds=0.1, id=f"c{n}", replace_existing=True)
        await asyncio.sleep(rng.uniform(0.2, 0.7))
        await asyncio.to_thread(scheduler.shutdown)  # from another thread: it may block for the runs
        submitted = Counter(task_id for task_id, _ in timeline.submitted)
        executed = Counter(task_id for task_id, _, _, _ in timeline.executed)
        assert submitted and submitted == executed, f"{kind} round {round_}: submitted {submitted} executed {executed}"
        assert codes[-1] == SCHEDULER_SHUTDOWN, f"{kind}: an event came after SCHEDULER_SHUTDOWN"
        if kind != "memory":
            inspector = AsyncIOScheduler(timezone="UTC", stores={"default": dict(store)})
            inspector.start(paused=True)
            try:
                held = inspector.stores["default"].claim_due_tasks(
                    datetime.now(UTC) + timedelta(days=1), "inspector", 30
                )
                assert [task.id for task in held if task.interrupted_at is not None] == [], (
                    f"{kind}: claims left behind by the shutdown"
                )
                inspector.remove_all_tasks()
            finally:
                inspector.shutdown()
    assert error_log.messages() == []


@pytest.mark.parametrize("kind", sorted(NOTIFYING_KINDS))
def test_shutdown_stops_the_change_feed_at_once_and_closes_its_connection(kind: str, tmp_path: Path) -> None:
    from tests.shared_store.conftest import store_config

    store = store_config(kind, tmp_path)
    if kind == "mongodb":
        store["change_streams"] = True
    scheduler = AsyncIOScheduler(timezone="UTC", stores={"default": store})
    scheduler.start(paused=True)
    assert [t for t in threading.enumerate() if t.name.startswith("asyncz_like-") and "scheduler" not in t.name]
    began = time.monotonic()
    scheduler.shutdown()
    took = time.monotonic() - began
    feeds = [
        t.name
        for t in threading.enumerate()
        if t.name in ("asyncz_like-PostgreSQL", "asyncz_like-Redis", "asyncz_like-MongoDB")
    ]
    assert feeds == [], f"{kind}: feed threads still alive after shutdown: {feeds}"
    assert took < 0.3, f"{kind}: shutdown took {took:.2f} s"
    if kind == "postgres":
        import sqlalchemy

        engine = sqlalchemy.create_engine(store["url"])
        with engine.connect() as conn:
            listening = conn.execute(
                sqlalchemy.text(
                    "select count(*) from pg_stat_activity where query like 'LISTEN %%' and pid <> pg_backend_pid()"
                )
            ).scalar()
        engine.dispose()
        assert listening == 0, "the LISTEN connection is closed"


def test_a_standalone_mongodb_server_is_polled_unless_change_streams_are_asked_for(tmp_path: Path) -> None:
    """MongoDB offers change streams on replica sets and sharded clusters; the test server is
    a standalone one, whose change streams slow every other call: polled by default."""
    from tests.shared_store.conftest import store_config

    auto = AsyncIOScheduler(timezone="UTC", stores={"default": store_config("mongodb", tmp_path)})
    forced = AsyncIOScheduler(
        timezone="UTC", stores={"default": {**store_config("mongodb", tmp_path), "change_streams": True}}
    )
    for scheduler in (auto, forced):
        scheduler.start(paused=True)
    try:
        assert auto.poll_interval_now() is None  # paused: no polling; the store is not watched either
        assert "default" not in auto._watched and "default" in forced._watched
    finally:
        auto.shutdown()
        forced.shutdown()
