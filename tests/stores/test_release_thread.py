"""Where an asyncio scheduler writes claims back to a store that does I/O: on its one store
I/O thread, in batches — never on the event loop, and never from the worker threads that
ran plain functions (each of those would release its own task, in parallel)."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from asyncz_like import AsyncIOScheduler
from asyncz_like.stores.sqlalchemy import SQLAlchemyStore
from tests.stores import _tasks

UTC = timezone.utc
TASKS = 40


class RecordingStore(SQLAlchemyStore):
    """A real SQLite store that notes which thread each release batch came from."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.releases: list[tuple[str, int]] = []

    def release_tasks(self, tasks: list[Any], owner: str) -> list[bool]:
        self.releases.append((threading.current_thread().name, len(tasks)))
        return super().release_tasks(tasks, owner)


async def test_runs_of_plain_functions_release_their_claims_on_the_store_io_thread(tmp_path: Path) -> None:
    store = RecordingStore(f"sqlite:///{tmp_path / 'tasks.db'}")
    scheduler = AsyncIOScheduler(timezone="UTC", stores={"default": store}, executors={"default": "threadpool"})
    due = datetime.now(UTC) - timedelta(seconds=1)
    for n in range(TASKS):
        scheduler.add_task(_tasks.noop, "date", run_at=due, id=f"t{n}", mistrigger_grace_time=None)
    scheduler.start()
    try:
        deadline = time.monotonic() + 10
        while sum(size for _, size in store.releases) < TASKS:
            assert time.monotonic() < deadline, f"only {store.releases} released"
            await asyncio.sleep(0.01)
    finally:
        scheduler.shutdown()

    threads = {name for name, _ in store.releases}
    assert threads == {"asyncz_like-scheduler"}, threads
    assert sum(size for _, size in store.releases) == TASKS
    assert store.lookup_task("t0") is None, "a finished date task is deleted on release"
