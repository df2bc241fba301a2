"""What the asyncio schedulers promise about order: a run's TASK_SUBMITTED reaches listeners
before its outcome, whichever thread finished the run first."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from asyncz_like import TASK_SUBMITTED, SchedulerEvent

Seen = tuple[int, str | None, Any]  # event code, task id, run time


def runs_of(event: SchedulerEvent) -> list[Seen]:
    """One entry per run time the event speaks of."""
    run_times = getattr(event, "scheduled_run_times", None) or [getattr(event, "scheduled_run_time", None)]
    return [(event.code, getattr(event, "task_id", None), run_time) for run_time in run_times]


def outcomes_after_their_submission(order: Iterable[Seen]) -> int:
    """Checks every outcome came after its run's submission; returns how many outcomes there were."""
    submitted: set[tuple[str | None, Any]] = set()
    outcomes = 0
    for code, task_id, run_time in order:
        if code == TASK_SUBMITTED:
            submitted.add((task_id, run_time))
        else:
            outcomes += 1
            assert (task_id, run_time) in submitted, f"{task_id} {run_time}: outcome before submission"
    return outcomes
