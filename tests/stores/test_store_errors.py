"""Errors a user meets first: a server that cannot be reached, a bad argument, a URL
no store serves. Each names the store or the argument, and never shows a password."""

from __future__ import annotations

import socket
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from asyncz_like.exceptions import StoreConnectionError
from asyncz_like.stores.base import mask_url
from asyncz_like.stores.file import FileStore
from asyncz_like.stores.mongo import MongoDBStore
from asyncz_like.stores.redis import RedisStore
from asyncz_like.stores.sqlalchemy import SQLAlchemyStore
from asyncz_like.stores.urls import store_from_url


def closed_port() -> int:
    """A loopback port nobody listens on (bound and released again)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    ("template", "options"),
    [
        ("postgresql+psycopg://alice:s3cr3t-pw@127.0.0.1:{port}/db", {"connect_args": {"connect_timeout": 2}}),
        ("mysql+pymysql://alice:s3cr3t-pw@127.0.0.1:{port}/db", {"connect_args": {"connect_timeout": 2}}),
        ("redis://alice:s3cr3t-pw@127.0.0.1:{port}/0", {}),
        ("mongodb://alice:s3cr3t-pw@127.0.0.1:{port}/db", {"serverSelectionTimeoutMS": 500}),
    ],
    ids=["postgres", "mariadb", "redis", "mongodb"],
)
def test_an_unreachable_server_fails_start_naming_the_store_and_the_masked_url(
    template: str, options: dict[str, Any]
) -> None:
    url = template.format(port=closed_port())
    store = store_from_url(url, **options)

    with pytest.raises(StoreConnectionError) as caught:
        store.start(None, "orders")  # type: ignore[arg-type]

    message = str(caught.value)
    assert "'orders'" in message
    assert "alice:***@127.0.0.1" in message
    assert "s3cr3t-pw" not in message
    assert caught.value.store == "orders"
    store.shutdown()


def test_an_unusable_directory_fails_start_naming_the_store(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    store = FileStore(blocker / "tasks")

    with pytest.raises(StoreConnectionError, match="'files'"):
        store.start(None, "files")  # type: ignore[arg-type]


def test_mask_url_hides_only_the_password() -> None:
    assert mask_url("redis://:pw@host:1/0") == "redis://:***@host:1/0"
    assert mask_url("postgresql+psycopg://u:p%40ss@h/db?x=1") == "postgresql+psycopg://u:***@h/db?x=1"
    assert mask_url("sqlite:///tasks.db") == "sqlite:///tasks.db"


@pytest.mark.parametrize(
    ("url", "cls"),
    [
        ("sqlite:///tasks.db", SQLAlchemyStore),
        ("postgresql+psycopg://u@h/db", SQLAlchemyStore),
        ("mysql+pymysql://u@h/db", SQLAlchemyStore),
        ("redis://localhost:6379/0", RedisStore),
        ("mongodb://localhost:27017/db", MongoDBStore),
        ("file:///tmp/asyncz-tasks", FileStore),
    ],
)
def test_store_from_url_picks_the_store_by_scheme(url: str, cls: type) -> None:
    store = store_from_url(url)
    assert type(store) is cls
    store.shutdown()


def test_a_url_no_store_serves_is_refused_naming_the_scheme_without_the_password() -> None:
    with pytest.raises(ValueError, match=r"url: no store serves the scheme 'ftp'.*u:\*\*\*@"):
        store_from_url("ftp://u:pw@host/x")


def test_the_embedded_sqlite_store_is_created_from_a_url_and_keeps_tasks_in_that_file(tmp_path: Path) -> None:
    store = store_from_url(f"sqlite:///{tmp_path / 'tasks.db'}", tablename="tasks")
    store.start(None, "default")  # type: ignore[arg-type]
    assert (tmp_path / "tasks.db").exists()
    store.shutdown()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: SQLAlchemyStore(), r"database, url, engine: give exactly one"),
        (lambda: SQLAlchemyStore("not a url"), r"url: 'not a url' is not a SQLAlchemy database URL"),
        (lambda: SQLAlchemyStore("sqlite://", tablename=""), r"tablename: expected a non-empty string"),
        (lambda: RedisStore(tasks_key="k", run_times_key="k"), r"run_times_key: must differ from tasks_key"),
        (lambda: RedisStore("http://nope"), r"url: 'http://nope' is not a Redis URL"),
        (lambda: MongoDBStore(collection=""), r"collection: expected a non-empty string"),
        (lambda: FileStore(), r"directory, url: give exactly one"),
        (lambda: FileStore(url="/tmp/x"), r"url: expected 'file:///path/to/directory'"),
    ],
)
def test_bad_constructor_arguments_are_named(make: Any, message: str) -> None:
    with pytest.raises((ValueError, TypeError), match=message):
        make()


def test_sqlite_due_query_searches_the_next_run_time_index(tmp_path: Path) -> None:
    from sqlalchemy import text

    store = SQLAlchemyStore(f"sqlite:///{tmp_path / 'tasks.db'}", tablename="tasks")
    store.start(None, "default")  # type: ignore[arg-type]
    due_query = store.due_query(datetime(2026, 1, 1, tzinfo=timezone.utc))
    sql = str(due_query.compile(store.engine, compile_kwargs={"literal_binds": True}))
    with store.engine.connect() as conn:
        plan = conn.execute(text(f"EXPLAIN QUERY PLAN {sql}")).all()
    assert any("USING INDEX ix_tasks_next_run_time" in row[-1] for row in plan), plan
    store.shutdown()
