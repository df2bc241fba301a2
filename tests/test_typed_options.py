"""A type checker knows the options of every built-in trigger.

``add_task(fn, "interval", minuts=5)`` used to pass ``mypy --strict`` and fail only when
the line ran. These tests run mypy over two small programs: one full of correct calls in
every form ``add_task`` takes (it must pass), one whose lines marked ``# error`` each
carry a mistake (mypy must flag exactly those lines).
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("mypy")

ROOT = Path(__file__).resolve().parents[1]

CORRECT = """
from datetime import datetime, timezone
from decimal import Decimal

from asyncz_like import AsyncIOScheduler, ManualScheduler, Task
from asyncz_like.triggers.cron import CronTrigger
from asyncz_like.triggers.interval import IntervalTrigger


def job(name: str) -> None: ...


scheduler = ManualScheduler(timezone="UTC")
tasks: list[Task] = [
    scheduler.add_task(job, "interval", minutes=5, args=["a"], id="a", replace_existing=True),
    scheduler.add_task(job, "interval", seconds=Decimal("0.5"), jitter=1, start_at="2026-03-02T12:00"),
    scheduler.add_task(job, "cron", hour="9-17", minute="*/15", day_of_week="mon-fri", args=["b"]),
    scheduler.add_task(job, "cron", hour=6, timezone="Europe/Berlin", end_at=datetime(2030, 1, 1), args=["c"]),
    scheduler.add_task(job, "date", run_at=datetime(2030, 1, 1, tzinfo=timezone.utc), args=["d"]),
    scheduler.add_task(job, run_at="2030-01-01T00:00", args=["e"]),
    scheduler.add_task(job, args=["now"]),
    scheduler.add_task("builtins:print", "shutdown", args=["bye"], executor="default", store="default"),
    scheduler.add_task(job, "or", triggers=[CronTrigger(hour=9), CronTrigger(hour=17)], args=["f"]),
    scheduler.add_task(job, "and", triggers=[CronTrigger(hour=9), IntervalTrigger(days=2)], args=["g"]),
    scheduler.add_task(job, IntervalTrigger(minutes=5), args=["h"], name="h", max_instances=2, coalesce=False),
    scheduler.add_task(fn=job, trigger="interval", hours=1, args=["i"], on_interrupted="rerun"),
    scheduler.add_task(job, "interval", minutes=5, args=["j"], next_run_time=None, mistrigger_grace_time=None),
    scheduler.add_task(job, "cron", hour=1, args=["l"], priority=10),
    scheduler.add_task(job, args=["m"], priority=-1),
]


@scheduler.add_task("interval", minutes=10, id="poll")
def poll() -> None: ...


@scheduler.add_task("cron", hour=3)
def nightly() -> None: ...


@scheduler.add_task(CronTrigger(hour=4))
def early() -> None: ...


AsyncIOScheduler().add_task(job, "interval", weeks=1, args=["k"])
"""

MISTAKES = """
from asyncz_like import ManualScheduler


def job() -> None: ...


scheduler = ManualScheduler()
scheduler.add_task(job, "interval", minuts=5)  # error
scheduler.add_task(job, "cron", hour=9, minutes=5)  # error
scheduler.add_task(job, "interval", minutes="5")  # error
scheduler.add_task(job, "date", run_at=5)  # error
scheduler.add_task(job, run_at=5)  # error
scheduler.add_task(job, "cron", hour=9.5)  # error
scheduler.add_task(job, "shutdown", minutes=5)  # error
scheduler.add_task(job, "or", trigger=[])  # error
scheduler.add_task(fn=job, trigger="interval", minuts=5)  # error
scheduler.add_task(job, "interval", minutes=5, max_instance=2)  # error
scheduler.add_task(job, "interval", minutes=5, on_interrupted="retry")  # error
scheduler.add_task(job, "interval", minutes=5, priority="high")  # error
scheduler.add_task(job, "cron", hour=9, priority=1.5)  # error
scheduler.add_task(job, "date", priorty=1)  # error


@scheduler.add_task("interval", secnds=5)  # error
def poll() -> None: ...
"""


def run_mypy(tmp_path: Path, programs: dict[str, str]) -> tuple[dict[str, set[int]], str]:
    """Run ``mypy --strict`` once over ``programs``: the lines it flags, per file name, and
    its output."""
    for name, text in programs.items():
        (tmp_path / name).write_text(textwrap.dedent(text).lstrip())
    command = [sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent", "--no-error-summary"]
    command += ["--cache-dir", str(tmp_path / ".mypy_cache"), "--python-version", "3.10", *sorted(programs)]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300, env=_env())
    assert result.returncode in (0, 1), result.stdout + result.stderr
    flagged: dict[str, set[int]] = {name: set() for name in programs}
    for match in re.finditer(r"^(\w+\.py):(\d+): error:", result.stdout, re.M):
        flagged[match.group(1)].add(int(match.group(2)))
    return flagged, result.stdout


def _env() -> dict[str, str]:
    import os

    return {**os.environ, "MYPYPATH": str(ROOT)}


def marked_lines(text: str) -> set[int]:
    lines = textwrap.dedent(text).lstrip().splitlines()
    return {number for number, line in enumerate(lines, 1) if line.rstrip().endswith("# error")}


def test_mypy_accepts_every_form_and_flags_each_mistake(tmp_path: Path) -> None:
    flagged, output = run_mypy(tmp_path, {"correct.py": CORRECT, "mistakes.py": MISTAKES})
    assert flagged["correct.py"] == set(), output
    assert flagged["mistakes.py"] == marked_lines(MISTAKES), output


def test_the_runtime_signature_is_unchanged() -> None:
    """The overloads exist for type checkers only: at run time ``add_task`` is still the one
    method, so a misspelt option is still refused when the line runs."""
    import inspect

    from asyncz_like import ManualScheduler
    from asyncz_like.schedulers.task_api import TaskAPI

    assert ManualScheduler.add_task is TaskAPI.add_task
    assert "trigger_args" in inspect.signature(ManualScheduler.add_task).parameters
    with pytest.raises(TypeError, match="minuts"):
        ManualScheduler().add_task(print, "interval", minuts=5)
