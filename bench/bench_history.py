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
    from libs import Ours

    class Adapter(Ours):
        def build(self) -> Any:
            scheduler = super().build()
            scheduler.setup(history=spec["history"])
            return scheduler

    logging.disable(logging.WARNING)
    module = importlib.import_module(f"wl_{spec['workload']}")
    with tempfile.TemporaryDirectory(prefix="asyncz-like-history-bench-") as tmp:
        url = f"sqlite:///{os.path.join(tmp, 'bench.db')}" if spec["store"] == "sqlite" else None
        cpu = time.process_time()
        result: dict[str, Any] = asyncio.run(module.run(Adapter(spec["store"], url), spec["params"]))
        # CPU time of the whole workload (adding the tasks too) per task: less disturbed than
        # throughput by other processes on a busy machine
        result["cpu_us_per_task"] = (time.process_time() - cpu) / spec["params"]["count"] * 1e6
        return result


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
            ("  CPU us per task", "fire", {"count": count, "kind": "async", "timeout": 120}, "cpu_us_per_task"),
            (f"fire {count} due, sync", "fire", {"count": count, "kind": "sync", "timeout": 120}, "exec_per_s"),
            ("  CPU us per task", "fire", {"count": count, "kind": "sync", "timeout": 120}, "cpu_us_per_task"),
            ("lateness p50 (ms)", "lateness", {"count": 1000, "window": 2.0}, "p50_ms"),
            ("lateness p99 (ms)", "lateness", {"count": 1000, "window": 2.0}, "p99_ms"),
        ]
        measured: dict[tuple[str, bool], list[dict[str, Any]]] = {}
        for _ in range(options.reps):
            for _, workload, params, _ in workloads[::2]:  # every second row reads the same run
                for history in (False, True):  # alternate, so drift hits both alike
                    spec = {"workload": workload, "store": store, "history": history, "params": params}
                    key = (json.dumps(params, sort_keys=True), history)
                    measured.setdefault(key, []).append(measure(spec))
        for label, _, params, metric in workloads:
            key = json.dumps(params, sort_keys=True)
            off = statistics.median(result[metric] for result in measured[(key, False)])
            on = statistics.median(result[metric] for result in measured[(key, True)])
            rows.append((store, label, off, on))
    print(f"\nhistory off vs on, median of {options.reps} fresh-process runs ({time.strftime('%Y-%m-%d')})\n")
    print(f"{'store':<8} {'workload':<28} {'off':>12} {'on':>12} {'on/off':>8}")
    for store, label, off, on in rows:
        print(f"{store:<8} {label:<28} {off:>12,.1f} {on:>12,.1f} {on / off if off else float('nan'):>8.3f}")


if __name__ == "__main__":
    main()
