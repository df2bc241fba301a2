"""An ASGI app served by ``uvicorn --workers N``: every worker process runs a scheduler
through the lifespan wrapper, all on one shared store (settings from the environment)."""

from __future__ import annotations

import json
import os

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.shared_store.worker import Record, build_scheduler

scheduler = build_scheduler(
    json.loads(os.environ["ASYNCZ_SHARED_STORE"]),
    float(os.environ.get("ASYNCZ_LEASE", "5")),
    Record(os.environ["ASYNCZ_RECORD"]),
)


async def status(request: Request) -> JSONResponse:
    return JSONResponse({"pid": os.getpid(), "running": scheduler.running})


app = scheduler.asgi(Starlette(routes=[Route("/", status)]))
