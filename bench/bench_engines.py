"""Runs per second through each engine, beside the in-process thread pool, in one run.

    python bench/bench_engines.py [--runs 1000] [--latency 50] [--engines threadpool,celery,dask]

Needs the plugins (``pip install -e plugins/celery -e plugins/dask``) and, for Celery, a
Redis server (``ASYNCZ_TEST_REDIS_URL``; ``source scripts/servers.sh; servers_start``).
Every engine gets 2 workers: the thread pool 2 threads, Celery one worker process with a
prefork pool of 2 (started here, on database 6 of that Redis, with the ready app
``asyncz_like_celery.worker``), Dask a LocalCluster of 2 worker processes of one thread.

Two figures per engine, both with a no-op function so they show the cost of the hop:

* throughput: ``--runs`` tasks due at once, one processing pass, clock until the last
  TASK_EXECUTED reached the scheduler (runs/s);
* latency: ``--latency`` runs one after another, each from ``run_task`` to its
  TASK_EXECUTED (median and p90, ms). The hop per run is the engine's median minus the
  thread pool's.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WORKERS = 2
CELERY_DB = 6


def noop() -> None:
    """The benchmarked task: nothing, so the figures are the cost of getting there and back."""


class Counter:
    """Counts outcomes (TASK_EXECUTED, TASK_ERROR, TASK_MISSED); ``wait`` blocks until ``n``
    have arrived. ``missed`` counts the runs given up under the default misfire grace (1 s)."""

    def __init__(self) -> None:
        self.count = 0
        self.missed = 0
        self.cond = threading.Condition()

    def __call__(self, event: Any) -> None:
        from asyncz_like import TASK_MISSED

        with self.cond:
            self.count += 1
            self.missed += event.code == TASK_MISSED
            self.cond.notify_all()

    def wait(self, n: int, timeout: float = 120.0) -> None:
        with self.cond:
            if not self.cond.wait_for(lambda: self.count >= n, timeout):
                raise TimeoutError(f"only {self.count} of {n} runs reported")


def measure(executor: Callable[[], Any], runs: int, latency_runs: int, on_interrupted: str) -> dict[str, float]:
    from asyncz_like import TASK_ERROR, TASK_EXECUTED, TASK_MISSED, ManualScheduler

    counter = Counter()
    scheduler = ManualScheduler(timezone="UTC")
    scheduler.add_executor(executor(), "default")
    scheduler.add_listener(counter, TASK_EXECUTED | TASK_ERROR | TASK_MISSED)
    scheduler.start()
    try:
        options = {"on_interrupted": on_interrupted}  # and the default misfire grace
        scheduler.add_task("bench.bench_engines:noop", "interval", hours=1, id="warm", **options)
        scheduler.run_task("warm")  # connections, imports on the workers
        counter.wait(1)
        now = datetime.now(timezone.utc)  # due now, not when the engine began warming up
        for n in range(runs):
            scheduler.add_task("bench.bench_engines:noop", "date", run_at=now, id=f"r{n}", **options)
        started = time.perf_counter()
        scheduler.process_tasks()
        counter.wait(1 + runs)
        throughput = runs / (time.perf_counter() - started)
        latencies = []
        for n in range(latency_runs):
            started = time.perf_counter()
            scheduler.run_task("warm")
            counter.wait(2 + runs + n)
            latencies.append((time.perf_counter() - started) * 1000)
    finally:
        scheduler.shutdown()
    deciles = statistics.quantiles(latencies, n=10)
    figures = {"runs_per_s": throughput, "p50_ms": statistics.median(latencies), "p90_ms": deciles[-1]}
    return {**figures, "missed": float(counter.missed)}


@contextmanager
def celery_worker() -> Iterator[str]:
    """A worker process of the ready app with a prefork pool of 2; yields the broker URL."""
    redis_url = os.environ.get("ASYNCZ_TEST_REDIS_URL")
    if not redis_url:
        raise RuntimeError("ASYNCZ_TEST_REDIS_URL is not set (source scripts/servers.sh; servers_start)")
    url = urlunsplit(urlsplit(redis_url)._replace(path=f"/{CELERY_DB}"))
    hostname = f"bench-{os.getpid()}@{socket.gethostname()}"
    env = {**os.environ, "ASYNCZ_LIKE_CELERY_BROKER_URL": url, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "celery", "-A", "asyncz_like_celery.worker", "worker", "--pool=prefork"]
    command += [f"--concurrency={WORKERS}", "-n", hostname, "-l", "error"]
    command += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        from celery import Celery

        app = Celery("bench", broker=url, backend=url, set_as_current=False)
        deadline = time.monotonic() + 60
        while not app.control.ping(destination=[hostname], timeout=0.5):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the Celery worker did not start")
        app.close()
        yield url
    finally:
        process.terminate()  # a warm shutdown: the worker stops its own pool
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def run_engine(name: str, runs: int, latency_runs: int) -> list[tuple[str, dict[str, float]]]:
    if name == "threadpool":
        from asyncz_like.executors.pool import ThreadPoolExecutor

        return [
            (
                "threadpool (in process)",
                measure(lambda: ThreadPoolExecutor(max_workers=WORKERS), runs, latency_runs, "report"),
            )
        ]
    if name == "celery":
        from asyncz_like_celery import CeleryExecutor

        with celery_worker() as url:
            return [
                ("celery (prefork 2)", measure(lambda: CeleryExecutor(broker_url=url), runs, latency_runs, "report"))
            ]
    if name == "dask":
        from asyncz_like_dask import DaskExecutor
        from distributed import LocalCluster

        os.environ["PYTHONPATH"] = str(ROOT)
        with LocalCluster(n_workers=WORKERS, threads_per_worker=1, dashboard_address=None) as cluster:
            address = cluster.scheduler_address
            return [
                (
                    f"dask ({WORKERS} processes), {policy}",
                    measure(lambda: DaskExecutor(address=address), runs, latency_runs, policy),
                )
                for policy in ("report", "rerun")
            ]
    raise ValueError(f"--engines: unknown engine {name!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--latency", type=int, default=50)
    parser.add_argument("--engines", default="threadpool,celery,dask")
    options = parser.parse_args()
    rows = []
    for name in options.engines.split(","):
        rows += run_engine(name.strip(), options.runs, options.latency)
    base = next((figures["p50_ms"] for label, figures in rows if label.startswith("threadpool")), None)
    print(f"\n{'engine':34} {'runs/s':>8} {'missed':>7} {'p50 ms':>8} {'p90 ms':>8} {'hop ms':>8}")
    for label, figures in rows:
        hop = "" if base is None else f"{figures['p50_ms'] - base:8.2f}"
        print(
            f"{label:34} {figures['runs_per_s']:8.0f} {figures['missed']:7.0f} {figures['p50_ms']:8.2f}"
            f" {figures['p90_ms']:8.2f} {hop}"
        )


if __name__ == "__main__":
    main()
