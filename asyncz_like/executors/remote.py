"""For executors that hand runs to a worker pool elsewhere (the Celery and Dask plugins): the
runs of one submission while they are out, and what a lost run means.

``send_task(task, run_times)`` becomes one remote job per run time; the submission is over
(and the scheduler's claim released) when every one of them has an outcome, whatever order
the workers finish in.
"""

from __future__ import annotations

import traceback
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from asyncz_like.executors.runner import Outcome

if TYPE_CHECKING:
    from asyncz_like.tasks.task import Task

#: times a run lost with its worker is sent again under ``on_interrupted="rerun"``
MAX_RERUNS = 3


class Submission:
    """Outcomes of one ``send_task`` call, filled in as the workers finish, in any order."""

    __slots__ = ("abandoned", "left", "outcomes", "reruns", "run_times", "task")

    def __init__(self, task: Task, run_times: Sequence[datetime]) -> None:
        self.task = task
        self.run_times = list(run_times)
        self.outcomes: list[Outcome | None] = [None] * len(self.run_times)
        self.abandoned: list[datetime] = []
        self.reruns = [0] * len(self.run_times)
        self.left = len(self.run_times)

    def succeeded(self, index: int, value: object) -> bool:
        return self._fill(index, (self.run_times[index], True, value, None, None))

    def failed(self, index: int, exc: BaseException, formatted: str | None) -> bool:
        if formatted is None:
            formatted = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        return self._fill(index, (self.run_times[index], False, None, exc, formatted))

    def lost(self, index: int) -> bool:
        """The worker died mid-run: like a scheduler's death under the lease policy, the
        run is reported (TASK_RUN_ABANDONED) and not run again."""
        self.abandoned.append(self.run_times[index])
        self.left -= 1
        return self.left == 0

    def wants_rerun(self, index: int) -> bool:
        """``on_interrupted="rerun"``: send a lost run again (at least once), a few times."""
        if self.task.on_interrupted != "rerun" or self.reruns[index] >= MAX_RERUNS:
            return False
        self.reruns[index] += 1
        return True

    def finished_outcomes(self) -> list[Outcome]:
        return [outcome for outcome in self.outcomes if outcome is not None]

    def _fill(self, index: int, outcome: Outcome) -> bool:
        """True when this was the last run still out."""
        self.outcomes[index] = outcome
        self.left -= 1
        return self.left == 0
