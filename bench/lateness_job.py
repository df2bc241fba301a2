"""The task of ``bench_lateness.py``: it takes its own start time, inside the job.

A listener would add the event dispatch to the figure (on our asyncio scheduler listeners
run on the loop after the job), so the job itself notes when its code starts. Which run
that was (its scheduled run time) comes from the TASK_EXECUTED event that follows: in one
process, the runs of one task never overlap (``max_instances=1``), so the n-th start of a
task in a process belongs to that process's n-th executed event of the task. Lateness is
the start minus the scheduled run time, with no guessing from a grid.
"""

from __future__ import annotations

import os
import time

RECORD_ENV = "BENCH_LATENESS_RECORD"
_fd: list[int] = []


def write(line: str) -> None:
    """Append one line to the record file every worker process shares (O_APPEND: whole lines)."""
    if not _fd:
        _fd.append(os.open(os.environ[RECORD_ENV], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644))
    os.write(_fd[0], (line + "\n").encode())


async def tick(name: str) -> None:
    write(f"start {name} {time.time():.6f} {os.getpid()}")
