"""The fire path with a TASK_EXECUTED listener, one checkout against another, in one run.

    git worktree add --detach /tmp/before 8f01052
    git worktree add --detach /tmp/after HEAD
    python bench/bench_listener.py --before /tmp/before --after /tmp/after
    git worktree remove --force /tmp/before; git worktree remove --force /tmp/after

Since c1e7d4c the asyncio scheduler calls listeners in order on the event-loop thread, through
an outbox; before, a run of a plain function called them on the worker thread that ran it.
This measures what that costs the fire path: ``fire_async`` and ``fire_sync`` (``wl_fire``,
ours only, 20,000 due tasks) with a no-op ``TASK_EXECUTED`` listener and without one, for
both checkouts, taking turns in a rotating order, each measurement in a fresh process; each
figure is the median of ``--reps``. ``--after`` defaults to this checkout.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
from run import Job, ensure_venv, measure, throughput, use_tree  # noqa: E402  (bench/ is not a package)


def jobs(count: int, timeout: float) -> list[Job]:
    """fire_async / fire_sync, each without and with a listener."""
    found = []
    for kind in ("async", "sync"):
        for listener in (False, True):
            params = {"count": count, "kind": kind, "mode": "fire", "timeout": timeout, "listener": listener}
            name = f"fire_{kind}" + (" + listener" if listener else "")
            found.append(Job(name, "fire", params, throughput(name, "exec/s", "exec_per_s"), libs=["ours"]))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", required=True, help="checkout of the older commit")
    parser.add_argument("--after", default=str(ROOT), help="checkout of the newer commit (default: this one)")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--quick", action="store_true", help="one repetition of 500 tasks: a smoke run")
    parser.add_argument("--python", default=None, help="interpreter for the workers (skips creating bench/.venv)")
    parser.add_argument(
        "--json",
        default=None,
        help="default: bench/results-listener.json (-quick.json for --quick, so a smoke run never replaces a real one)",
    )
    args = parser.parse_args(argv)
    if args.json is None:
        args.json = str(BENCH / ("results-listener-quick.json" if args.quick else "results-listener.json"))
    reps, count = (1, 500) if args.quick else (args.reps, args.count)
    if reps < 1:
        parser.error(f"--reps: expected at least 1, got {reps}")
    python = Path(args.python) if args.python else ensure_venv()
    trees = {"before": args.before, "after": args.after}
    codes = {}
    for label, tree in trees.items():
        codes[label] = use_tree(python, tree)
        print(f"{label}: {codes[label]}", file=sys.stderr)
    samples: dict[tuple[str, str], list[dict[str, Any]]] = {}
    started = time.perf_counter()
    order = list(trees)
    for rep in range(reps):
        for job in jobs(count, 10 if args.quick else 90):
            for label in order[rep % 2 :] + order[: rep % 2]:
                os.environ["PYTHONPATH"] = str(Path(trees[label]).resolve())
                print(f"... {job.name} {label} ({rep + 1}/{reps})", file=sys.stderr, flush=True)
                samples.setdefault((job.name, label), []).append(measure(python, job, "ours"))
    rows = []
    for job in jobs(count, 0):
        row: dict[str, Any] = {"job": job.name}
        for label in trees:
            results = samples[(job.name, label)]
            good = [r for r in results if "error" not in r]
            row[label] = statistics.median(r["exec_per_s"] for r in good) if good else None
            row[f"{label}_ran"] = f"{min((r['ran'] for r in good), default=0)}/{count}"
            row[f"{label}_missed"] = max((r.get("missed", 0) for r in good), default=0)
            errors = [r.get("error") or r.get("log_error") for r in results if "error" in r or "log_error" in r]
            if errors:
                row[f"{label}_error"] = errors[0]
        row["after/before"] = row["after"] / row["before"] if row["before"] and row["after"] else None
        rows.append(row)
    print(f"\nfire {count:,} due tasks (ours), exec/s, median of {reps} fresh-process run(s)\n")
    print(f"{'workload':<26}{'before':>10}{'after':>10}{'after/before':>14}   ran (missed)")
    for row in rows:
        ratio = f"{row['after/before']:.2f}x" if row["after/before"] else "-"
        before = f"{row['before']:,.0f}" if row["before"] else "-"
        after = f"{row['after']:,.0f}" if row["after"] else "-"
        ran = f"before {row['before_ran']} ({row['before_missed']}), after {row['after_ran']} ({row['after_missed']})"
        print(f"{row['job']:<26}{before:>10}{after:>10}{ratio:>14}   {ran}")
        for label in trees:
            if f"{label}_error" in row:
                print(f"{'':<26}{label}: {row[f'{label}_error'][:160]}")
    report = {
        "python": platform.python_version(),
        "machine": platform.platform(),
        "cpus": os.cpu_count(),
        "load": os.getloadavg(),
        "trees": codes,
        "reps": reps,
        "count": count,
        "seconds": time.perf_counter() - started,
        "rows": rows,
        "raw": {f"{job} {label}": results for (job, label), results in samples.items()},
    }
    Path(args.json).write_text(json.dumps(report, indent=2))
    print(f"\nwritten: {args.json} ({report['seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
