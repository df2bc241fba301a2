"""Claimed-and-executed runs per second with 1, 2 and 4 scheduler processes sharing one store.

    python bench/bench_claims.py [--tasks 2000] [--kinds postgres,redis] [--quick]

Needs ASYNCZ_TEST_POSTGRES_URL / ASYNCZ_TEST_REDIS_URL (``source scripts/servers.sh;
servers_start``). Every task is due at once and runs a no-op once; each process appends
"run <task> <epoch>" per execution, and "missed <task> <epoch>" per run it reports missed
(default misfire grace, 1 s: a run started later than that is lost, and shows), to one
record file. The run time is set far enough ahead that filling the store and starting the
workers are done by then (``ready``: the seconds the last worker had to spare). Throughput
is executions / (all released - first execution), and the run also checks that every task
ran exactly once.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

URL_ENV = {"postgres": "ASYNCZ_TEST_POSTGRES_URL", "redis": "ASYNCZ_TEST_REDIS_URL", "mariadb": "ASYNCZ_TEST_MYSQL_URL"}


def noop() -> None:
    """The benchmarked task: nothing, so the figure is the scheduling cost."""


def store_config(kind: str) -> dict[str, Any]:
    uid = uuid.uuid4().hex[:10]
    url = os.environ[URL_ENV[kind]]
    if kind == "redis":
        return {"type": "redis", "url": url, "tasks_key": f"bench.{uid}.tasks", "run_times_key": f"bench.{uid}.times"}
    return {"type": "sqlalchemy", "url": url, "tablename": f"bench_{uid}"}


def lead(tasks: int) -> float:
    """Seconds from starting to fill the store to the tasks' run time: filling (a few hundred
    tasks/s on a SQL server) and starting the worker processes must both be done by then, or
    the default misfire grace would judge the harness rather than the scheduler."""
    return 3 + tasks / 250


def fill(store: dict[str, Any], tasks: int, due: datetime) -> None:
    from asyncz_like import ManualScheduler

    now = datetime.now(timezone.utc)
    scheduler = ManualScheduler(timezone="UTC", stores={"default": dict(store)})
    scheduler.start()
    for n in range(tasks):
        scheduler.add_task(
            "bench.bench_claims:noop",
            "interval",
            hours=1,
            start_at=now,
            id=f"b{n}",
            next_run_time=due,
        )
    scheduler.shutdown()


async def serve(store: dict[str, Any], record: str, until: float) -> None:
    """One worker process: a scheduler whose listener records every execution and every miss
    (counted, so the log's warning per missed run is left out), until the epoch ``until``."""
    from asyncz_like import TASK_EXECUTED, TASK_MISSED, AsyncIOScheduler, SchedulerEvent

    logging.getLogger("asyncz_like").setLevel(logging.ERROR)

    fd = os.open(record, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def write(event: SchedulerEvent) -> None:
        kind = "run" if event.code == TASK_EXECUTED else "missed"
        os.write(fd, f"{kind} {event.task_id} {time.time():.6f}\n".encode())

    scheduler = AsyncIOScheduler(timezone="UTC", stores={"default": store}, lease_seconds=30)
    scheduler.add_listener(write, TASK_EXECUTED | TASK_MISSED)
    scheduler.start()
    print("ready", time.time(), flush=True)
    await asyncio.sleep(max(until - time.time(), 0))
    scheduler.shutdown(wait=True)


def measure(kind: str, processes: int, tasks: int) -> dict[str, Any]:
    store = store_config(kind)
    due = datetime.now(timezone.utc) + timedelta(seconds=lead(tasks))
    fill(store, tasks, due)
    record = Path(tempfile.mkdtemp()) / "record.txt"
    record.touch()
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--serve",
                json.dumps(store),
                "--record",
                str(record),
                "--until",
                str(due.timestamp() + 4 + tasks / 150),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    ready = [float(worker.stdout.readline().split()[1]) for worker in workers if worker.stdout]
    released_at = wait_until_released(store, tasks, deadline=due.timestamp() + 4 + tasks / 100)
    for worker in workers:
        worker.wait(timeout=300)
    lines = [line.split() for line in record.read_text().splitlines()]
    runs = [(task_id, float(stamp)) for kind, task_id, stamp in lines if kind == "run"]
    counts = Counter(task_id for task_id, _ in runs)
    first = min((stamp for _, stamp in runs), default=None)
    span = None if released_at is None or first is None else released_at - first
    return {
        "store": kind,
        "processes": processes,
        "tasks": tasks,
        "executed": len(counts),
        "missed": sum(1 for kind, _, _ in lines if kind == "missed"),
        "duplicates": sum(1 for n in counts.values() if n > 1),
        "runs_per_s": round(len(runs) / span, 1) if span else None,
        "ready_before_due_s": round(due.timestamp() - max(ready), 2),
    }


def wait_until_released(store: dict[str, Any], tasks: int, deadline: float) -> float | None:
    """When every task is back in the store with its next run an hour ahead and no claim:
    claimed, executed and released. Polls only the next run time (which counts a claimed
    task at its lease expiry, well before the horizon), so the poller does not compete for
    the CPU by reading every task; the full read happens once, at the end."""
    from asyncz_like import plugins

    options = dict(store)
    reader = plugins.create(plugins.STORES, options.pop("type"), options)
    reader.start(None, "bench")
    horizon = datetime.now(timezone.utc) + timedelta(minutes=30)
    try:
        while time.time() < deadline:
            first = reader.get_next_run_time()
            if first is not None and first > horizon:
                released_at = time.time()
                done = [t for t in reader.get_all_tasks() if t.next_run_time and t.next_run_time > horizon]
                return released_at if len(done) == tasks else None
            time.sleep(0.01)
        return None
    finally:
        reader.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument("--kinds", default="postgres,redis")
    parser.add_argument("--processes", default="1,2,4")
    parser.add_argument("--quick", action="store_true", help="tiny smoke run")
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--record", help=argparse.SUPPRESS)
    parser.add_argument("--until", type=float, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.serve:
        asyncio.run(serve(json.loads(options.serve), options.record, options.until))
        return
    tasks = 50 if options.quick else options.tasks
    counts = [1, 2] if options.quick else [int(n) for n in options.processes.split(",")]
    rows = []
    print(
        f"{'store':<10}{'processes':>10}{'tasks':>8}{'executed':>10}{'missed':>8}{'dupes':>7}{'runs/s':>10}{'ready':>8}"
    )
    for kind in options.kinds.split(","):
        if not os.environ.get(URL_ENV[kind]):
            print(f"{kind:<10} skipped: {URL_ENV[kind]} is not set")
            continue
        for processes in counts:
            row = measure(kind, processes, tasks)
            rows.append(row)
            print(
                f"{kind:<10}{processes:>10}{tasks:>8}{row['executed']:>10}{row['missed']:>8}{row['duplicates']:>7}"
                f"{row['runs_per_s']!s:>10}{row['ready_before_due_s']:>7}s"
            )
    (ROOT / "bench" / "results-claims.json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
