"""The ASGI lifespan wrapper: the scheduler runs while the app does (Starlette)."""

from asyncz.schedulers import AsyncIOScheduler, NativeAsyncIOScheduler
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient


def tick():
    pass


for kind in (AsyncIOScheduler, NativeAsyncIOScheduler):
    scheduler = kind(timezone="UTC")
    scheduler.add_task(tick, "interval", minutes=1, id="tick")

    async def status(request, scheduler=scheduler):
        return JSONResponse({"running": scheduler.running, "tasks": [t.id for t in scheduler.get_tasks()]})

    app = scheduler.asgi(Starlette(routes=[Route("/status", status)]))
    assert not scheduler.running
    with TestClient(app) as client:
        assert client.get("/status").json() == {"running": True, "tasks": ["tick"]}
    assert not scheduler.running, kind

    # the decorator form, handling the lifespan itself
    other = kind(timezone="UTC")

    @other.asgi(handle_lifespan=True)
    async def bare_app(scope, receive, send):
        if scope["type"] == "http":
            await send({"type": "http.response.start", "status": 204, "headers": []})
            await send({"type": "http.response.body", "body": b""})

    with TestClient(bare_app) as client:
        assert client.get("/").status_code == 204
        assert other.running
    assert not other.running

print("OK")
