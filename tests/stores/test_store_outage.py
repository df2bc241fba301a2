"""A server that goes away while the scheduler runs: the store call raises (the scheduler
logs it and retries at the next wakeup), and once the server is back nothing is lost.
Also: the suite refuses to skip server tests silently under CI."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from asyncz_like.exceptions import StoreUnavailableError
from asyncz_like.stores.redis import RedisStore
from asyncz_like.stores.sqlalchemy import SQLAlchemyStore
from tests.stores.conftest import server_url
from tests.stores.test_store_contract import at, ids, make_task

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class OwnRedis:
    """A private redis-server with an append-only file, so it can be stopped and restarted."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory)]
        command += ["--appendonly", "yes", "--appendfsync", "always", "--save", ""]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(5)
            self.process = None


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    if shutil.which("redis-server") is None:
        server_url("redis")  # skips, or fails under CI
        pytest.skip("redis-server is not installed")
    server = OwnRedis(tmp_path)
    server.start()
    yield server
    server.stop()


def test_redis_going_away_makes_calls_raise_and_loses_nothing_once_it_is_back(own_redis: OwnRedis) -> None:
    store = RedisStore(f"redis://127.0.0.1:{own_redis.port}/0", socket_timeout=2)
    store.start(None, "default")  # type: ignore[arg-type]
    store.add_task(make_task("a", at(10)))
    store.add_task(make_task("b", at(20)))

    own_redis.stop()
    with pytest.raises(StoreUnavailableError):
        store.get_due_tasks(at(100))
    with pytest.raises(StoreUnavailableError):
        store.update_task(make_task("a", at(30)))

    own_redis.start()
    assert ids(store.get_due_tasks(at(100))) == ["a", "b"]
    assert store.lookup_task("a").next_run_time == at(10)  # the failed update changed nothing
    store.shutdown()


def test_postgres_connections_killed_under_the_store_are_replaced_transparently() -> None:
    url = server_url("postgres")
    store = SQLAlchemyStore(url, tablename="outage_test")
    store.start(None, "default")  # type: ignore[arg-type]
    try:
        store.remove_all_tasks()
        store.add_task(make_task("a", at(10)))
        with store.engine.connect() as conn:  # warm the pool, then kill every other backend
            conn.execute(text("SELECT 1"))
        killer = SQLAlchemyStore(url).engine
        with killer.begin() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
        killer.dispose()

        assert ids(store.get_due_tasks(at(10) + timedelta(seconds=1))) == ["a"]
    finally:
        store.table.drop(store.engine, checkfirst=True)
        store.shutdown()


def _run_one_server_test(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    test = "tests/stores/test_store_contract.py::test_delete_removes_the_task[redis]"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs", test],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_without_a_server_its_tests_skip_locally_but_fail_under_ci() -> None:
    env = {key: value for key, value in os.environ.items() if key != "ASYNCZ_TEST_REDIS_URL"}
    env.pop("CI", None)
    local = _run_one_server_test(env)
    assert local.returncode == 0 and "1 skipped" in local.stdout, local.stdout
    assert "ASYNCZ_TEST_REDIS_URL is not set" in local.stdout

    under_ci = _run_one_server_test({**env, "CI": "true"})
    assert under_ci.returncode != 0, under_ci.stdout
    assert "CI=true but ASYNCZ_TEST_REDIS_URL is not set" in under_ci.stdout
