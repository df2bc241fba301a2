"""The REST API through an ASGI client (httpx.ASGITransport): every endpoint on a real SQLite
store and on a running scheduler of the application's own, validation errors that name the
field, an OpenAPI schema, and nothing unpickled from a request."""

from __future__ import annotations

import base64
import pickle
import re
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from asyncz_like import ManualScheduler
from asyncz_like.web import create_app
from tests.operations.conftest import StoreTarget

JOB = "tests.operations.jobs"
LOCAL = "http://127.0.0.1:8000"


def csrf_of(page: str) -> str:
    match = re.search(r'<meta name="csrf-token" content="([0-9a-f]+)">', page)
    assert match, "the dashboard page carries the CSRF token"
    return match.group(1)


class Api:
    """An ASGI client that sends the page's CSRF token with each change, as the dashboard does."""

    def __init__(self, client: httpx.AsyncClient, csrf: str) -> None:
        self.client = client
        self.headers = {"X-CSRF-Token": csrf}

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.client.get(path, **kwargs)

    async def post(self, path: str, headers: dict[str, str] | None = None, **kwargs: Any) -> httpx.Response:
        return await self.client.post(path, headers={**self.headers, **(headers or {})}, **kwargs)

    async def delete(self, path: str) -> httpx.Response:
        return await self.client.delete(path, headers=self.headers)


@pytest.fixture
def store_app(sqlite_target: StoreTarget) -> Iterator[FastAPI]:
    app = create_app(store=sqlite_target.url, store_options=sqlite_target.options)
    yield app
    app.state.operator_client.close()


@pytest.fixture
async def api(store_app: FastAPI) -> AsyncIterator[Api]:
    transport = httpx.ASGITransport(app=store_app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url=LOCAL) as client:
        page = await client.get("/")
        yield Api(client, csrf_of(page.text))


async def add(api: Api, task_id: str, **spec: Any) -> httpx.Response:
    body = {"func": f"{JOB}:noop", "trigger": "interval", "trigger_args": {"hours": 1}, "id": task_id, **spec}
    return await api.post("/api/tasks", json=body)


async def test_add_list_show_and_filter(api: Api) -> None:
    created = await add(api, "hourly", name="Hourly")
    assert created.status_code == 201, created.text
    assert created.json()["trigger_description"] == "interval[1:00:00]"
    cron = await add(api, "night", trigger="cron", trigger_args={"hour": 3}, paused=True)
    assert cron.json()["schedule_state"] == "paused"

    listed = (await api.get("/api/tasks")).json()
    assert [task["id"] for task in listed["tasks"]] == ["hourly", "night"]
    assert listed["set_aside"] == []
    assert (await api.get("/api/tasks", params={"state": "paused"})).json()["tasks"][0]["id"] == "night"
    assert [t["id"] for t in (await api.get("/api/tasks", params={"q": "hourly"})).json()["tasks"]] == ["hourly"]
    by_id = await api.get("/api/tasks", params={"sort_by": "id", "descending": "true"})
    assert [task["id"] for task in by_id.json()["tasks"]] == ["night", "hourly"]
    shown = await api.get("/api/tasks/hourly")
    assert shown.status_code == 200 and shown.json()["name"] == "Hourly"


async def test_pause_resume_reschedule_run_delete(api: Api, tmp_path: Path) -> None:
    record = tmp_path / "ran.txt"
    await add(api, "job", func=f"{JOB}:record", args=[str(record), "api"])
    paused = await api.post("/api/tasks/job/pause")
    assert paused.json()["schedule_state"] == "paused" and paused.json()["next_run_time"] is None
    resumed = await api.post("/api/tasks/job/resume")
    assert resumed.json()["task"]["schedule_state"] == "scheduled"
    moved = await api.post("/api/tasks/job/reschedule", json={"trigger": "cron", "trigger_args": {"minute": 30}})
    assert moved.json()["trigger_alias"] == "cron"
    before = moved.json()["next_run_time"]

    ran = await api.post("/api/tasks/job/run")
    assert ran.status_code == 202 and len(ran.json()["submitted"]) == 1
    for _ in range(250):  # the run happens in this process's thread pool: wait for its content,
        if record.exists() and record.read_text():  # not only the file (opened before it is written)
            break
        time.sleep(0.02)
    assert record.read_text().startswith("api ")
    assert (await api.get("/api/tasks/job")).json()["next_run_time"] == before

    assert (await api.delete("/api/tasks/job")).status_code == 204
    assert (await api.get("/api/tasks/job")).status_code == 404


