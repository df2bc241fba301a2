"""Real engines for the executor plugin tests: a Celery worker process on the test Redis
server, and a Dask LocalCluster with worker processes. Each is started once per session,
by the tests themselves, and always stopped.

The plugin distributions are installed by ``scripts/test.sh``; without them these tests are
skipped (under ``CI=true`` that fails the run instead).
"""

from __future__ import annotations

import importlib.util
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.stores.conftest import server_url

ROOT = Path(__file__).resolve().parents[2]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "celery: runs runs on a real Celery worker (tests/plugins)")
    config.addinivalue_line("markers", "dask: runs runs on a real Dask LocalCluster (tests/plugins)")


def require_plugin(module: str) -> None:
    if importlib.util.find_spec(module) is not None:
        return
    reason = f"{module} is not installed: pip install -e plugins/{module.rsplit('_', 1)[-1]} (scripts/test.sh does)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but {reason}", pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    """A loopback port nothing listens on (for 'the engine is down' tests)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop_process(process: subprocess.Popen[Any], grace: float = 10.0) -> None:
    """Stop a process and everything it started (its own session): politely, then not."""
    if process.poll() is None:
        process.terminate()  # a warm shutdown: a Celery worker stops its own pool
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(process.pid, signal.SIGKILL)  # leftover pool children too
    except ProcessLookupError:
        pass
    process.wait(5)


# -- Celery ------------------------------------------------------------------------


class CeleryEngine:
    """Settings shared by the test process, the worker and the scheduler processes."""

    def __init__(self, url: str, prefix: str, log: Path) -> None:
        self.url = url
        self.prefix = prefix
        self.log = log
        self.apps: list[Any] = []

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "ASYNCZ_TEST_CELERY_URL": self.url,
            "ASYNCZ_TEST_CELERY_PREFIX": self.prefix,
            "PYTHONPATH": str(ROOT),
        }

    def app(self) -> Any:
        from tests.plugins.celery_app import make_app

        app = make_app(self.url, self.prefix)
        self.apps.append(app)
        return app

    def start_worker(self, name: str, pool: str, concurrency: int, queue: str = "celery") -> subprocess.Popen[bytes]:
        """A worker process; returns once it answers a ping."""
        hostname = f"{name}@{socket.gethostname()}"
        command = [sys.executable, "-m", "celery", "-A", "tests.plugins.celery_app", "worker"]
        command += [f"--pool={pool}", f"--concurrency={concurrency}", "-n", hostname, "-Q", queue]
        command += ["--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "warning"]
        with self.log.open("ab") as log:
            process = subprocess.Popen(
                command, cwd=ROOT, env=self.env(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        app = self.app()
        deadline = time.monotonic() + 60
        while not app.control.ping(destination=[hostname], timeout=0.5):
            if process.poll() is not None or time.monotonic() > deadline:
                stop_process(process)
                pytest.fail(f"the Celery worker did not start:\n{self.log.read_text()[-3000:]}")
        return process

    def close(self) -> None:
        for app in self.apps:
            app.close()
        import redis

        client = redis.Redis.from_url(self.url)
        keys = list(client.scan_iter(match=f"{self.prefix}*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()


@pytest.fixture(scope="session")
def celery_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CeleryEngine]:
    require_plugin("asyncz_like_celery")
    from tests.plugins.celery_app import celery_url

    url = celery_url(server_url("redis"))
    log = tmp_path_factory.mktemp("celery") / "worker.log"
    engine = CeleryEngine(url, f"asyncz-test-{uuid.uuid4().hex[:8]}:", log)
    try:
        yield engine
    finally:
        engine.close()


@pytest.fixture(scope="session")
def celery_worker(celery_engine: CeleryEngine) -> Iterator[subprocess.Popen[bytes]]:
    """One worker process, a prefork pool of 2, on the default queue."""
    process = celery_engine.start_worker("asyncz-test", pool="prefork", concurrency=2)
    try:
        yield process
    finally:
        stop_process(process)


# -- Dask --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def dask_cluster() -> Iterator[Any]:
    """A LocalCluster of 2 worker processes (one thread each), behind nannies that restart
    a worker that dies."""
    require_plugin("asyncz_like_dask")
    from distributed import LocalCluster

    # the spawned workers import tests.plugins.jobs; set only while the cluster starts them, so
    # that no later test's subprocess (a fresh venv checking an installed wheel) sees it
    had = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = str(ROOT) if had is None else had
    try:
        cluster = LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.CRITICAL,
        )
    finally:
        if had is None:
            del os.environ["PYTHONPATH"]
    try:
        yield cluster
    finally:
        cluster.close()
