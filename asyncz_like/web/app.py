"""``create_app``: the REST API and the dashboard as one ASGI app (FastAPI).

Mount it in an application beside its scheduler (``app.mount("/ops", create_app(scheduler,
token=...))``), or serve it alone over a store (``asyncz-like serve --store URL``).
"""

from __future__ import annotations

import html
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from importlib import resources
from string import Template
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.staticfiles import StaticFiles

from asyncz_like.exceptions import ConflictIdError, StoreConnectionError, TaskLookupError
from asyncz_like.operations.client import StoreClient, open_client
from asyncz_like.operations.errors import is_store_unreachable
from asyncz_like.operations.features import FeatureUnavailableError
from asyncz_like.operations.redact import Redactor
from asyncz_like.operations.specs import field_of
from asyncz_like.schedulers.base import BaseScheduler
from asyncz_like.web.api import router
from asyncz_like.web.security import (
    Credentials,
    OperatorGuard,
    Policy,
    allowed_host_set,
    csrf_token_for,
    derive_secret_key,
)

logger = logging.getLogger("asyncz_like.web")
STATIC = "static"


def create_app(
    scheduler: BaseScheduler | None = None,
    *,
    store: str | None = None,
    store_options: dict[str, Any] | None = None,
    client: StoreClient | None = None,
    credentials: Credentials | None = None,
    token: str | None = None,
    username: str | None = None,
    password: str | None = None,
    secret_key: str | bytes | None = None,
    allowed_hosts: list[str] | None = None,
    title: str = "asyncz_like",
) -> FastAPI:
    """The operator app over ``scheduler`` (your running one: 'run now' uses its executors
    and its health is reported), or over the store at URL ``store`` through a paused client.

    Without ``token`` or ``username``/``password`` it answers loopback requests only.
    ``secret_key`` signs the CSRF token; give the same one to every process that serves
    the app (with credentials it is derived from them)."""
    if credentials is None:
        credentials = Credentials(token=token, username=username, password=password)
    elif token or username or password:
        raise ValueError("credentials: give a Credentials or token/username/password, not both")
    redactor = Redactor(credentials.secrets())
    if client is None:
        if scheduler is not None:
            client = StoreClient(scheduler, owned=False, redactor=redactor)
        elif store is not None:
            client = open_client(store, store_options, executor="threadpool", redactor=redactor)
        else:
            raise ValueError("scheduler: give a scheduler, a store URL (store=) or a client")
    elif scheduler is not None or store is not None:
        raise ValueError("client: give a client, a scheduler or a store URL, only one")
    client.redactor.add(*credentials.secrets())
    csrf_token = csrf_token_for(derive_secret_key(secret_key, credentials))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await run_in_threadpool(client.close)  # an owned client; a scheduler of yours is left alone

    app = FastAPI(
        title=f"{title} operations",
        summary="Tasks, run history and health of asyncz_like schedulers",
        version=_version(),
        docs_url=None,  # the interactive docs load scripts from a CDN; /openapi.json is served
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.operator_client = client
    app.state.csrf_token = csrf_token
    app.include_router(router)
    app.mount("/static", StaticFiles(packages=[("asyncz_like.web", STATIC)]), name="static")
    _add_error_handlers(app, client.redactor)
    page = _page_template()

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def dashboard(request: Request) -> HTMLResponse:
        described = client.describe()
        stores = ", ".join(f"{item['alias']}: {item['url'] or item['type']}" for item in described["stores"])
        root = request.scope.get("root_path", "").rstrip("/")
        body = page.substitute(
            base=html.escape(f"{root}/", quote=True),
            title=html.escape(title),
            csrf=html.escape(csrf_token, quote=True),
            stores=html.escape(client.redactor.text(stores) or "-"),
        )
        return HTMLResponse(body)

    app.add_middleware(
        OperatorGuard,  # type: ignore[arg-type]
        policy=Policy(credentials=credentials, csrf_token=csrf_token, allowed_hosts=allowed_host_set(allowed_hosts)),
    )
    return app


def _version() -> str:
    from asyncz_like import __version__

    return __version__


def _page_template() -> Template:
    """index.html with ``${name}`` placeholders."""
    page = resources.files("asyncz_like.web").joinpath(STATIC).joinpath("index.html")
    return Template(page.read_text(encoding="utf-8"))


def _add_error_handlers(app: FastAPI, redactor: Redactor) -> None:
    """Library errors as HTTP statuses; every message redacted, never a traceback."""

    def detail(exc: BaseException) -> str:
        return redactor.text(str(exc) or type(exc).__name__)

    def simple(status: int) -> Callable[[Request, Exception], Any]:
        async def handle(request: Request, exc: Exception) -> JSONResponse:
            return JSONResponse({"detail": detail(exc)}, status_code=status)

        return handle

    for exc_class, status in (
        (TaskLookupError, 404),
        (ConflictIdError, 409),
        (FeatureUnavailableError, 501),
        (StoreConnectionError, 503),
        (ConnectionError, 503),
        (TimeoutError, 503),
    ):
        app.add_exception_handler(exc_class, simple(status))

    async def invalid(request: Request, exc: Exception) -> JSONResponse:
        where = "query" if request.method in ("GET", "HEAD") else "body"
        field = field_of(exc)
        message = detail(exc)
        if field and message.startswith(f"{field}:"):
            message = message[len(field) + 1 :].strip()
        loc = [where, *(field.split(".") if field else [])]
        return JSONResponse(
            {"detail": [{"loc": loc, "msg": message, "type": "value_error"}]},
            status_code=422,
        )

    for invalid_class in (ValueError, TypeError, LookupError):
        app.add_exception_handler(invalid_class, invalid)

    async def invalid_request(request: Request, exc: Exception) -> JSONResponse:
        errors = exc.errors() if isinstance(exc, RequestValidationError) else []
        cleaned = [
            {
                "loc": list(error["loc"]),
                "msg": redactor.text(str(error["msg"]).removeprefix("Value error, ")),
                "type": error["type"],
            }
            for error in errors
        ]
        return JSONResponse({"detail": cleaned}, status_code=422)

    app.add_exception_handler(RequestValidationError, invalid_request)

    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        if is_store_unreachable(exc):
            return JSONResponse({"detail": f"store unreachable: {detail(exc)}"}, status_code=503)
        logger.error("Operator API: %s failed: %s: %s", request.url.path, type(exc).__name__, detail(exc))
        return JSONResponse({"detail": "internal error (see the server log)"}, status_code=500)

    app.add_exception_handler(Exception, unexpected)