async def test_a_task_id_with_a_slash_is_one_path_segment(api: Api) -> None:
    assert (await add(api, "reports/daily")).status_code == 201
    assert (await api.post("/api/tasks/reports%2Fdaily/pause")).json()["id"] == "reports/daily"
    assert (await api.get("/api/tasks/reports%2Fdaily")).json()["schedule_state"] == "paused"


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"trigger": "interval"}, ["body", "func"]),
        ({"func": "not a reference"}, ["body", "func"]),
        ({"func": f"{JOB}:noop", "trigger": "cron", "trigger_args": {"hour": 30}}, ["body", "trigger_args", "hour"]),
        (
            {"func": f"{JOB}:noop", "trigger": "interval", "trigger_args": {"weeks": -1}},
            ["body", "trigger_args", "weeks"],
        ),
        ({"func": f"{JOB}:noop", "trigger": "sometimes"}, ["body", "trigger"]),
        ({"func": f"{JOB}:noop", "max_instances": 0}, ["body", "max_instances"]),
        ({"func": f"{JOB}:noop", "args": "not a list"}, ["body", "args"]),
        ({"func": f"{JOB}:noop", "colour": "blue"}, ["body", "colour"]),
        ({"func": f"{JOB}:missing"}, ["body", "func"]),
        (
            {"func": f"{JOB}:noop", "trigger": "or", "trigger_args": {"triggers": [{"trigger": "cron", "hour": 99}]}},
            ["body", "trigger_args", "triggers[0]", "hour"],
        ),
    ],
)
async def test_validation_errors_name_the_field(api: Api, body: dict[str, Any], loc: list[str]) -> None:
    response = await api.post("/api/tasks", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == loc


async def test_query_errors_name_the_parameter(api: Api) -> None:
    for params, name in (({"state": "asleep"}, "state"), ({"sort_by": "colour"}, "sort_by")):
        response = await api.get("/api/tasks", params=params)
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["query", name]


async def test_unknown_tasks_and_taken_ids(api: Api) -> None:
    for response in (
        await api.get("/api/tasks/nope"),
        await api.post("/api/tasks/nope/pause"),
        await api.post("/api/tasks/nope/run"),
        await api.delete("/api/tasks/nope"),
    ):
        assert response.status_code == 404
        assert response.json() == {"detail": "No task by the id of 'nope' was found."}
    await add(api, "once")
    assert (await add(api, "once")).status_code == 409
    assert (await add(api, "once", replace_existing=True)).status_code == 201


async def test_nothing_sent_is_unpickled(api: Api, tmp_path: Path) -> None:
    """A pickle anywhere in a request is data: a function must be a 'module:function'
    reference, arguments stay the JSON values they were, other bodies are refused."""
    marker = tmp_path / "pwned"
    payload = base64.b64encode(pickle.dumps(Exploit(str(marker)))).decode()
    as_func = await api.post("/api/tasks", json={"func": payload})
    assert as_func.status_code == 422
    record = tmp_path / "ran.txt"
    as_arg = await add(api, "data", func=f"{JOB}:record", args=[str(record), payload])
    assert as_arg.status_code == 201
    assert (await api.post("/api/tasks/data/run")).status_code == 202
    for _ in range(250):  # the run writes the file in a worker thread: wait for its content
        if record.exists() and record.read_text():
            break
        time.sleep(0.02)
    assert record.read_text().startswith(f"{payload} ")  # the argument stayed the string it was
    pickled = pickle.dumps(Exploit(str(marker)))
    raw = await api.post("/api/tasks", content=pickled, headers={"content-type": "application/octet-stream"})
    assert raw.status_code == 422
    assert not marker.exists()


class Exploit:
    """Unpickling this would create a file."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (self.path, "w"))


async def test_info_masks_store_passwords(tmp_path: Path) -> None:
    scheduler = ManualScheduler()
    scheduler.add_store("sqlite:///" + str(tmp_path / "x.db"), "local")
    from asyncz_like.stores.memory import MemoryStore

    store = MemoryStore()
    store.url = "redis://ops:very-secret-pw@cache.internal:6379/0"  # type: ignore[attr-defined]
    scheduler.add_store(store, "remote")
    app = create_app(scheduler)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url=LOCAL) as client:
        info = (await client.get("/api/info")).json()
        page = (await client.get("/")).text
    urls = {store["alias"]: store["url"] for store in info["stores"]}
    assert urls["remote"] == "redis://ops:***@cache.internal:6379/0"
    assert "very-secret-pw" not in page and "ops:***@cache.internal" in page


async def test_the_openapi_schema_describes_every_endpoint(api: Api) -> None:
    schema = (await api.get("/openapi.json")).json()
    paths = schema["paths"]
    assert set(paths) >= {
        "/api/tasks",
        "/api/tasks/{task_id}",
        "/api/tasks/{task_id}/pause",
        "/api/tasks/{task_id}/resume",
        "/api/tasks/{task_id}/run",
        "/api/tasks/{task_id}/reschedule",
        "/api/history",
        "/api/health",
        "/api/info",
    }
    assert "func" in schema["components"]["schemas"]["TaskSpec"]["required"]
    assert (await api.get("/docs")).status_code == 404  # the interactive docs would load a CDN


async def test_the_dashboard_and_its_assets_are_served_by_the_package(api: Api) -> None:
    page = (await api.get("/")).text
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert assets and all(not asset.startswith(("http:", "https:", "//")) for asset in assets)
    for asset in assets:
        response = await api.get(f"/{asset}")
        assert response.status_code == 200, asset
        text = response.text.replace('xmlns="http://www.w3.org/2000/svg"', "")  # a name, not a link
        assert "http://" not in text and "https://" not in text, asset


async def test_mounted_beside_a_running_scheduler(tmp_path: Path) -> None:
    """Mounted in an application: 'run now' uses that scheduler's executor, and the page
    links resolve under the mount path."""
    from starlette.applications import Starlette
    from starlette.routing import Mount

    record = tmp_path / "ran.txt"
    scheduler = ManualScheduler(stores={"default": f"sqlite:///{tmp_path / 'app.db'}"})
    scheduler.add_task(f"{JOB}:record", "cron", hour=3, args=[str(record), "mounted"], id="nightly")
    scheduler.start()
    try:
        outer = Starlette(routes=[Mount("/ops", app=create_app(scheduler))])
        transport = httpx.ASGITransport(app=outer, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url=LOCAL) as client:
            page = await client.get("/ops/")
            assert '<base href="/ops/">' in page.text
            assert (await client.get("/ops/static/dashboard.js")).status_code == 200
            ran = await client.post("/ops/api/tasks/nightly/run", headers={"X-CSRF-Token": csrf_of(page.text)})
            assert ran.status_code == 202
        assert record.read_text().startswith("mounted ")  # the debug executor ran it inline
    finally:
        scheduler.shutdown()
