"""Operator surfaces: the ``asyncz-like`` command run as a real subprocess, the REST API
through an ASGI client, the dashboard in a real browser, all on real stores.

Each test gets its own SQLite file, or its own table on the real PostgreSQL server
(``ASYNCZ_TEST_POSTGRES_URL``; skipped without it, failed under CI).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.stores.conftest import server_url

ROOT = Path(__file__).resolve().parents[2]
#: the console script pip installed beside the interpreter running the tests
COMMAND = Path(sys.executable).with_name("asyncz-like")
CLI_KINDS = ["sqlite", "postgres"]


@dataclass
class StoreTarget:
    """A store for one test: its URL and options, as the CLI takes them."""

    kind: str
    url: str
    options: dict[str, Any] = field(default_factory=dict)

    def cli_args(self) -> list[str]:
        args = ["--store", self.url]
        for key, value in self.options.items():
            args += ["--store-option", f"{key}={value}"]
        return args

    def config(self) -> dict[str, Any]:
        """The same store as a config-file entry."""
        return {"type": "sqlalchemy", "url": self.url, **self.options}

    def drop(self) -> None:
        from sqlalchemy import MetaData, Table, create_engine

        engine = create_engine(self.url)
        try:
            Table(self.options.get("tablename", "asyncz_like_tasks"), MetaData()).drop(engine, checkfirst=True)
        finally:
            engine.dispose()


def make_target(kind: str, tmp_path: Path) -> StoreTarget:
    uid = uuid.uuid4().hex[:10]
    if kind == "sqlite":
        return StoreTarget(kind, f"sqlite:///{tmp_path / 'tasks.db'}", {"tablename": f"t_{uid}"})
    return StoreTarget(kind, server_url(kind), {"tablename": f"t_{uid}"})


@pytest.fixture(params=CLI_KINDS)
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreTarget]:
    store = make_target(request.param, tmp_path)
    yield store
    store.drop()


@pytest.fixture
def sqlite_target(tmp_path: Path) -> Iterator[StoreTarget]:
    store = make_target("sqlite", tmp_path)
    yield store
    store.drop()


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


def cli_env(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("ASYNCZ_LIKE_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.update(extra)
    return env


def run_cli(*args: str, env: dict[str, str] | None = None, stdin: str | None = None, timeout: float = 60) -> Result:
    """The installed ``asyncz-like`` command in a subprocess."""
    completed = subprocess.run(
        [str(COMMAND), *args],
        capture_output=True,
        text=True,
        env=env or cli_env(),
        cwd=ROOT,
        input=stdin,
        timeout=timeout,
        stdin=None if stdin is not None else subprocess.DEVNULL,
    )
    return Result(completed.returncode, completed.stdout, completed.stderr)


@pytest.fixture
def cli(target: StoreTarget) -> Any:
    """``cli("list", "--json")`` on this test's store."""

    def call(*args: str, **kwargs: Any) -> Result:
        return run_cli(*args, *target.cli_args(), **kwargs)

    return call
