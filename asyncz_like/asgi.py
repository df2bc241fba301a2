"""Start and stop a scheduler with an ASGI app's lifespan."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from inspect import isawaitable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from asyncz_like.schedulers.base import BaseScheduler

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


async def _maybe_await(result: Any) -> Any:
    return await result if isawaitable(result) else result


class LifespanWrapper:
    """Wraps an ASGI app: on ``lifespan.startup`` the scheduler starts, on
    ``lifespan.shutdown`` it shuts down (``wait`` is passed on).

    With ``handle_lifespan=True`` the wrapper answers lifespan messages itself and the
    inner app never sees them (for apps that do not speak lifespan); otherwise the
    scheduler starts before the app's own startup and stops after its shutdown.
    """

    def __init__(
        self, app: ASGIApp | None, scheduler: BaseScheduler, *, handle_lifespan: bool = False, wait: bool = False
    ) -> None:
        self.app = app
        self.scheduler = scheduler
        self.handle_lifespan = handle_lifespan or app is None
        self.wait = wait

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            if self.app is None:
                raise RuntimeError("asgi: no app wrapped; only lifespan scopes can be served")
            await self.app(scope, receive, send)
            return
        if self.handle_lifespan:
            await self._own_lifespan(receive, send)
        else:
            await self._forward_lifespan(scope, receive, send)

    async def _start(self) -> None:
        await _maybe_await(self.scheduler.start())

    async def _stop(self) -> None:
        if self.scheduler.running:
            await _maybe_await(self.scheduler.shutdown(self.wait))

    async def _own_lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self._start()
                except Exception as exc:
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                try:
                    await self._stop()
                except Exception as exc:
                    await send({"type": "lifespan.shutdown.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _forward_lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self.app is not None
        started = False

        async def wrapped_receive() -> Message:
            nonlocal started
            message = await receive()
            if message["type"] == "lifespan.startup":
                await self._start()
                started = True
            return message

        async def wrapped_send(message: Message) -> None:
            if message["type"] in ("lifespan.shutdown.complete", "lifespan.shutdown.failed") and started:
                await self._stop()
            await send(message)

        try:
            await self.app(scope, wrapped_receive, wrapped_send)
        finally:
            if started:
                await self._stop()
