"""Every store the contract suite runs against, each talking to a real server.

Servers come from ``scripts/servers.sh`` (``ASYNCZ_TEST_*_URL``). Without one, its tests
are skipped with the reason, unless ``CI=true``: there a missing server fails the run.
Each test gets its own table / keys / collection / directory and removes them after.
"""

from __future__ import annotations

import importlib.util
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from asyncz_like.abc import Store

SERVER_ENV = {
    "postgres": "ASYNCZ_TEST_POSTGRES_URL",
    "mariadb": "ASYNCZ_TEST_MYSQL_URL",
    "redis": "ASYNCZ_TEST_REDIS_URL",
    "mongodb": "ASYNCZ_TEST_MONGODB_URL",
}
PERSISTENT_KINDS = ["file", "sqlite", "postgres", "mariadb", "redis", "mongodb"]
HAS_MEMORY = importlib.util.find_spec("asyncz_like.stores.memory") is not None
ALL_KINDS = (["memory"] if HAS_MEMORY else []) + PERSISTENT_KINDS


def server_url(kind: str) -> str:
    """The URL of the real server for ``kind``; skip without it (fail under CI)."""
    env = SERVER_ENV[kind]
    url = os.environ.get(env)
    if url:
        return url
    reason = f"{env} is not set: start the servers with `source scripts/servers.sh; servers_start`"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but {reason}", pytrace=False)
    pytest.skip(reason)


class StoreFactory:
    """Makes stores of one kind on one per-test location; the same location each call,
    so a second store (another key, another serializer) sees the first one's data."""

    def __init__(self, kind: str, tmp_path: Path) -> None:
        self.kind = kind
        self.tmp_path = tmp_path
        self.uid = uuid.uuid4().hex[:12]
        self.url = server_url(kind) if kind in SERVER_ENV else None
        self.made: list[Store] = []

    def location(self) -> dict[str, Any]:
        """Constructor options that point a store at this test's own location."""
        kind, uid = self.kind, self.uid
        if kind == "file":
            return {"directory": str(self.tmp_path / "tasks")}
        if kind == "sqlite":
            return {"url": f"sqlite:///{self.tmp_path / 'tasks.db'}", "tablename": f"t_{uid}"}
        if kind in ("postgres", "mariadb"):
            return {"url": self.url, "tablename": f"t_{uid}"}
        if kind == "redis":
            return {"url": self.url, "tasks_key": f"test.{uid}.tasks", "run_times_key": f"test.{uid}.run_times"}
        if kind == "mongodb":
            return {"url": self.url, "collection": f"c_{uid}"}
        return {}

    def cls(self) -> type[Store]:
        if self.kind == "memory":
            from asyncz_like.stores.memory import MemoryStore

            return MemoryStore
        if self.kind == "file":
            from asyncz_like.stores.file import FileStore

            return FileStore
        if self.kind in ("sqlite", "postgres", "mariadb"):
            from asyncz_like.stores.sqlalchemy import SQLAlchemyStore

            return SQLAlchemyStore
        if self.kind == "redis":
            from asyncz_like.stores.redis import RedisStore

            return RedisStore
        from asyncz_like.stores.mongo import MongoDBStore

        return MongoDBStore

    def __call__(self, start: bool = True, **options: Any) -> Any:
        store = self.cls()(**{**self.location(), **options})
        self.made.append(store)
        if start:
            store.start(None, "default")  # type: ignore[arg-type]
        return store

    def cleanup(self) -> None:
        if self.made:
            store: Any = self.made[-1]  # tests may shut earlier ones down
            if self.kind in ("sqlite", "postgres", "mariadb"):
                store.table.drop(store.engine, checkfirst=True)
            elif self.kind == "redis":  # the claim and priority keys too, not only the task keys
                store.redis.delete(*store._keys)
            elif self.kind == "mongodb":  # a fresh client: the store's may be closed already
                from pymongo import MongoClient

                with MongoClient(self.url) as client:
                    client[store.collection.database.name].drop_collection(store.collection.name)
        for store in self.made:
            store.shutdown()


@pytest.fixture(params=ALL_KINDS)
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    """A factory of stores of every kind, the in-memory one included."""
    factory = StoreFactory(request.param, tmp_path)
    yield factory
    factory.cleanup()


@pytest.fixture(params=PERSISTENT_KINDS)
def make_persistent_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    """A factory of stores that keep tasks outside the process."""
    factory = StoreFactory(request.param, tmp_path)
    yield factory
    factory.cleanup()


@pytest.fixture
def store(make_store: StoreFactory) -> Store:
    return make_store()  # type: ignore[no-any-return]


@pytest.fixture
def persistent_store(make_persistent_store: StoreFactory) -> Any:
    return make_persistent_store()


StoreMaker = Callable[..., Any]
