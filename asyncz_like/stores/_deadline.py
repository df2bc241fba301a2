"""A client-side deadline for SQL store calls whose driver cannot time out a read.

libpq (psycopg) has a connect timeout but no read timeout, and a server-side
``statement_timeout`` is no help when the server itself hangs (SIGSTOP, a frozen VM, a
half-open network path): the call would wait forever. So each store call runs under a
deadline. One watchdog thread per store knows which pooled connections each calling
thread has checked out; when a call overruns, it shuts down those sockets, the blocked
driver call fails at once, SQLAlchemy discards the broken connection, and the call
raises :class:`DeadlineExceeded`. The pool replaces the connection on the next call.

Pooled connections are also pinged at checkout (the pessimistic check that
``pool_pre_ping`` does, but under the deadline), so a connection that died while idle,
a restarted server for example, is replaced without the caller seeing an error.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.exc import DisconnectionError

from asyncz_like.stores.feeds import shut_socket

_FRESH = "asyncz_like.fresh"


class DeadlineExceeded(TimeoutError):
    """A store call did not finish within its operation timeout."""


class Watchdog:
    """Bounds every call made inside :meth:`guard` to ``timeout`` seconds."""

    def __init__(self, timeout: float, connect_timeout_arg: str | None = "connect_timeout") -> None:
        self.timeout = timeout
        self.connect_timeout_arg = connect_timeout_arg
        self._local = threading.local()
        self._wake = threading.Condition()
        self._deadlines: dict[int, float] = {}  # calling thread -> when its call must end
        self._fired: set[int] = set()  # calling threads whose sockets were shut down
        self._held: dict[Any, tuple[int, Any]] = {}  # connection record -> (thread, DBAPI connection)
        self._thread: threading.Thread | None = None
        self._generation = 0  # bumped by stop(): a watchdog thread of an older one exits
        self._sleeping_until: float | None = None  # None: waiting for work, with no deadline

    # -- the engine's pool tells us which thread holds which connection ---------------

    def attach(self, engine: Engine, ping: bool) -> None:
        """Watch ``engine``'s connections; ``ping`` pessimistically checks them at checkout."""
        self._dialect = engine.dialect
        self._ping = ping
        pool = engine.pool
        event.listen(pool, "connect", self._connected)
        event.listen(pool, "checkout", self._checked_out)
        for name in ("checkin", "invalidate", "soft_invalidate", "close", "detach"):
            event.listen(pool, name, self._released)
        event.listen(engine, "do_connect", self._connecting)

    def _connected(self, dbapi_connection: Any, record: Any) -> None:
        record.info[_FRESH] = True  # just opened: no need to ping it

    def _connecting(self, dialect: Any, record: Any, cargs: Any, cparams: dict[str, Any]) -> None:
        """A new connection inside a guarded call waits no longer than the call has left."""
        deadline = getattr(self._local, "deadline", None)
        if deadline is None or self.connect_timeout_arg is None:
            return
        left = deadline - time.monotonic()
        if left <= 0:
            raise DeadlineExceeded(f"no answer within {self.timeout:g} s (operation_timeout)")
        current = cparams.get(self.connect_timeout_arg)
        seconds = max(1, math.ceil(left))
        cparams[self.connect_timeout_arg] = seconds if current is None else min(int(current), seconds)

    def _checked_out(self, dbapi_connection: Any, record: Any, proxy: Any) -> None:
        deadline = getattr(self._local, "deadline", None)
        if deadline is not None:
            me = threading.get_ident()
            if me in self._fired or time.monotonic() >= deadline:
                raise DeadlineExceeded(f"no answer within {self.timeout:g} s (operation_timeout)")
            with self._wake:
                self._held[record] = (me, dbapi_connection)
        if self._ping and not record.info.pop(_FRESH, False):
            try:
                self._dialect.do_ping(dbapi_connection)
            except Exception as exc:
                if threading.get_ident() in self._fired:
                    raise DeadlineExceeded(f"no answer within {self.timeout:g} s (operation_timeout)") from exc
                raise DisconnectionError(f"stale pooled connection: {exc}") from exc  # the pool replaces it

    def _released(self, dbapi_connection: Any, record: Any, *args: Any) -> None:
        if self._held:
            with self._wake:
                self._held.pop(record, None)

    # -- the deadline -----------------------------------------------------------------

    @contextmanager
    def guard(self) -> Iterator[None]:
        """Run the block under the deadline; nested guards share the outermost one."""
        if getattr(self._local, "deadline", None) is not None:
            yield
            return
        me = threading.get_ident()
        deadline = time.monotonic() + self.timeout
        with self._wake:
            self._deadlines[me] = deadline
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._watch, args=(self._generation,), name="asyncz_like-store-deadline", daemon=True
                )
                self._thread.start()
            elif self._sleeping_until is None or deadline < self._sleeping_until:
                self._wake.notify()
        self._local.deadline = deadline
        try:
            yield
        except Exception as exc:
            if me in self._fired and not isinstance(exc, DeadlineExceeded):
                raise DeadlineExceeded(f"no answer within {self.timeout:g} s (operation_timeout)") from exc
            raise
        finally:
            self._local.deadline = None
            with self._wake:
                self._deadlines.pop(me, None)
                self._fired.discard(me)

    def _watch(self, generation: int) -> None:
        with self._wake:
            while generation == self._generation:
                now = time.monotonic()
                for thread, deadline in self._deadlines.items():
                    if deadline <= now and thread not in self._fired:
                        self._fired.add(thread)
                        for owner, connection in self._held.values():
                            if owner == thread:
                                _sever(connection)
                pending = [deadline for thread, deadline in self._deadlines.items() if thread not in self._fired]
                self._sleeping_until = min(pending) if pending else None
                self._wake.wait(None if self._sleeping_until is None else self._sleeping_until - now)

    def stop(self) -> None:
        """End the watchdog thread (a later guarded call starts a new one)."""
        with self._wake:
            thread, self._thread = self._thread, None
            self._generation += 1
            self._wake.notify_all()
        if thread is not None and thread is not threading.current_thread():
            thread.join(1)


def _sever(connection: Any) -> None:
    """Shut down a DBAPI connection's socket: a call blocked on it fails at once."""
    try:
        fd = connection.fileno()
    except Exception:  # already closed
        return
    shut_socket(fd)
