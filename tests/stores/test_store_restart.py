"""Through a real scheduler: tasks outlive the process that scheduled them, and a task
that cannot be restored is reported as an event while the others run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from asyncz_like import TASK_RESTORE_FAILED, ManualScheduler, SchedulerEvent
from asyncz_like.events import TaskRestoreFailedEvent
from tests.stores import _tasks
from tests.stores._raw import raw_state, write_raw_state

UTC = timezone.utc
RUN_AT = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]

SECOND_PROCESS = """
import json, sys
from datetime import datetime
from asyncz_like import ManualScheduler
from asyncz_like._callables import resolve_reference

reference, options, now = json.loads(sys.argv[1])
scheduler = ManualScheduler(timezone="UTC")
scheduler.add_store(resolve_reference(reference, "store")(**options), "default")
scheduler.start()
scheduler.process_tasks(now=datetime.fromisoformat(now))
print(json.dumps([task.id for task in scheduler.get_tasks()]))
scheduler.shutdown()
"""


def scheduler_on(store: Any) -> ManualScheduler:
    scheduler = ManualScheduler(timezone="UTC")
    scheduler.add_store(store, "default")
    scheduler.start()
    return scheduler


def test_a_new_process_on_the_same_store_runs_the_task_a_stopped_scheduler_left(
    make_persistent_store: Any, tmp_path: Path
) -> None:
    trace = tmp_path / "trace.txt"
    first = scheduler_on(make_persistent_store(start=False))
    first.add_task(_tasks.append_line, "date", run_at=RUN_AT, args=[str(trace), "ran"], id="survivor")
    first.add_task(
        _tasks.append_line, "date", run_at=RUN_AT + timedelta(hours=1), args=[str(trace), "later"], id="later"
    )
    first.shutdown()
    assert not trace.exists()

    cls = type(first.lookup_store("default"))
    argument = json.dumps(
        [
            f"{cls.__module__}:{cls.__qualname__}",
            make_persistent_store.location(),
            (RUN_AT + timedelta(seconds=0.5)).isoformat(),
        ]
    )
    done = subprocess.run(
        [sys.executable, "-c", SECOND_PROCESS, argument], cwd=ROOT, capture_output=True, text=True, timeout=60
    )

    assert done.returncode == 0, done.stderr
    [line] = trace.read_text().splitlines()
    text, pid = line.split()
    assert text == "ran" and int(pid) != os.getpid()  # it ran there, not here
    assert json.loads(done.stdout.splitlines()[-1]) == ["later"]  # the finished date task is gone, the other kept


def test_a_set_aside_task_is_reported_as_an_event_and_the_healthy_one_still_runs(
    make_persistent_store: Any, tmp_path: Path
) -> None:
    trace = tmp_path / "trace.txt"
    store = make_persistent_store(start=False)
    scheduler = scheduler_on(store)
    events: list[SchedulerEvent] = []
    scheduler.add_listener(events.append, TASK_RESTORE_FAILED)
    scheduler.add_task(_tasks.append_line, "date", run_at=RUN_AT, args=[str(trace), "broken"], id="broken")
    scheduler.add_task(_tasks.append_line, "date", run_at=RUN_AT, args=[str(trace), "healthy"], id="healthy")
    write_raw_state(store, "broken", b"not a task at all")

    scheduler.process_tasks(now=RUN_AT + timedelta(seconds=0.5))
    scheduler.process_tasks(now=RUN_AT + timedelta(seconds=0.6))

    assert [line.split()[0] for line in trace.read_text().splitlines()] == ["healthy"]
    [event] = events  # reported once, not on every pass
    assert isinstance(event, TaskRestoreFailedEvent)
    assert (event.task_id, event.store) == ("broken", "default")
    assert raw_state(store, "broken") == b"not a task at all"
    scheduler.shutdown()
