"""Lateness on every store, with one scheduler process and with three sharing the store.

    set -a; . /tmp/servers.env; set +a      # or: source scripts/servers.sh; servers_start
    python bench/bench_lateness.py          # ours, asyncz and APScheduler 3, every store they have
    python bench/bench_lateness.py --quick  # a smoke run of tiny sizes: its figures mean nothing

20 interval tasks at 1 s, anchored at one instant T0, for 10 s: 200 due runs. The tasks are
put in the store first (memory: in the one scheduler before it starts); then every worker
process starts its scheduler, and T0 comes after all of them are ready. Each run measures its
own lateness inside the job function (``lateness_job.tick``: start of the job's code minus
its scheduled run time). Every library runs with its default misfire grace (1 s), coalescing
off, so a run that is lost shows: as **missed** (reported by the library), or as **not run**
(due, never executed, never reported). **dup** counts executions beyond one per due run.

Server stores are read from ASYNCZ_TEST_POSTGRES_URL, ASYNCZ_TEST_MYSQL_URL,
ASYNCZ_TEST_REDIS_URL and ASYNCZ_TEST_MONGODB_URL; a store whose variable is unset is skipped.
asyncz and APScheduler 3 have no way to share a store between processes (each process runs
every task), so with ``--peer-processes 1,3`` their three-process rows show what that does.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
from lateness_job import RECORD_ENV  # noqa: E402  (bench/ is not a package)
from libs import STORES, URL_ENV  # noqa: E402

ALL_STORES = ("memory", "file", "sqlite", "postgres", "mariadb", "redis", "mongodb")
#: stores that cannot be shared by processes, and why (the row says so instead of a figure)
NOT_SHARED = {
    "memory": "each process has its own memory store",
}
#: stores that run with several processes although the library documents one per store
SINGLE_PROCESS = {"file": "one process per directory (documented): shown for what happens"}


def percentile(values: list[float], q: float) -> float:
    """Nearest rank, as in ``wl_lateness``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def location(store: str, tmp: Path) -> str | None:
    if store == "memory":
        return None
    if store == "file":
        return str(tmp / "files")
    if store == "sqlite":
        return f"sqlite:///{tmp / 'lateness.db'}"
    return os.environ.get(URL_ENV[store])


def expect(worker: subprocess.Popen[str], word: str) -> list[str]:
    """The next line of ``worker`` that starts with ``word``."""
    assert worker.stdout is not None
    for text in worker.stdout:
        fields = text.split()
        if fields and fields[0] == word:
            return fields
    raise RuntimeError(f"worker ended before saying {word!r} (exit {worker.poll()})")


def kill_all(workers: list[subprocess.Popen[str]]) -> None:
    for worker in workers:
        worker.kill()


def send(worker: subprocess.Popen[str], *words: object) -> None:
    assert worker.stdin is not None
    worker.stdin.write(" ".join(str(w) for w in words) + "\n")
    worker.stdin.flush()


def measure(
    python: Path, lib: str, store: str, processes: int, tasks: int, seconds: float, interval: float, lead: float
) -> dict[str, Any]:
    """One run: ``processes`` workers of ``lib`` on one ``store``; the record file, judged.

    Each library keeps its tasks under one name per store ("lateness"), emptied when it is
    filled, so nothing piles up on the servers between runs."""
    with tempfile.TemporaryDirectory(prefix="asyncz-like-lateness-") as tmp_name:
        tmp = Path(tmp_name)
        record = tmp / "record.txt"
        record.touch()
        url = location(store, tmp)
        env = {**os.environ, RECORD_ENV: str(record)}
        command = [str(python), str(BENCH / "lateness_worker.py"), lib, store, url or "", "lateness"]
        stderr = [open(tmp / f"stderr-{n}.txt", "w") for n in range(processes)]
        workers = [
            subprocess.Popen(
                command, cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, text=True
            )
            for err in stderr
        ]
        # a worker that hangs is killed, which ends its stdout and so any wait for its next line
        watchdog = threading.Timer(lead + seconds + 180, kill_all, args=(workers,))
        watchdog.start()
        try:
            for worker in workers:
                expect(worker, "loaded")
            t0 = time.time() + lead
            send(workers[0], "fill", f"{t0:.6f}", tasks, interval, round(seconds / interval))
            expect(workers[0], "filled")
            until = t0 + seconds + 0.5  # the last run is due at t0 + seconds - interval
            for worker in workers:
                send(worker, "go", f"{until:.6f}")
            ready = [float(expect(worker, "ready")[1]) for worker in workers]
            for worker in workers:
                expect(worker, "done")
                worker.wait(timeout=30)
        except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
            for worker in workers:
                worker.kill()
                worker.wait()
            tails = [(tmp / f"stderr-{n}.txt").read_text().strip().splitlines() for n in range(processes)]
            tail = next((lines[-1] for lines in tails if lines), "")
            return {"error": f"{exc}: {tail}"[:300]}
        finally:
            watchdog.cancel()
            for worker in workers:
                if worker.poll() is None:
                    worker.kill()
                    worker.wait()
            for err in stderr:
                err.close()
        return judge(record.read_text().splitlines(), t0, tasks, seconds, interval, ready)


