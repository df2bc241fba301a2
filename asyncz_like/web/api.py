"""The REST API: everything the CLI does, as JSON under ``/api``.

Handlers are plain functions: FastAPI runs them in its thread pool, so store I/O never
blocks the event loop. Request bodies are JSON validated by pydantic; nothing a client
sends is ever unpickled (functions are ``module:function`` references).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from asyncz_like.operations.client import StoreClient
from asyncz_like.operations.specs import TaskSpec, TriggerSpec
from asyncz_like.tasks.info import TaskInfo, TaskScheduleState

router = APIRouter(prefix="/api")


def client_of(request: Request) -> StoreClient:
    return request.app.state.operator_client  # type: ignore[no-any-return]


Client = Annotated[StoreClient, Depends(client_of)]


class TaskView(TaskInfo):
    """A task snapshot with its latest recorded run (when run history is available)."""

    last_outcome: str | None = None
    last_run: dict[str, Any] | None = None


class SetAsideView(BaseModel):
    store: str
    id: str
    reason: str


class TaskList(BaseModel):
    tasks: list[TaskView]
    set_aside: list[SetAsideView] = Field(description="stored tasks that cannot be restored here")


class Resumed(BaseModel):
    task: TaskView | None = Field(description="null when the trigger had nothing left to fire (task removed)")


class RunSubmitted(BaseModel):
    task_id: str
    submitted: list[datetime]
    finished: bool
    results: list[dict[str, Any]]


class RunHistory(BaseModel):
    runs: list[dict[str, Any]]


def view(info: TaskInfo, last: dict[str, dict[str, Any]] | None = None) -> TaskView:
    record = (last or {}).get(info.id or "")
    return TaskView(
        **info.model_dump(), last_outcome=record.get("outcome") if record else None, last_run=record or None
    )


@router.get("/info", summary="The scheduler and its stores (URLs masked)")
def info(client: Client) -> dict[str, Any]:
    from asyncz_like import __version__

    return {**client.start().describe(), "version": __version__}


@router.get("/tasks", response_model=TaskList, summary="List tasks, filtered, searched and sorted")
def list_tasks(
    client: Client,
    state: TaskScheduleState | None = None,
    executor: str | None = None,
    trigger: Annotated[str | None, Query(description="a trigger alias or class name")] = None,
    q: Annotated[str | None, Query(description="free text, matched in id, name, function, trigger, ...")] = None,
    sort_by: Annotated[
        str, Query(description="id, name, next_run_time, schedule_state, executor, store, trigger, priority")
    ] = "next_run_time",
    descending: bool = False,
    store: Annotated[str | None, Query(description="a store alias")] = None,
) -> TaskList:
    filters = {"store": store, "schedule_state": state, "executor": executor, "trigger": trigger, "q": q}
    infos = client.list_tasks(**filters, sort_by=sort_by, descending=descending)
    last = client.last_outcomes()
    return TaskList(
        tasks=[view(item, last) for item in infos],
        set_aside=[SetAsideView(**item) for item in client.set_aside()],
    )


@router.post("/tasks", response_model=TaskView, status_code=201, summary="Add a task")
def add_task(client: Client, spec: TaskSpec) -> TaskView:
    return view(client.add(spec))


@router.post("/tasks/{task_id:path}/pause", response_model=TaskView, summary="Pause a task")
def pause_task(client: Client, task_id: str) -> TaskView:
    return view(client.pause(task_id))


@router.post("/tasks/{task_id:path}/resume", response_model=Resumed, summary="Resume a paused task from now on")
def resume_task(client: Client, task_id: str) -> Resumed:
    resumed = client.resume(task_id)
    return Resumed(task=None if resumed is None else view(resumed))


@router.post(
    "/tasks/{task_id:path}/run",
    response_model=RunSubmitted,
    status_code=202,
    summary="Run a task now (in the process serving this API); its outcome goes to the run history",
)
def run_task(client: Client, task_id: str) -> RunSubmitted:
    outcome = client.run_now(task_id, wait=0, local_executor=_thread_pool)
    return RunSubmitted(**outcome.as_json())


@router.post("/tasks/{task_id:path}/reschedule", response_model=TaskView, summary="Give a task a new trigger")
def reschedule_task(client: Client, task_id: str, spec: TriggerSpec) -> TaskView:
    return view(client.reschedule(task_id, spec))


@router.get("/tasks/{task_id:path}", response_model=TaskView, summary="One task")
def get_task(client: Client, task_id: str) -> TaskView:
    info = client.get(task_id)
    return view(info, client.last_outcomes())


@router.delete("/tasks/{task_id:path}", status_code=204, response_class=Response, summary="Delete a task")
def delete_task(client: Client, task_id: str) -> Response:
    client.delete(task_id)
    return Response(status_code=204)


@router.get(
    "/history",
    response_model=RunHistory,
    summary="Run history, newest first",
    responses={501: {"description": "run history is not available in this installation"}},
)
def history(
    client: Client,
    task_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 50,
    outcome: str | None = None,
    since: datetime | None = None,
) -> RunHistory:
    return RunHistory(runs=client.history(task_id, limit, outcome, since))


@router.get(
    "/health",
    summary="The health report",
    responses={501: {"description": "health is not available in this installation"}},
)
def health(client: Client) -> dict[str, Any]:
    return client.health()


def _thread_pool() -> Any:
    from asyncz_like.executors.pool import ThreadPoolExecutor

    return ThreadPoolExecutor()
