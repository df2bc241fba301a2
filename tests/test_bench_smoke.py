"""The benchmark harness still runs end to end (a tiny smoke run; no figure is judged)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_quick_run_measures_every_chosen_workload_and_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    command = [sys.executable, str(ROOT / "bench" / "run.py"), "--quick", "--libs", "ours"]
    command += ["--only", "add_10k,fire_async,lateness", "--python", sys.executable, "--json", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert "add to running, 10k" in done.stdout
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
    assert rows["fire_async:fire 20k due, async"]["ran"] == {"ours": "500/500"}  # every due task ran
