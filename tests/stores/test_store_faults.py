"""Faults on real servers: a hung server (SIGSTOP), a stopped one, a restarted one.

Every store call is bounded by the store's timeouts, fails as StoreUnavailableError (a
StoreConnectionError) naming the store's alias, the call and the URL with its password
masked, and the same store object works again once the server is back. Each test starts
its own private servers (never the shared ones, which other tests use) and always leaves
them running again; the module removes them at the end.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from asyncz_like.exceptions import StoreConnectionError, StoreUnavailableError
from asyncz_like.stores.base import mask_url
from asyncz_like.stores.mongo import MongoDBStore
from asyncz_like.stores.redis import RedisStore
from asyncz_like.stores.sqlalchemy import SQLAlchemyStore
from tests.private_servers import (  # noqa: F401 - fixtures
    PASSWORD,
    OwnMongo,
    Server,
    mongodb_server,
    postgres_server,
    redis_server,
)
from tests.stores.conftest import server_url
from tests.stores.test_store_contract import at, ids, make_task

#: the timeouts the fault tests set, and the bound they hold every call to (PostgreSQL's
#: connect timeout is whole seconds, at least 2, so a call that must reconnect takes up to 2 s)
TIMEOUT = 1.0
CONNECT_TIMEOUT = 0.5
BOUND = 3.0
#: a hung server is resumed after this long whatever happens, so a call without a timeout
#: (the code before this fix) fails its time check instead of hanging the suite
SAFETY_RESUME = 8.0


def make_store(kind: str, server: Server, operation_timeout: float) -> Any:
    timeouts = {"connect_timeout": CONNECT_TIMEOUT, "operation_timeout": operation_timeout}
    if kind == "redis":
        return RedisStore(server.url, tasks_key="faults.tasks", run_times_key="faults.runs", **timeouts)
    if kind == "postgres":
        return SQLAlchemyStore(server.url, tablename="faults", **timeouts)
    return MongoDBStore(server.url, collection="faults", **timeouts)


StoreOpener = Callable[..., Any]


@pytest.fixture(params=["redis", "postgres", "mongodb"])
def faulty(request: pytest.FixtureRequest) -> Iterator[tuple[Server, StoreOpener]]:
    """A private server and ``open_store(operation_timeout=1)``: a started store on it (alias
    'orders', one task 'before' in it). Afterwards the server runs again and the store's
    data are gone."""
    server: Server = request.getfixturevalue(f"{request.param}_server")
    made: list[Any] = []

    def open_store(operation_timeout: float = TIMEOUT) -> Any:
        store = make_store(request.param, server, operation_timeout)
        made.append(store)
        store.start(None, "orders")
        store.remove_all_tasks()
        store.add_task(make_task("before", at(10)))
        return store

    try:
        yield server, open_store
    finally:
        server.heal()
        for store in made:
            store.shutdown()
        cleaner = make_store(request.param, server, operation_timeout=10)  # patient, on a server just back
        cleaner.remove_all_tasks()
        cleaner.shutdown()


def timed(call: Callable[[], Any]) -> tuple[BaseException | None, float]:
    started = time.monotonic()
    try:
        call()
    except Exception as exc:
        return exc, time.monotonic() - started
    return None, time.monotonic() - started


def store_calls(store: Any) -> dict[str, Callable[[], Any]]:
    """One call of every store operation."""
    task = make_task("during", at(20))
    return {
        "add_task": lambda: store.add_task(task),
        "lookup_task": lambda: store.lookup_task("before"),
        "get_due_tasks": lambda: store.get_due_tasks(at(100)),
        "get_next_run_time": lambda: store.get_next_run_time(),
        "get_all_tasks": lambda: store.get_all_tasks(),
        "update_task": lambda: store.update_task(make_task("before", at(30))),
        "delete_task": lambda: store.delete_task("before"),
        "claim_due_tasks": lambda: store.claim_due_tasks(at(100), "me", 30),
        "release_tasks": lambda: store.release_tasks([task], "me"),
        "renew_claims": lambda: store.renew_claims("me", 30, at(100)),
        "remove_all_tasks": lambda: store.remove_all_tasks(),
    }


def assert_names_store_call_and_masked_url(error: BaseException | None, operation: str, server: Server) -> None:
    assert isinstance(error, StoreUnavailableError), f"{operation}: {error!r}"
    assert isinstance(error, StoreConnectionError)
    message = str(error)
    assert message.startswith(f"Store 'orders' at {mask_url(server.url)} is unavailable during {operation}: "), message
    assert PASSWORD not in message, message
    assert (error.store, error.url, error.operation) == ("orders", mask_url(server.url), operation)


def test_a_hung_server_fails_each_store_call_within_the_timeout_and_the_store_recovers(
    faulty: tuple[Server, StoreOpener],
) -> None:
    server, open_store = faulty
    store = open_store()
    server.pause()
    safety = threading.Timer(SAFETY_RESUME, server.resume)
    safety.start()
    try:
        for operation in ("add_task", "lookup_task", "claim_due_tasks"):
            error, took = timed(store_calls(store)[operation])
            assert took < BOUND, f"{operation} blocked {took:.1f} s with a {TIMEOUT:g} s timeout"
            assert_names_store_call_and_masked_url(error, operation, server)
    finally:
        safety.cancel()
        server.resume()

    error, took = timed(lambda: store.add_task(make_task("after", at(20))))
    assert error is None and took < BOUND, (error, took)  # the same store object, at once
    # a write that timed out may still have reached the server: its outcome is unknown
    assert set(ids(store.get_due_tasks(at(100)))) - {"during"} == {"before", "after"}


def test_a_stopped_server_fails_every_store_call_naming_the_store_and_the_masked_url(
    faulty: tuple[Server, StoreOpener],
) -> None:
    server, open_store = faulty
    store = open_store(operation_timeout=0.25)  # MongoDB looks for the server that long on every call
    server.stop()

    for operation, call in store_calls(store).items():
        error, took = timed(call)
        assert took < BOUND, f"{operation} took {took:.1f} s against a stopped server"
        assert_names_store_call_and_masked_url(error, operation, server)


def test_a_restarted_server_is_used_again_by_the_same_store_object(faulty: tuple[Server, StoreOpener]) -> None:
    server, open_store = faulty
    store = open_store()
    server.stop()
    error, _ = timed(lambda: store.add_task(make_task("lost", at(10))))
    assert isinstance(error, StoreUnavailableError)

    assert mask_url(server.url) != server.url or isinstance(server, OwnMongo)  # the mask was put to the test

    server.start()
    store.add_task(make_task("after", at(20)))  # no new store, no error: the dead connections are replaced
    assert store.lookup_task("after") is not None
    if not isinstance(server, OwnMongo):  # nx-27017 runs in memory: its data end with it
        assert ids(store.get_due_tasks(at(100))) == ["before", "after"]


# -- the timeouts reach the drivers (on the suite's shared servers; nothing is hung there) ----


def test_a_postgres_statement_longer_than_the_operation_timeout_is_cancelled_by_the_server() -> None:
    store = SQLAlchemyStore(server_url("postgres"), operation_timeout=1)
    try:
        with store.engine.connect() as conn:
            assert conn.execute(text("SHOW statement_timeout")).scalar() == "1s"
            started = time.monotonic()
            with pytest.raises(Exception, match="statement timeout"):
                conn.execute(text("SELECT pg_sleep(5)"))
        assert time.monotonic() - started < BOUND
    finally:
        store.shutdown()


def test_postgres_options_of_the_users_own_are_kept_beside_the_statement_timeout_or_replace_it() -> None:
    store = SQLAlchemyStore(
        server_url("postgres"), operation_timeout=2.5, connect_args={"options": "-c lock_timeout=700"}
    )
    without = SQLAlchemyStore(server_url("postgres"), connect_args={"options": None})  # e.g. behind PgBouncer
    try:
        with store.engine.connect() as conn:
            assert conn.execute(text("SHOW statement_timeout")).scalar() == "2500ms"
            assert conn.execute(text("SHOW lock_timeout")).scalar() == "700ms"
        with without.engine.connect() as conn:
            assert conn.execute(text("SHOW statement_timeout")).scalar() == "0"  # the server's default
    finally:
        store.shutdown()
        without.shutdown()


def test_a_mariadb_read_longer_than_the_operation_timeout_gives_up_on_the_client() -> None:
    store = SQLAlchemyStore(server_url("mariadb"), operation_timeout=1)
    try:
        started = time.monotonic()
        with pytest.raises(Exception, match="timed out"), store.engine.connect() as conn:
            conn.execute(text("SELECT SLEEP(5)"))
        assert time.monotonic() - started < BOUND
    finally:
        store.shutdown()


def test_the_sqlite_busy_timeout_is_the_operation_timeout(tmp_path: Path) -> None:
    store = SQLAlchemyStore(f"sqlite:///{tmp_path / 'tasks.db'}", operation_timeout=2.5)
    with store.engine.connect() as conn:
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 2500
    store.shutdown()


def test_redis_and_mongodb_clients_get_the_timeouts_unless_the_url_sets_them() -> None:
    redis = RedisStore(server_url("redis"), connect_timeout=1.5, operation_timeout=2.5)
    assert redis.redis.connection_pool.connection_kwargs["socket_connect_timeout"] == 1.5
    assert redis.redis.connection_pool.connection_kwargs["socket_timeout"] == 2.5
    own = RedisStore("redis://localhost:6379/0?socket_timeout=7")
    assert own.redis.connection_pool.connection_kwargs["socket_timeout"] == 7

    mongo = MongoDBStore(server_url("mongodb"), connect_timeout=1.5, operation_timeout=2.5)
    assert mongo.client.options.timeout == 2.5
    assert mongo.client.options.pool_options.connect_timeout == 1.5
    assert mongo.client.options.server_selection_timeout == 1.5
    legacy = MongoDBStore("mongodb://localhost:27017/?socketTimeoutMS=7000")
    assert legacy.client.options.timeout is None  # their socket timeout, not ours
    assert legacy.client.options.pool_options.socket_timeout == 7
    for store in (redis, own, mongo, legacy):
        store.shutdown()


@pytest.mark.parametrize("value", [0, -1, math.nan, math.inf, "5", True, None])
@pytest.mark.parametrize("argument", ["connect_timeout", "operation_timeout"])
@pytest.mark.parametrize(
    "make",
    [
        lambda **options: RedisStore(**options),
        lambda **options: MongoDBStore(**options),
        lambda **options: SQLAlchemyStore("sqlite://", **options),
    ],
    ids=["redis", "mongodb", "sqlalchemy"],
)
def test_a_timeout_that_is_not_a_positive_finite_number_is_refused_naming_it(
    make: Any, argument: str, value: Any
) -> None:
    with pytest.raises(ValueError, match=rf"^{argument}: expected a positive, finite number of seconds"):
        make(**{argument: value})
