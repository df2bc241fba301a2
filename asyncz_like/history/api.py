"""What a scheduler offers for run history and health (a mixin of BaseScheduler)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from asyncz_like.exceptions import ArgumentError
from asyncz_like.history.records import RunOutcome, RunRecord

if TYPE_CHECKING:
    from asyncz_like.history.health import HealthReport
    from asyncz_like.history.log import RunLog

#: the outcomes of the last this many seconds that the health report's run figures cover
DEFAULT_HEALTH_WINDOW = 900.0


class HistoryAPI:
    """``get_run_history`` and ``health_check``, which every scheduler has."""

    if TYPE_CHECKING:
        run_log: RunLog

    def get_run_history(
        self,
        task_id: str | None = None,
        limit: int = 50,
        outcome: str | RunOutcome | Iterable[str | RunOutcome] | None = None,
        since: datetime | str | None = None,
        store: str | None = None,
    ) -> list[RunRecord]:
        """Run records, newest first: of one task or all, with the given outcome(s), finished
        at ``since`` or later, from one store or all. On a shared store they are every
        scheduler's records, and those written before a restart. Reads the stores (blocking
        I/O: from async code, call it in a thread)."""
        return self.run_log.get_run_history(task_id, limit, outcome, since, store)

    def health_check(self, window: float = DEFAULT_HEALTH_WINDOW) -> HealthReport:
        """Status (ok, degraded, failing) with the reasons, every store's reachability and round
        trip, task counts, the last ``window`` seconds' success rate and lateness, and the
        schedulers seen on each shared store. Reads the stores (blocking I/O: from async code,
        call it in a thread)."""
        from asyncz_like.history.health import build_report

        if isinstance(window, bool) or not isinstance(window, (int, float)) or not 0 < window <= 86_400:
            raise ArgumentError("window", f"expected seconds between 0 and 86400, got {window!r}")
        return build_report(self, float(window))  # type: ignore[arg-type]


__all__ = ["HistoryAPI"]