def judge(
    lines: list[str], t0: float, tasks: int, seconds: float, interval: float, ready: list[float]
) -> dict[str, Any]:
    """Pair each process's n-th start of a task with its n-th executed event of that task
    (the runs of one task never overlap in one process), and count what is left over."""
    slots = round(seconds / interval)
    due = {(f"t{n}", k) for n in range(tasks) for k in range(slots)}
    starts: dict[tuple[str, str], list[float]] = {}
    executed: dict[tuple[str, str], list[float]] = {}
    missed: set[tuple[str, int]] = set()
    errors: list[str] = []
    for text in lines:
        kind, *fields = text.split()
        if kind == "error":
            errors.append(" ".join(fields))
            continue
        task, stamp, pid = fields
        if kind == "start":
            starts.setdefault((pid, task), []).append(float(stamp))
        elif kind == "executed":
            executed.setdefault((pid, task), []).append(float(stamp))
        elif kind == "missed" and (task, round((float(stamp) - t0) / interval)) in due:
            missed.add((task, round((float(stamp) - t0) / interval)))
    runs: list[tuple[str, int]] = []
    lateness: list[float] = []
    unmatched = 0
    for (pid, task), run_times in executed.items():
        began = starts.get((pid, task), [])
        unmatched += abs(len(began) - len(run_times))
        for start, run_time in zip(began, run_times, strict=False):  # the surplus is counted above
            slot = round((run_time - t0) / interval)
            if (task, slot) in due:
                runs.append((task, slot))
                lateness.append((start - run_time) * 1000)
    unmatched += sum(len(began) for key, began in starts.items() if key not in executed)
    counts = Counter(runs)
    result: dict[str, Any] = {
        "due": len(due),
        "ran": len(counts),
        "not_run": len(due - set(counts)),
        "missed": len(missed),
        "dup": len(runs) - len(counts),
        "unmatched": unmatched,
        "processes_that_ran": len({pid for pid, _ in executed}),
        "ready_margin_s": round(t0 - max(ready), 3),
        "errors": len(errors),
    }
    if errors:
        result["first_error"] = errors[0]
    if lateness:
        result.update(p50_ms=statistics.median(lateness), p99_ms=percentile(lateness, 0.99), max_ms=max(lateness))
    return result


def pooled(samples: list[dict[str, Any]]) -> dict[str, Any]:
    """Several repetitions of one row: counts added up, percentiles the median of each run's."""
    good = [s for s in samples if "error" not in s]
    if not good:
        return {"error": samples[0]["error"]}
    row: dict[str, Any] = {
        key: sum(s[key] for s in good) for key in ("due", "ran", "not_run", "missed", "dup", "errors")
    }
    for key in ("p50_ms", "p99_ms", "max_ms"):
        values = [s[key] for s in good if key in s]
        if values:
            row[key] = statistics.median(values)
    row["ready_margin_s"] = min(s["ready_margin_s"] for s in good)
    firsts = [s["first_error"] for s in good if "first_error" in s]
    if firsts:
        row["first_error"] = firsts[0]
    if len(good) < len(samples):
        row["failed_runs"] = len(samples) - len(good)
    return row


def plan(
    libs: list[str], stores: list[str], processes: list[int], peer_processes: list[int]
) -> list[tuple[str, str, int, str | None]]:
    """(lib, store, processes, why it is not run or None) for every row of the table."""
    rows = []
    for store in stores:
        unset = store in URL_ENV and not os.environ.get(URL_ENV[store])
        for lib in libs:
            for count in processes if lib == "ours" else peer_processes:
                reason = None
                if store not in STORES[lib]:
                    reason = f"{lib} has no {store} store"
                elif unset:
                    reason = f"skipped: {URL_ENV[store]} is not set"
                elif count > 1 and store in NOT_SHARED:
                    reason = f"not shareable: {NOT_SHARED[store]}"
                rows.append((lib, store, count, reason))
    return rows


def fmt_ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}"


