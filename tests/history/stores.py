"""Store fixtures for the history tests: the suite's StoreFactory (one location per test on
the real servers), plus removal of what history adds beside the tasks (tables, keys,
collections)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData, Table

from tests.stores.conftest import ALL_KINDS, PERSISTENT_KINDS, StoreFactory

SHARED_KINDS = ["sqlite", "postgres", "mariadb", "redis", "mongodb"]


def drop_history(factory: StoreFactory) -> None:
    """Remove the history and heartbeat tables / keys / collections of the factory's location."""
    if not factory.made:
        return
    store: Any = factory.made[-1]
    if factory.kind in ("sqlite", "postgres", "mariadb"):
        for suffix in ("_history", "_schedulers"):
            Table(f"{store.table.name}{suffix}", MetaData()).drop(store.engine, checkfirst=True)
    elif factory.kind == "redis":
        keys = list(store.redis.scan_iter(match=f"{store.tasks_key}.*"))
        if keys:
            store.redis.delete(*keys)
    elif factory.kind == "mongodb":
        from pymongo import MongoClient

        with MongoClient(factory.url) as client:
            database = client[store.collection.database.name]
            for suffix in ("_history", "_schedulers"):
                database.drop_collection(f"{store.collection.name}{suffix}")


def _factory(kind: str, tmp_path: Path) -> Iterator[StoreFactory]:
    factory = StoreFactory(kind, tmp_path)
    try:
        yield factory
    finally:
        try:
            drop_history(factory)
        finally:
            factory.cleanup()


@pytest.fixture(params=ALL_KINDS)
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    yield from _factory(request.param, tmp_path)


@pytest.fixture(params=PERSISTENT_KINDS)
def persistent(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    yield from _factory(request.param, tmp_path)


@pytest.fixture(params=SHARED_KINDS)
def shared(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    yield from _factory(request.param, tmp_path)
