"""One thread per executor that sends the runs to the broker, learns the outcome of every
run in flight from the result backend, and notices runs whose worker died.

One thread does all of it because a Celery app's result backend is per thread: the result
consumer that the sending thread subscribes is the one that must be drained.

Why the result backend rather than signals: signals fire in the worker process, so they
would need a channel of their own back to the scheduler; the backend already is that
channel, keeps outcomes while a scheduler restarts, and is what Celery users inspect.

* Backends that push (Redis, RPC) deliver ready results through Celery's own result
  consumer, which this thread drains; others (a database, a cache) are polled.
* Every ``check_seconds`` the runs still in flight are read once directly (a missed
  message is recovered) and the workers that hold started runs are pinged: a worker that
  misses two pings in a row has died, and its runs are reported lost.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from celery import Celery, states
from celery.result import AsyncResult

logger = logging.getLogger("asyncz_like_celery")


class Send(Protocol):
    """One run to publish: ``publish`` returns its result; ``failed`` is told why it could not."""

    def publish(self) -> AsyncResult: ...

    def failed(self, exc: BaseException) -> None: ...


#: pings a worker may miss before its started runs count as lost
MISSED_PINGS = 2


class ResultWatcher:
    def __init__(
        self,
        app: Celery,
        on_ready: Callable[[AsyncResult], None],
        on_lost: Callable[[AsyncResult, str], None],
        check_seconds: float | None,
        poll_interval: float = 0.05,
    ) -> None:
        self.app = app
        self.backend: Any = None  # the watcher thread's own, see the module docstring
        self.pushes = False
        self.on_ready = on_ready
        self.on_lost = on_lost
        self.check_seconds = check_seconds
        self.poll_interval = poll_interval
        self._pending: dict[str, AsyncResult] = {}
        self._outbox: list[Send] = []
        self._missed: dict[str, int] = {}  # worker hostname -> pings missed in a row
        self._cond = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._loop, name="asyncz_like-celery-results", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def send(self, send: Send) -> None:
        """From any thread: have the watcher thread send a run and watch its result."""
        with self._cond:
            self._outbox.append(send)
            self._cond.notify()

    def in_flight(self) -> int:
        with self._cond:
            return len(self._pending) + len(self._outbox)

    def stop(self, wait: bool) -> None:
        """Stop watching; with ``wait`` first let every run in flight report."""
        if wait:
            with self._cond:
                while (self._pending or self._outbox) and self._thread.is_alive():
                    self._cond.wait(0.1)
        with self._cond:
            self._stopping = True
            self._cond.notify()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(5)

    # -- the thread ----------------------------------------------------------------

    def _loop(self) -> None:
        self.backend = self.app.backend
        self.pushes = bool(getattr(self.backend, "is_async", False))
        next_check = time.monotonic() + (self.check_seconds or 0)
        while True:
            with self._cond:
                while not (self._pending or self._outbox or self._stopping):
                    self._cond.wait()
                if self._stopping:
                    return
                outbox, self._outbox = self._outbox, []
            try:
                for send in outbox:
                    self._send(send)
                self._collect()
                if self.check_seconds is not None and time.monotonic() >= next_check:
                    next_check = time.monotonic() + self.check_seconds
                    self._check()
            except Exception:  # a broken connection: Celery reconnects; we try again shortly
                logger.exception("Collecting Celery results failed; retrying")
                time.sleep(0.5)

    def _send(self, send: Send) -> None:
        try:
            result = send.publish()
        except Exception as exc:
            send.failed(exc)
            return
        with self._cond:
            self._pending[result.id] = result
        if self.pushes:
            result.then(self._ready)

    def _collect(self) -> None:
        if self.pushes:
            self.backend.result_consumer.drain_events(timeout=0.1)
            return
        for result in self._snapshot():
            if result.ready():
                self._ready(result)
        time.sleep(self.poll_interval)

    def _snapshot(self) -> list[AsyncResult]:
        with self._cond:
            return list(self._pending.values())

    def _take(self, result: AsyncResult) -> bool:
        with self._cond:
            taken = self._pending.pop(result.id, None) is not None
            self._cond.notify_all()
        return taken

    def _ready(self, result: AsyncResult) -> None:
        if self._take(result):
            self.on_ready(result)

    def _check(self) -> None:
        """Read every run in flight once; ping the workers holding started runs."""
        started: dict[str, list[AsyncResult]] = {}
        for result in self._snapshot():
            meta = self.backend.get_task_meta(result.id)  # one read: the state may change meanwhile
            info = meta.get("result")
            if meta.get("status") in states.READY_STATES:
                if result.ready():  # caches the outcome on the result
                    self._ready(result)
            elif meta.get("status") == states.STARTED and isinstance(info, dict) and info.get("hostname"):
                started.setdefault(info["hostname"], []).append(result)
        if not started:
            self._missed.clear()
            return
        replies = self.app.control.ping(destination=list(started), timeout=1.0)
        alive = {hostname for reply in replies for hostname in reply}
        for hostname, results in started.items():
            if hostname in alive:
                self._missed.pop(hostname, None)
                continue
            self._missed[hostname] = self._missed.get(hostname, 0) + 1
            if self._missed[hostname] >= MISSED_PINGS:
                for result in results:
                    if self._take(result):
                        self.on_lost(result, f"worker {hostname} stopped answering pings")
