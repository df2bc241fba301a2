"""The benchmark harnesses still run end to end (tiny smoke runs; no figure is judged)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_bench(script: str, *options: str, timeout: float = 60) -> str:
    command = [sys.executable, str(ROOT / "bench" / script), "--quick", "--python", sys.executable, *options]
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_quick_run_measures_every_chosen_workload_and_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    stdout = run_bench("run.py", "--libs", "ours", "--only", "add_10k,fire_async,lateness", "--json", str(out))
    assert "add to running, 10k" in stdout
    rows = {row["job"] + ":" + row["row"]: row for row in json.loads(out.read_text())["rows"]}
    assert set(rows) == {
        "add_10k:add to running, 10k",
        "fire_async:fire 20k due, async",
        "lateness:lateness p50 (200 over 2 s)",
        "lateness:lateness p99",
    }
    for row in rows.values():
        assert "errors" not in row, row
        assert isinstance(row["ours"], float) and row["ours"] >= 0
    fire = rows["fire_async:fire 20k due, async"]
    assert fire["ran"] == {"ours": "500/500"}  # every due task ran
    assert fire["missed"] == {"ours": 0}  # and none was reported missed under the default grace


def test_quick_lateness_run_judges_each_store_and_process_count(tmp_path: Path) -> None:
    out = tmp_path / "lateness.json"
    stdout = run_bench(
        "bench_lateness.py", "--libs", "ours", "--stores", "memory,sqlite", "--processes", "1,2", "--json", str(out)
    )
    assert "p99 ms" in stdout
    rows = {(row["store"], row["processes"]): row for row in json.loads(out.read_text())["rows"]}
    assert set(rows) == {("memory", 1), ("memory", 2), ("sqlite", 1), ("sqlite", 2)}
    assert rows["memory", 2]["note"].startswith("not shareable")  # a memory store is one process's own
    for key in [("memory", 1), ("sqlite", 1), ("sqlite", 2)]:
        row = rows[key]
        assert "error" not in row, row
        assert row["due"] == 9  # 3 tasks, every 0.5 s for 1.5 s
        assert row["ran"] + row["not_run"] == row["due"]
        assert {"missed", "dup", "errors"} <= set(row)
        if row["ran"]:
            assert row["p50_ms"] <= row["p99_ms"] <= row["max_ms"]


def test_quick_listener_comparison_runs_both_checkouts(tmp_path: Path) -> None:
    out = tmp_path / "listener.json"
    stdout = run_bench("bench_listener.py", "--before", str(ROOT), "--after", str(ROOT), "--json", str(out))
    assert "after/before" in stdout
    rows = {row["job"]: row for row in json.loads(out.read_text())["rows"]}
    assert set(rows) == {"fire_async", "fire_async + listener", "fire_sync", "fire_sync + listener"}
    for row in rows.values():
        assert row["before"] > 0 and row["after"] > 0 and row["after/before"] > 0, row


def test_listener_cost_measures_the_checkout_it_imports_without_and_with_a_listener() -> None:
    script = ROOT / "bench" / "listener_cost.py"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert Path(result["tree"]).resolve() == ROOT
    assert 0 < result["finish_us"] < result["finish_with_listener_us"]
    assert result["listener_us"] == round(result["finish_with_listener_us"] - result["finish_us"], 2)


def test_quick_observability_comparison_runs_every_variant(tmp_path: Path) -> None:
    out = tmp_path / "observability.json"
    stdout = run_bench("bench_observability.py", "--kinds", "async", "--json", str(out))
    assert "metrics" in stdout and "tracing" in stdout
    [row] = json.loads(out.read_text())["rows"]
    assert row["workload"] == "fire_async"
    for variant in ("off", "metrics", "tracing", "both"):
        assert row[variant] > 0 and row[f"{variant}_ran"] == "500/500", row
