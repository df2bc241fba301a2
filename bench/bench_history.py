"""What run history costs on the fire path: the same workloads with ``history=False`` and with
history on (the default), side by side.

    python bench/bench_history.py                    # memory and SQLite, 5 repetitions
    python bench/bench_history.py --stores memory --reps 3 --count 5000

The workloads are ``bench/run.py``'s own (``wl_fire``: N due tasks fired at once, exec/s;
``wl_lateness``: tasks spread over a window, start lateness p50/p99), run by our adapter
with only the ``history`` option changed, each measurement in a fresh interpreter; the
figures are medians. With history on, every run also builds a record, and the records go
to the store (SQLite: a batched INSERT per flush on the store thread; memory: kept in
process).

Whole-run throughput spreads widely on a busy machine, so the memory rows end with the part
of the fire path that history changes, timed apart: ``RunLog.finished`` for one successful
run, nobody listening (the common case), best of 5 rounds of 100,000 calls.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def one(spec: dict[str, Any]) -> dict[str, Any]:
    """Run one workload once, in this process."""
    sys.path[:0] = [str(HERE), str(ROOT)]
    if spec["workload"] == "finish":
        return {"us_per_run": finish_cost(spec["history"])}
    from libs import Ours

    cpu_at: dict[str, float] = {}

    class Adapter(Ours):
        def build(self) -> Any:
            scheduler = super().build()
            scheduler.setup(history=spec["history"])
            return scheduler

        def resume(self) -> None:  # the fire workloads: firing starts here ...
            cpu_at["resume"] = time.process_time()
            super().resume()

        def shutdown(self, wait: bool = False) -> None:  # ... and is over here
            cpu_at["shutdown"] = time.process_time()
            super().shutdown(wait)

    logging.disable(logging.WARNING)
    module = importlib.import_module(f"wl_{spec['workload']}")
    with tempfile.TemporaryDirectory(prefix="asyncz-like-history-bench-") as tmp:
        url = f"sqlite:///{os.path.join(tmp, 'bench.db')}" if spec["store"] == "sqlite" else None
        cpu = time.process_time()
        result: dict[str, Any] = asyncio.run(module.run(Adapter(spec["store"], url), spec["params"]))
        # CPU time (every thread of the process) is less disturbed than throughput by other
        # processes on a busy machine: of the whole workload (adding the tasks too) per task,
        # and of firing alone per run
        result["cpu_us_per_task"] = (time.process_time() - cpu) / spec["params"]["count"] * 1e6
        if "resume" in cpu_at and result.get("ran"):
            result["fire_cpu_us_per_run"] = (cpu_at["shutdown"] - cpu_at["resume"]) / result["ran"] * 1e6
        return result


def finish_cost(history: bool, calls: int = 100_000) -> float:
    """Microseconds per call of ``RunLog.finished`` for one successful run of a task on the
    memory store, nobody listening: recording the outcome (and, with history on, its record)."""
    import timeit
    from datetime import datetime, timezone

    from asyncz_like import ManualScheduler

    scheduler = ManualScheduler(timezone="UTC", history=history)
    scheduler.start(paused=True)
    task = scheduler.add_task(print, "interval", seconds=60, id="t")
    task.store_alias = "default"
    started = time.time()
    outcomes = [(datetime.now(timezone.utc), True, None, None, None, started, started + 0.001)]
    finished = scheduler.run_log.finished
    best = min(timeit.repeat(lambda: finished(task, "default", outcomes), number=calls, repeat=5))
    scheduler.shutdown()
    return best / calls * 1e6


def measure(spec: dict[str, Any]) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, __file__, "--one", json.dumps(spec)], capture_output=True, text=True, timeout=300, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"{spec}: {result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--count", type=int, default=20_000, help="tasks fired at once (memory; SQLite: count / 20)")
    parser.add_argument("--stores", default="memory,sqlite")
    parser.add_argument("--json", help="also write every sample to this file")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.one:
        print(json.dumps(one(json.loads(options.one))))
        return
    rows = []
    for store in options.stores.split(","):
        count = options.count if store == "memory" else max(options.count // 20, 50)
        workloads = [
            (f"fire {count} due, async", "fire", {"count": count, "kind": "async", "timeout": 120}, "exec_per_s"),
            (
                "  CPU us per run, firing",
                "fire",
                {"count": count, "kind": "async", "timeout": 120},
                "fire_cpu_us_per_run",
            ),
            ("  CPU us per task, all", "fire", {"count": count, "kind": "async", "timeout": 120}, "cpu_us_per_task"),
            (f"fire {count} due, sync", "fire", {"count": count, "kind": "sync", "timeout": 120}, "exec_per_s"),
            (
                "  CPU us per run, firing",
                "fire",
                {"count": count, "kind": "sync", "timeout": 120},
                "fire_cpu_us_per_run",
            ),
            ("  CPU us per task, all", "fire", {"count": count, "kind": "sync", "timeout": 120}, "cpu_us_per_task"),
            ("lateness p50 (ms)", "lateness", {"count": 1000, "window": 2.0}, "p50_ms"),
            ("lateness p99 (ms)", "lateness", {"count": 1000, "window": 2.0}, "p99_ms"),
        ]
        if store == "memory":
            workloads.append(("record an outcome (us)", "finish", {"count": 1}, "us_per_run"))
        runs = {json.dumps(params, sort_keys=True): (workload, params) for _, workload, params, _ in workloads}
        measured: dict[tuple[str, bool], list[dict[str, Any]]] = {}
        for rep in range(options.reps):
            for workload, params in runs.values():  # several rows may read the same run
                # off and on in turn, first one then the other: drift, and whatever the run
                # before leaves behind, hit both alike
                for history in (False, True) if rep % 2 == 0 else (True, False):
                    spec = {"workload": workload, "store": store, "history": history, "params": params}
                    key = (json.dumps(params, sort_keys=True), history)
                    measured.setdefault(key, []).append(measure(spec))
        for label, _, params, metric in workloads:
            key = json.dumps(params, sort_keys=True)
            off = [result[metric] for result in measured[(key, False)]]
            on = [result[metric] for result in measured[(key, True)]]
            rows.append((store, label, off, on))
    print(f"\nhistory off vs on, median of {options.reps} fresh-process runs ({time.strftime('%Y-%m-%d')})")
    print("(the range of the samples in brackets: on a busy machine they spread)\n")
    print(f"{'store':<8} {'workload':<26} {'off':>10} {'off range':>19} {'on':>10} {'on range':>19} {'on/off':>7}")
    for store, label, off, on in rows:
        median_off, median_on = statistics.median(off), statistics.median(on)
        ratio = median_on / median_off if median_off else float("nan")
        spread_off, spread_on = f"[{min(off):,.1f}-{max(off):,.1f}]", f"[{min(on):,.1f}-{max(on):,.1f}]"
        figures = f"{median_off:>10,.1f} {spread_off:>19} {median_on:>10,.1f} {spread_on:>19} {ratio:>7.3f}"
        print(f"{store:<8} {label:<26} {figures}")
    if options.json:
        samples = [{"store": store, "workload": label, "off": off, "on": on} for store, label, off, on in rows]
        Path(options.json).write_text(json.dumps({"reps": options.reps, "rows": samples}, indent=2))


if __name__ == "__main__":
    main()
