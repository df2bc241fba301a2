"""Reading and writing a stored task's bytes behind the store's back, as a user's
broken deployment (or a bit flip) would: for set-aside and serializer tests."""

from __future__ import annotations

from typing import Any

from bson.binary import Binary
from sqlalchemy import select, update


def raw_state(store: Any, task_id: str) -> bytes | None:
    """The bytes stored for ``task_id``, or None when the store has no such task."""
    name = type(store).__name__
    if name == "SQLAlchemyStore":
        with store.engine.connect() as conn:
            return conn.execute(select(store.table.c.state).where(store.table.c.id == task_id)).scalar()  # type: ignore[no-any-return]
    if name == "RedisStore":
        return store.redis.hget(store.tasks_key, task_id)  # type: ignore[no-any-return]
    if name == "MongoDBStore":
        document = store.collection.find_one({"_id": task_id})
        return None if document is None else bytes(document["state"])
    if name == "FileStore":
        path = store._path(task_id)
        return path.read_bytes().partition(b"\n")[2] if path.exists() else None
    raise TypeError(f"no raw access to a {name}")


def write_raw_state(store: Any, task_id: str, data: bytes) -> None:
    """Replace the bytes of an existing task, keeping its next run time."""
    name = type(store).__name__
    if name == "SQLAlchemyStore":
        with store.engine.begin() as conn:
            conn.execute(update(store.table).where(store.table.c.id == task_id).values(state=data))
    elif name == "RedisStore":
        store.redis.hset(store.tasks_key, task_id, data)
    elif name == "MongoDBStore":
        store.collection.update_one({"_id": task_id}, {"$set": {"state": Binary(data)}})
    elif name == "FileStore":
        path = store._path(task_id)
        header = path.read_bytes().partition(b"\n")[0]
        path.write_bytes(header + b"\n" + data)
    else:
        raise TypeError(f"no raw access to a {name}")
