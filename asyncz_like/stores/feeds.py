"""Change feeds: how a running scheduler hears of tasks that other processes add or move.

Each feed listens on a daemon thread and calls ``callback(next_run_time)`` — the time a task
is now due, or None for "something changed, look again" (after a reconnect, when changes
may have been missed). Announcements carry the run time as a float UTC timestamp, so a
scheduler whose plan is already earlier does nothing with them.

* PostgreSQL: ``LISTEN`` on a channel named after the table; writers ``NOTIFY`` it.
* Redis: ``SUBSCRIBE`` to ``<tasks_key>.changes``; writers ``PUBLISH`` to it.
* MongoDB: a change stream on the collection, which sees every write by itself.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import threading
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

logger = logging.getLogger("asyncz_like.stores")

Callback = Callable[[datetime | None], Any]
#: how long a listening thread blocks before it looks whether it should stop (a stop also
#: interrupts the wait where the driver allows, so this bounds a shutdown only for MongoDB)
POLL_SECONDS = 0.25
#: the pause before a feed that lost its connection tries again
RECONNECT_SECONDS = 1.0


def encode_time(when: datetime) -> str:
    return repr(when.timestamp())


def decode_time(payload: str | bytes | None) -> datetime | None:
    if payload is None:
        return None
    try:
        text = payload.decode() if isinstance(payload, bytes) else payload
        return datetime.fromtimestamp(float(text), timezone.utc)
    except (ValueError, OverflowError, OSError, UnicodeDecodeError):
        return None


class Feed:
    """A listening thread that reconnects on its own; subclasses say how to listen."""

    name = "feed"

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.callback: Callback | None = None

    def start(self, callback: Callback) -> None:
        self.callback = callback
        self._stop.clear()
        self.connect()  # the first connection fails loudly, in the caller's thread
        self._thread = threading.Thread(target=self._run, name=f"asyncz_like-{self.name}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop listening and close the connection; returns once the thread has left (a
        scheduler's shutdown waits for this, so it is quick)."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            self.interrupt()
            thread.join(POLL_SECONDS * 4)
        self.close()

    def interrupt(self) -> None:
        """Wake the listening thread from its wait (default: it notices within POLL_SECONDS)."""

    def _run(self) -> None:
        connected = True
        while not self._stop.is_set():
            try:
                if not connected:
                    self.connect()
                    connected = True
                    self.emit(None)  # changes made while we were away: look again
                self.listen_once()
            except Exception as exc:
                if self._stop.is_set():
                    return
                if connected:
                    logger.warning("%s change feed lost its connection (%s); reconnecting", self.name, exc)
                connected = False
                self.close()
                self._stop.wait(RECONNECT_SECONDS)

    def emit(self, when: datetime | None) -> None:
        callback = self.callback
        if callback is not None:
            try:
                callback(when)
            except Exception:
                logger.exception("%s change feed: the callback failed", self.name)

    # -- what each feed says -----------------------------------------------------------

    def connect(self) -> None:
        raise NotImplementedError

    def listen_once(self) -> None:
        """Block up to POLL_SECONDS for changes and emit them."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


def shut_socket(fd: int) -> None:
    """Shut a socket down under a thread blocked reading it: the read returns at once, and the
    thread, seeing the stop flag, leaves. The socket object stays its owner's to close."""
    try:
        sock = socket.socket(fileno=os.dup(fd))
    except OSError:
        return
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    finally:
        sock.close()


def postgres_channel(table_name: str) -> str:
    """A channel name unique to the table, within PostgreSQL's 63-byte identifier limit."""
    name = f"asyncz_like.{table_name}"
    if len(name.encode()) <= 63:
        return name
    return "asyncz_like." + hashlib.sha1(table_name.encode()).hexdigest()


class PostgresFeed(Feed):
    """``LISTEN`` on a dedicated psycopg (3) connection in autocommit mode."""

    name = "PostgreSQL"

    def __init__(self, conninfo: str, channel: str, connect_timeout: float = 5.0) -> None:
        super().__init__()
        self.conninfo = conninfo
        self.channel = channel
        self.connect_timeout = connect_timeout
        self._conn: Any = None

    def connect(self) -> None:
        import psycopg

        conn = psycopg.connect(self.conninfo, autocommit=True, connect_timeout=max(1, int(self.connect_timeout)))
        conn.execute(f'LISTEN "{self.channel}"')
        self._conn = conn

    def listen_once(self) -> None:
        for notify in self._conn.notifies(timeout=POLL_SECONDS):
            self.emit(decode_time(notify.payload) if notify.payload else None)
            if self._stop.is_set():
                return

    def interrupt(self) -> None:
        conn = self._conn
        if conn is not None:
            shut_socket(conn.fileno())

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:
                pass


class RedisFeed(Feed):
    """``SUBSCRIBE`` on its own connection (pub/sub takes a connection over)."""

    name = "Redis"

    def __init__(self, client: Any, channel: str) -> None:
        super().__init__()
        self.client = client
        self.channel = channel
        self._pubsub: Any = None

    def connect(self) -> None:
        pubsub = self.client.pubsub(ignore_subscribe_messages=True)
        pubsub.subscribe(self.channel)
        self._pubsub = pubsub

    def listen_once(self) -> None:
        message = self._pubsub.get_message(timeout=POLL_SECONDS)
        if message is not None and message.get("type") == "message":
            self.emit(decode_time(message.get("data")))

    def interrupt(self) -> None:
        connection = getattr(self._pubsub, "connection", None)
        sock = getattr(connection, "_sock", None)
        if sock is not None:
            shut_socket(sock.fileno())

    def close(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            try:
                pubsub.close()
            except Exception:
                pass


class MongoChangeFeed(Feed):
    """A change stream on the collection: every insert, update or replace that sets
    ``next_run_time`` reports it (claims and lease renewals do not)."""

    name = "MongoDB"

    def __init__(self, collection: Any) -> None:
        super().__init__()
        self.collection = collection
        self._stream: Any = None

    def connect(self) -> None:
        self._stream = self.collection.watch(max_await_time_ms=int(POLL_SECONDS * 1000))

    def listen_once(self) -> None:
        change = self._stream.try_next()
        while change is not None:
            when = _next_run_time_of(change)
            if when is not None:
                self.emit(when)
            if self._stop.is_set():
                return
            change = self._stream.try_next()

    def close(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.close()
            except Exception:
                pass


def _next_run_time_of(change: dict[str, Any]) -> datetime | None:
    """The run time a change makes due, if it makes one: inserts and replacements, and updates
    that write ``next_run_time`` (MongoDB lists the fields an update set). A server that sends
    the whole document instead (the nx-27017 test server) has it read from an unclaimed
    document only, so the claims and renewals every scheduler writes wake nobody."""
    operation = change.get("operationType")
    if operation in ("insert", "replace"):
        fields = change.get("fullDocument") or {}
    elif operation == "update":
        description = change.get("updateDescription")
        if description is not None:
            fields = description.get("updatedFields") or {}
        else:
            document = change.get("fullDocument") or {}
            fields = document if document.get("claimed_by") is None else {}
    else:
        return None
    value = fields.get("next_run_time")
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, timezone.utc)
    return None
