"""Built-in stores. Each is also registered as an entry point under ``asyncz_like.stores``.

``generate_key()`` makes a key for a persistent store's ``encryption_key`` option.

The store classes are importable from here as in asyncz (``from asyncz_like.stores import
RedisStore``). They load on first use, so importing this package never needs an optional
driver (SQLAlchemy, redis, pymongo); ``BaseStore`` is the store contract.
"""

from typing import Any

from asyncz_like._lazy import load
from asyncz_like.stores._encryption import generate_key

#: name -> "module:attribute", imported on first use
_LAZY = {
    "BaseStore": "asyncz_like.abc:Store",
    "PersistentStore": "asyncz_like.stores.base:PersistentStore",
    "MemoryStore": "asyncz_like.stores.memory:MemoryStore",
    "FileStore": "asyncz_like.stores.file:FileStore",
    "SQLAlchemyStore": "asyncz_like.stores.sqlalchemy:SQLAlchemyStore",
    "RedisStore": "asyncz_like.stores.redis:RedisStore",
    "MongoDBStore": "asyncz_like.stores.mongo:MongoDBStore",
}


def __getattr__(name: str) -> Any:
    return load(__name__, _LAZY, name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


__all__ = ["generate_key"]
