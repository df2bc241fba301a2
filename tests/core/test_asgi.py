"""A real Starlette app's lifespan starts and stops the scheduler."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from asyncz_like import AsyncIOScheduler, NativeAsyncIOScheduler


def make_app(scheduler: AsyncIOScheduler, events: list[str] | None = None) -> Starlette:
    async def status(request: Any) -> JSONResponse:
        return JSONResponse({"running": scheduler.running})

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if events is not None:
            events.append(f"app startup (scheduler running: {scheduler.running})")
        yield
        if events is not None:
            events.append(f"app shutdown (scheduler running: {scheduler.running})")

    return Starlette(routes=[Route("/", status)], lifespan=lifespan)


def test_wrapper_starts_before_the_app_and_stops_after_it() -> None:
    scheduler = AsyncIOScheduler(timezone="UTC")
    events: list[str] = []
    app = scheduler.asgi(make_app(scheduler, events))
    assert not scheduler.running
    with TestClient(app) as client:
        assert client.get("/").json() == {"running": True}
    assert not scheduler.running
    assert events == ["app startup (scheduler running: True)", "app shutdown (scheduler running: True)"]


def test_decorator_form_with_handle_lifespan_answers_lifespan_itself() -> None:
    scheduler = NativeAsyncIOScheduler(timezone="UTC")
    events: list[str] = []

    @scheduler.asgi(handle_lifespan=True, wait=True)
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] != "lifespan", "the wrapped app must not see lifespan messages"
        events.append(scope["type"])
        response = JSONResponse({"running": scheduler.running})
        await response(scope, receive, send)

    with TestClient(app) as client:
        assert scheduler.running
        assert client.get("/").json() == {"running": True}
    assert not scheduler.running
    assert events == ["http"]
