"""Run history and health, asked of a scheduler only if it has them.

They come with the run-history feature (``scheduler.get_run_history`` and
``scheduler.health_check``); where a scheduler lacks them the surfaces say so clearly
(CLI exit status 6, HTTP 501) instead of failing obscurely.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic_core import to_jsonable_python

HISTORY_METHOD = "get_run_history"
HEALTH_METHOD = "health_check"


class FeatureUnavailableError(RuntimeError):
    """The scheduler has no such feature in this installation."""

    def __init__(self, feature: str, method: str) -> None:
        super().__init__(f"{feature} is not available: this asyncz_like has no scheduler.{method}()")
        self.feature = feature
        self.method = method


def has_history(scheduler: Any) -> bool:
    return callable(getattr(scheduler, HISTORY_METHOD, None))


def has_health(scheduler: Any) -> bool:
    return callable(getattr(scheduler, HEALTH_METHOD, None))


def jsonable(value: Any) -> Any:
    """Typed records (pydantic models, dataclasses, enums, datetimes) as plain JSON values."""
    return to_jsonable_python(value, fallback=str)


def run_history(
    scheduler: Any,
    task_id: str | None = None,
    limit: int = 50,
    outcome: str | None = None,
    since: datetime | None = None,
) -> list[dict[str, Any]]:
    """Run records, newest first, as JSON objects."""
    if not has_history(scheduler):
        raise FeatureUnavailableError("run history", HISTORY_METHOD)
    records = getattr(scheduler, HISTORY_METHOD)(task_id=task_id, limit=limit, outcome=outcome, since=since)
    return [record if isinstance(record, dict) else jsonable(record) for record in records]


def health_report(scheduler: Any) -> dict[str, Any]:
    """The scheduler's health report as a JSON object."""
    if not has_health(scheduler):
        raise FeatureUnavailableError("health", HEALTH_METHOD)
    report = jsonable(getattr(scheduler, HEALTH_METHOD)())
    return report if isinstance(report, dict) else {"report": report}


#: what a health report says about the process that made it: of a store client (the CLI, a
#: server over a store) that runs no tasks, it says nothing an operator needs
_OWN_PROCESS_FIELDS = ("state", "last_pass_at", "next_wakeup_time", "runs_in_flight", "claims_held", "runs")
_OWN_PROCESS_REASONS = ("processing is paused",)


def store_view(report: dict[str, Any]) -> dict[str, Any]:
    """A client's health report as a view of its stores: the client's own paused state, run
    figures and lease are left out (the schedulers that share the stores are listed under
    each store), and a status that only the client's pause made ``degraded`` is ``ok``."""
    view = {key: value for key, value in report.items() if key not in _OWN_PROCESS_FIELDS}
    reasons = [reason for reason in report.get("reasons") or [] if reason not in _OWN_PROCESS_REASONS]
    view["reasons"] = reasons
    if health_status(report) == "degraded" and not reasons:
        view["status"] = "ok"
    for store in view.get("stores") or []:
        if isinstance(store, dict) and isinstance(store.get("schedulers"), list):
            store["schedulers"] = [seen for seen in store["schedulers"] if not seen.get("is_self")]
    view["seen_from"] = "a store client: it runs a task only when asked to run one now"
    view.pop("scheduler_id", None)
    return view


def health_status(report: dict[str, Any]) -> str:
    """``ok``, ``degraded`` or ``failing`` (``unknown`` for a report without a status)."""
    status = report.get("status")
    if isinstance(status, dict):  # an enum dumped as an object
        status = status.get("value")
    return str(status).lower() if status is not None else "unknown"


def last_outcomes(scheduler: Any, limit: int = 500) -> dict[str, dict[str, Any]]:
    """The newest record of each task among the last ``limit`` runs (empty without history)."""
    if not has_history(scheduler):
        return {}
    newest: dict[str, dict[str, Any]] = {}
    for record in run_history(scheduler, limit=limit):
        task_id = record.get("task_id")
        if isinstance(task_id, str) and task_id not in newest:
            newest[task_id] = record
    return newest