def print_table(rows: list[dict[str, Any]]) -> None:
    header = (
        f"{'lib':<12}{'store':<10}{'procs':>6}{'due':>6}{'ran':>6}{'not run':>8}{'missed':>8}{'dup':>6}"
        f"{'p50 ms':>9}{'p99 ms':>9}{'max ms':>10}{'errors':>8}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        head = f"{row['lib']:<12}{row['store']:<10}{row['processes']:>6}"
        if "note" in row:
            print(f"{head}  {row['note']}")
            continue
        if "error" in row:
            print(f"{head}  error: {row['error']}")
            continue
        print(
            f"{head}{row['due']:>6}{row['ran']:>6}{row['not_run']:>8}{row['missed']:>8}{row['dup']:>6}"
            f"{fmt_ms(row.get('p50_ms')):>9}{fmt_ms(row.get('p99_ms')):>9}{fmt_ms(row.get('max_ms')):>10}"
            f"{row['errors']:>8}"
        )
        notes = []
        if row["store"] in SINGLE_PROCESS and row["processes"] > 1:
            notes.append(SINGLE_PROCESS[row["store"]])
        if row.get("ready_margin_s", 0) < 0:
            notes.append(f"the last process was ready {-row['ready_margin_s']:.2f} s after the first run time")
        if row.get("unmatched"):
            notes.append(f"{row['unmatched']} job starts and executed events did not pair up")
        if row.get("first_error"):
            notes.append(f"first ERROR: {row['first_error'][:140]}")
        for note in notes:
            print(f"{'':<24}{note}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--libs", default="ours,asyncz,apscheduler", help="comma-separated subset")
    parser.add_argument("--stores", default=",".join(ALL_STORES), help="comma-separated subset")
    parser.add_argument("--processes", default="1,3", help="process counts for ours")
    parser.add_argument("--peer-processes", default="1", help="process counts for asyncz and APScheduler 3")
    parser.add_argument("--tasks", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=10.0, help="how long the tasks are due")
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--lead", type=float, default=2.0, help="seconds from filling the store to the first run")
    parser.add_argument("--reps", type=int, default=1, help="repetitions per row (counts add up)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run whose figures mean nothing")
    parser.add_argument("--python", default=None, help="interpreter for the workers (skips creating bench/.venv)")
    parser.add_argument("--json", default=str(BENCH / "results-lateness.json"))
    parser.add_argument("--tree", default=None, help="measure asyncz_like from this checkout (default: this one)")
    args = parser.parse_args(argv)
    libs = [lib for lib in args.libs.split(",") if lib]
    stores = [store for store in args.stores.split(",") if store]
    for value, known, option in ((libs, STORES, "--libs"), (stores, ALL_STORES, "--stores")):
        unknown = sorted(set(value) - set(known))
        if unknown:
            parser.error(f"{option}: unknown {unknown}; expected any of {', '.join(known)}")
    if args.reps < 1:
        parser.error(f"--reps: expected at least 1, got {args.reps}")
    tasks, seconds, interval, lead = args.tasks, args.seconds, args.interval, args.lead
    if args.quick:
        tasks, seconds, interval, lead = 3, 1.5, 0.5, 1.0
    from run import ensure_venv, use_tree

    python = Path(args.python) if args.python else ensure_venv()
    code = use_tree(python, args.tree)
    print(f"asyncz_like: {code}", file=sys.stderr)
    processes = [int(n) for n in args.processes.split(",") if n]
    peer_processes = [int(n) for n in args.peer_processes.split(",") if n]
    started = time.perf_counter()
    rows: list[dict[str, Any]] = []
    for lib, store, count, reason in plan(libs, stores, processes, peer_processes):
        row: dict[str, Any] = {"lib": lib, "store": store, "processes": count}
        if reason:
            row["note"] = reason
        else:
            print(f"... {lib} {store} x{count}", file=sys.stderr, flush=True)
            samples = [measure(python, lib, store, count, tasks, seconds, interval, lead) for _ in range(args.reps)]
            row.update(pooled(samples), samples=samples)
        rows.append(row)
    print(
        f"\nlateness: {tasks} interval tasks at {interval:g} s for {seconds:g} s, default misfire grace, "
        f"{args.reps} run(s) per row; lateness measured inside the job\n"
    )
    print_table(rows)
    report = {
        "python": platform.python_version(),
        "machine": platform.platform(),
        "cpus": os.cpu_count(),
        "asyncz_like": code,
        "load": os.getloadavg(),
        "tasks": tasks,
        "seconds": seconds,
        "interval": interval,
        "reps": args.reps,
        "quick": args.quick,
        "elapsed": time.perf_counter() - started,
        "rows": rows,
    }
    Path(args.json).write_text(json.dumps(report, indent=2))
    print(f"\nwritten: {args.json} ({report['elapsed']:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
