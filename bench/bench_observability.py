"""The fire path with the observability extras off and on, in one checkout.

    python bench/bench_observability.py              # bench/.venv, plus the two extras
    python bench/bench_observability.py --quick      # one repetition of 500 tasks: a smoke run

``fire_async`` and ``fire_sync`` (``wl_fire``, ours only, 20,000 due tasks on the memory
store) with neither extra, with ``enable_metrics``, with ``instrument_tracing`` (the SDK's
batch processor, spans dropped by the exporter) and with both; the variants take turns in a
rotating order, each measurement in a fresh process; each figure is the median of ``--reps``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
from run import Job, ensure_venv, measure, missing_module, throughput, use_tree  # noqa: E402  (bench/ is not a package)

VARIANTS = ["off", "metrics", "tracing", "both"]


def jobs(count: int, timeout: float, kind: str) -> list[Job]:
    found = []
    for variant in VARIANTS:
        params = {"count": count, "kind": kind, "mode": "fire", "timeout": timeout}
        if variant != "off":
            params["observe"] = variant
        name = f"fire_{kind} {variant}"
        found.append(Job(name, "fire", params, throughput(name, "exec/s", "exec_per_s"), libs=["ours"]))
    return found


def with_extras(python: Path) -> None:
    """The extras in the benchmark's interpreter (bench/.venv has only the stores' drivers)."""
    if missing_module(python, "prometheus_client") or missing_module(python, "opentelemetry.sdk"):
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "prometheus-client>=0.20", "opentelemetry-sdk>=1.20"],
            check=True,
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--kinds", default="async,sync", help="fire_async, fire_sync or both")
    parser.add_argument("--quick", action="store_true", help="one repetition of 500 tasks: a smoke run")
    parser.add_argument("--python", default=None, help="interpreter for the workers (skips creating bench/.venv)")
    parser.add_argument("--json", default=str(BENCH / "results-observability.json"))
    args = parser.parse_args(argv)
    reps, count = (1, 500) if args.quick else (args.reps, args.count)
    if reps < 1:
        parser.error(f"--reps: expected at least 1, got {reps}")
    kinds = [kind for kind in args.kinds.split(",") if kind]
    python = Path(args.python) if args.python else ensure_venv()
    with_extras(python)
    code = use_tree(python, str(ROOT))  # this checkout, whatever the interpreter has installed
    print(f"code: {code}", file=sys.stderr)
    samples: dict[str, list[dict[str, Any]]] = {}
    started = time.perf_counter()
    for rep in range(reps):
        for kind in kinds:
            variants = jobs(count, 10 if args.quick else 90, kind)
            for job in variants[rep % len(variants) :] + variants[: rep % len(variants)]:
                print(f"... {job.name} ({rep + 1}/{reps})", file=sys.stderr, flush=True)
                samples.setdefault(job.name, []).append(measure(python, job, "ours"))
    rows = []
    for kind in kinds:
        row: dict[str, Any] = {"workload": f"fire_{kind}"}
        for variant in VARIANTS:
            results = samples[f"fire_{kind} {variant}"]
            good = [r for r in results if "error" not in r]
            row[variant] = statistics.median(r["exec_per_s"] for r in good) if good else None
            row[f"{variant}_ran"] = f"{min((r['ran'] for r in good), default=0)}/{count}"
            errors = [r["error"] for r in results if "error" in r]
            if errors:
                row[f"{variant}_error"] = errors[0]
        rows.append(row)
    print(f"\nfire {count:,} due tasks (ours, memory store), exec/s, median of {reps} fresh-process run(s)\n")
    print(f"{'workload':<12}" + "".join(f"{variant:>12}" for variant in VARIANTS) + "   ran")
    for row in rows:
        cells = "".join(f"{row[v]:>12,.0f}" if row[v] else f"{'-':>12}" for v in VARIANTS)
        print(f"{row['workload']:<12}{cells}   " + ", ".join(f"{v} {row[f'{v}_ran']}" for v in VARIANTS))
        for variant in VARIANTS:
            if f"{variant}_error" in row:
                print(f"{'':<12}{variant}: {row[f'{variant}_error'][:160]}")
    report = {
        "python": platform.python_version(),
        "machine": platform.platform(),
        "cpus": os.cpu_count(),
        "load": os.getloadavg(),
        "code": code,
        "reps": reps,
        "count": count,
        "seconds": time.perf_counter() - started,
        "rows": rows,
        "raw": samples,
    }
    Path(args.json).write_text(json.dumps(report, indent=2))
    print(f"\nwritten: {args.json} ({report['seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
