"""Each store takes asyncz's constructor arguments (keywords, positions and defaults) beside
our URL forms, and connects where they say, on the real servers: a task added through
the store is found there by a separate client. Connection settings are never silently
ignored: a server named twice is refused, naming the arguments."""

from __future__ import annotations

import os
import pickle
import stat
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from pymongo import MongoClient
from redis import Redis
from sqlalchemy import create_engine

from asyncz_like import ManualScheduler
from asyncz_like.stores.file import FileStore
from asyncz_like.stores.mongo import MongoDBStore
from asyncz_like.stores.redis import RedisStore
from asyncz_like.stores.sqlalchemy import SQLAlchemyStore
from tests.stores import _tasks
from tests.stores._raw import raw_state
from tests.stores.conftest import server_url
from tests.stores.test_store_contract import at, ids, make_task

#: a client reached through a ``"module:attribute"`` reference, as asyncz's ``client=`` allows
SHARED_MONGO_CLIENT: MongoClient | None = None


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


def round_trip(store: Any, task_id: str = "a") -> None:
    """Start the store, add a task, find it again; leaves it stored for the caller to check."""
    store.start(None, "default")
    store.add_task(make_task(task_id, at(10)))
    assert ids(store.get_due_tasks(at(10))) == [task_id]
    assert store.lookup_task(task_id).next_run_time == at(10)


# -- Redis: RedisStore(database=0, tasks_key=..., run_times_key=..., pickle_protocol=..., **Redis kwargs)


@pytest.fixture
def redis_server() -> Iterator[tuple[str, int, str]]:
    """Host, port and a unique key prefix on the real Redis; the prefix's keys in every
    database used here are removed afterwards."""
    parts = urlsplit(server_url("redis"))
    assert parts.hostname is not None and parts.port is not None
    prefix = unique("ctor")
    yield parts.hostname, parts.port, prefix
    for db in (0, 3, 5):
        with Redis(host=parts.hostname, port=parts.port, db=db) as client:
            keys = list(client.scan_iter(f"{prefix}*"))
            if keys:
                client.delete(*keys)


def test_redis_database_host_and_port_keywords_connect_to_that_server_and_database(
    redis_server: tuple[str, int, str],
) -> None:
    host, port, prefix = redis_server
    store = RedisStore(database=5, host=host, port=port, tasks_key=f"{prefix}.tasks", run_times_key=f"{prefix}.runs")
    round_trip(store)

    with Redis(host=host, port=port, db=5) as five, Redis(host=host, port=port, db=0) as zero:
        assert five.hexists(f"{prefix}.tasks", "a")
        assert not zero.exists(f"{prefix}.tasks")
    assert store.url == f"redis://{host}:{port}/5"
    store.shutdown()


def test_redis_host_and_port_without_a_database_use_database_0_on_that_server(
    redis_server: tuple[str, int, str],
) -> None:
    host, port, prefix = redis_server
    store = RedisStore(host=host, port=port, tasks_key=f"{prefix}.tasks", run_times_key=f"{prefix}.runs")
    round_trip(store)

    with Redis(host=host, port=port, db=0) as zero:
        assert zero.hexists(f"{prefix}.tasks", "a")
    store.shutdown()


def test_redis_positional_arguments_are_asynczs_database_keys_and_pickle_protocol(
    redis_server: tuple[str, int, str],
) -> None:
    host, port, prefix = redis_server
    store = RedisStore(3, f"{prefix}.tasks", f"{prefix}.runs", 2, host=host, port=port)
    round_trip(store)

    with Redis(host=host, port=port, db=3) as three:
        state = three.hget(f"{prefix}.tasks", "a")
    assert isinstance(state, bytes) and state[:2] == b"\x80\x02"  # pickle protocol 2
    assert (store.tasks_key, store.run_times_key) == (f"{prefix}.tasks", f"{prefix}.runs")
    store.shutdown()


