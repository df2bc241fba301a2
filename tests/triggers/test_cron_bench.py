"""The cron benchmark harness runs (its figures are not asserted: timing is machine-dependent)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_cron.py"


def test_quick_benchmark_prints_a_table_with_ratios_against_croniter() -> None:
    result = subprocess.run([sys.executable, str(BENCH), "--quick"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "croniter us" in lines[1]
    rows = [line for line in lines if line.startswith(("*/5 * * * *", "0 9 * * 1-5"))]
    assert len(rows) == 2 and all("x" in row.split()[-1] or "n/a" in row for row in rows)
