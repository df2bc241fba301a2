"""Times in log messages are ISO 8601 (``2026-03-02T12:00:00+00:00``), never datetime
reprs (``datetime.datetime(2026, 3, 2, 12, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC'))``) nor
``str()`` with a space in the middle."""

from __future__ import annotations

import ast
import logging
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from asyncz_like import ManualScheduler

ROOT = Path(__file__).resolve().parents[2]
NOON = datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc)
LOG_METHODS = {"debug", "info", "warning", "error", "exception", "critical", "log"}
#: argument names that hold a datetime, or a list of them, in this code base
TIME_NAME = re.compile(r"(^|_)(time|times|at|now|expires|deadline)$")
#: names that match but hold seconds, not datetimes
DURATIONS = {"mistrigger_grace_time"}


def test_missed_runs_are_logged_in_iso_8601(caplog: pytest.LogCaptureFixture) -> None:
    scheduler = ManualScheduler(timezone="Europe/Berlin", clock=lambda: NOON)
    scheduler.start()
    scheduler.add_task("math:sqrt", "interval", minutes=5, start_at=NOON, args=[4], id="late")
    with caplog.at_level(logging.WARNING, logger="asyncz_like"):
        scheduler.process_tasks(now=NOON + timedelta(minutes=10))
    scheduler.shutdown()
    messages = [record.getMessage() for record in caplog.records if "missed" in record.getMessage()]
    assert len(messages) == 1, caplog.text
    assert "2026-03-02T13:00:00+01:00, 2026-03-02T13:05:00+01:00" in messages[0]
    assert "datetime.datetime(" not in caplog.text


def logged_time_arguments(path: Path) -> list[str]:
    """``file:line name`` of each logger call that passes a time as it is (formatted by
    ``%s``/``%r``) instead of through ``.isoformat()`` or ``iso_times()``."""
    found = []
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr not in LOG_METHODS or "log" not in ast.unparse(node.func.value).lower():
            continue
        for argument in node.args[1:]:
            target = argument.value if isinstance(argument, ast.Subscript) else argument
            name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
            if TIME_NAME.search(name) and name not in DURATIONS:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {ast.unparse(argument)}")
    return found


def test_no_logger_call_formats_a_datetime_itself() -> None:
    sources = sorted((ROOT / "asyncz_like").rglob("*.py")) + sorted((ROOT / "plugins").glob("*/src/**/*.py"))
    assert len(sources) > 50
    offenders = [entry for path in sources for entry in logged_time_arguments(path)]
    assert offenders == [], "log these with .isoformat() (or iso_times for a list)"


def test_the_guard_recognises_a_raw_time(tmp_path: Path) -> None:
    """The static check above would catch the mistake it exists for."""
    sample = ROOT / "asyncz_like" / "_log_times_sample_for_test.py"
    sample.write_text(
        "import logging\nlogger = logging.getLogger(__name__)\n"
        "def f(task, run_time, run_times):\n"
        "    logger.warning('run %s of %r', run_time, task.id)\n"
        "    logger.warning('runs %s', run_times)\n"
        "    logger.warning('next %s', task.next_run_time)\n"
        "    logger.warning('ok %s', run_time.isoformat())\n"
    )
    try:
        found = logged_time_arguments(sample)
    finally:
        sample.unlink()
    assert [entry.split(" ", 1)[1] for entry in found] == ["run_time", "run_times", "task.next_run_time"]