def test_redis_url_form_still_works_beside_the_keywords(redis_server: tuple[str, int, str]) -> None:
    host, port, prefix = redis_server
    store = RedisStore(f"redis://{host}:{port}/3", tasks_key=f"{prefix}.tasks", run_times_key=f"{prefix}.runs")
    round_trip(store)
    with Redis(host=host, port=port, db=3) as three:
        assert three.hexists(f"{prefix}.tasks", "a")
    store.shutdown()


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"host": "elsewhere"}, "host"),
        ({"port": 6380}, "port"),
        ({"database": 2}, "database"),
        ({"password": "pw"}, "password"),
    ],
)
def test_redis_a_server_named_by_the_url_and_by_keywords_is_refused_naming_them(
    options: dict[str, Any], named: str
) -> None:
    with pytest.raises(ValueError, match=rf"^{named}: the url 'redis://localhost:6379/0' names the server"):
        RedisStore("redis://localhost:6379/0", **options)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: RedisStore(database="zero"), r"^database: expected a Redis database number"),
        (lambda: RedisStore(database=-1), r"^database: expected a Redis database number"),
        (lambda: RedisStore(1, database=2), r"^database: given twice"),
        (lambda: RedisStore(database=1, db=2), r"^database, db: give the database number once"),
        (lambda: RedisStore(pickle_protocol=99), r"^protocol: expected an int from 0"),
        (lambda: RedisStore(serializer="json", pickle_protocol=2), r"^pickle_protocol: only applies"),
    ],
)
def test_redis_bad_reference_arguments_are_named(make: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()


# -- MongoDB: MongoDBStore(database="asyncz", collection="tasks", client=None, pickle_protocol=..., **kwargs)


@pytest.fixture
def mongo_names() -> Iterator[tuple[str, str, str]]:
    """The server URL and a unique database and collection, dropped afterwards."""
    url = server_url("mongodb")
    database, collection = unique("ctor"), unique("c")
    yield url, database, collection
    with MongoClient(url) as client:
        client.drop_database(database)


def stored_ids(url: str, database: str, collection: str) -> list[str]:
    with MongoClient(url) as client:
        return [document["_id"] for document in client[database][collection].find({}, ["_id"])]


def test_mongodb_host_url_database_and_collection_keywords_connect_there(
    mongo_names: tuple[str, str, str],
) -> None:
    url, database, collection = mongo_names
    store = MongoDBStore(host=url, database=database, collection=collection)
    round_trip(store)

    assert stored_ids(url, database, collection) == ["a"]
    store.shutdown()


def test_mongodb_positional_database_and_collection_with_host_and_port_keywords(
    mongo_names: tuple[str, str, str],
) -> None:
    url, database, collection = mongo_names
    parts = urlsplit(url)
    store = MongoDBStore(database, collection, host=parts.hostname, port=parts.port, directConnection=True)
    round_trip(store)

    assert stored_ids(url, database, collection) == ["a"]
    assert store.url == f"mongodb://{parts.hostname}:{parts.port}"
    store.shutdown()


def test_mongodb_client_keyword_takes_a_client_or_a_reference_to_one(mongo_names: tuple[str, str, str]) -> None:
    global SHARED_MONGO_CLIENT
    url, database, collection = mongo_names
    with MongoClient(url) as client:
        by_object = MongoDBStore(database=database, collection=collection, client=client)
        round_trip(by_object, "by-object")
        SHARED_MONGO_CLIENT = client
        try:
            by_reference = MongoDBStore(
                database=database, collection=collection, client=f"{__name__}:SHARED_MONGO_CLIENT"
            )
            assert by_reference.client is client
            assert ids(by_reference.get_all_tasks()) == ["by-object"]
        finally:
            SHARED_MONGO_CLIENT = None
        by_object.shutdown()  # a client passed in is the caller's: still open
        assert client.admin.command("ping")["ok"]


def test_mongodb_pickle_protocol_is_asynczs_fourth_argument(mongo_names: tuple[str, str, str]) -> None:
    url, database, collection = mongo_names
    with MongoClient(url) as client:
        store = MongoDBStore(database, collection, client, 2)
        round_trip(store)
        assert (raw_state(store, "a") or b"")[:2] == b"\x80\x02"


def test_the_mongo_alias_makes_a_mongodb_store_from_asynczs_keywords(mongo_names: tuple[str, str, str]) -> None:
    url, database, collection = mongo_names
    scheduler = ManualScheduler(timezone="UTC")
    scheduler.add_store("mongo", "default", host=url, database=database, collection=collection)
    scheduler.start()
    try:
        scheduler.add_task(_tasks.noop, "date", run_at=at(3600), id="via-alias")
        assert type(scheduler.lookup_store("default")) is MongoDBStore
        assert stored_ids(url, database, collection) == ["via-alias"]
    finally:
        scheduler.shutdown()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: MongoDBStore("mongodb://localhost:27017", host="localhost"), r"^host, url: both name the server"),
        (lambda: MongoDBStore("db1", database="db2"), r"^database: given twice"),
        (lambda: MongoDBStore(database=""), r"^database: expected a non-empty string"),
        (lambda: MongoDBStore(client=MongoClient(connect=False), host="h"), r"^client: give either a client"),
    ],
)
def test_mongodb_a_server_or_database_named_twice_is_refused(make: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()


# -- SQLAlchemy: SQLAlchemyStore(database, tablename="asyncz_store", pickle_protocol=..., **create_engine kwargs)


@pytest.fixture(params=["sqlite", "postgres", "mariadb"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'tasks.db'}"
    return server_url(request.param)


def test_sqlalchemy_positional_url_tablename_and_pickle_protocol(database_url: str) -> None:
    tablename = unique("t")
    store = SQLAlchemyStore(database_url, tablename, 2)
    try:
        round_trip(store)
        assert store.table.name == tablename
        assert (raw_state(store, "a") or b"")[:2] == b"\x80\x02"
    finally:
        store.table.drop(store.engine, checkfirst=True)
        store.shutdown()


def test_sqlalchemy_engine_as_database_with_create_engine_options_left_to_its_owner(database_url: str) -> None:
    engine = create_engine(database_url)
    store = SQLAlchemyStore(engine, tablename=unique("t"))
    try:
        round_trip(store)
        assert store.engine is engine
    finally:
        store.table.drop(store.engine, checkfirst=True)
        store.shutdown()
        engine.dispose()


# -- File: FileStore(directory, suffix=".task", mode=0o700, cleanup_directory=False, pickle_protocol=...)


def test_file_store_takes_asynczs_suffix_mode_cleanup_and_pickle_protocol(tmp_path: Path) -> None:
    directory = tmp_path / "tasks"
    store = FileStore(directory, ".job", 0o750, True, 2)
    round_trip(store)

    (task_file,) = directory.iterdir()
    assert task_file.name.endswith(".job")
    assert stat.S_IMODE(os.stat(directory).st_mode) == 0o750 & ~_umask()
    assert pickle.loads(raw_state(store, "a") or b"")["id"] == "a"
    assert (raw_state(store, "a") or b"")[:2] == b"\x80\x02"
    store.shutdown()
    assert not directory.exists()  # cleanup_directory


def test_file_store_keeps_its_directory_by_default(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "tasks")
    round_trip(store)
    store.shutdown()
    assert [path.suffix for path in (tmp_path / "tasks").iterdir()] == [".task"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"suffix": ""}, r"^suffix: expected a non-empty string"),
        ({"suffix": "a/b"}, r"^suffix: expected a non-empty string"),
        ({"mode": "rwx"}, r"^mode: expected permission bits"),
    ],
)
def test_file_store_bad_reference_arguments_are_named(tmp_path: Path, options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        FileStore(tmp_path, **options)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
