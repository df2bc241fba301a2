"""Telling a store that cannot be reached from other failures, whichever driver raised it."""

from __future__ import annotations

from asyncz_like.exceptions import StoreConnectionError

_DRIVER_MODULES = ("sqlalchemy", "redis", "pymongo", "psycopg", "pymysql")
_CONNECTION_WORDS = ("Operational", "Connection", "Timeout", "ServerSelection", "AutoReconnect", "Interface")


def is_store_unreachable(exc: BaseException) -> bool:
    """Our own StoreConnectionError, a connection or time-out error, or a database driver's
    connection-type error (SQLAlchemy's OperationalError, redis' ConnectionError, ...)."""
    if isinstance(exc, (StoreConnectionError, ConnectionError, TimeoutError)):
        return True
    for cls in type(exc).__mro__:
        if cls.__module__.split(".")[0] in _DRIVER_MODULES and any(word in cls.__name__ for word in _CONNECTION_WORDS):
            return True
    return False
