"""asyncz programs run unchanged after renaming the import.

Each program in ``asyncz_programs/`` is written against the asyncz API reference with
asyncz's own imports. The test renames ``asyncz`` to ``asyncz_like`` in its import
statements, nothing else, and runs it in a fresh interpreter, as a user would after the
rename. The programs cover the scheduler, every trigger, every executor, every store (on
the real servers), events, the lifespan wrapper and ``NativeAsyncIOScheduler``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.stores.conftest import server_url

PROGRAMS = Path(__file__).parent / "asyncz_programs"
ROOT = Path(__file__).parent.parent.parent
_IMPORT = re.compile(r"^(\s*(?:from|import)\s+)asyncz\b", re.MULTILINE)


def renamed(source: str) -> str:
    """The program with ``from asyncz...`` / ``import asyncz...`` renamed, and nothing else."""
    return _IMPORT.sub(r"\1asyncz_like", source)


def run_program(name: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    source = (PROGRAMS / f"{name}.py").read_text()
    assert "asyncz_like" not in source, "programs are written with asyncz's imports"
    program = tmp_path / f"{name}.py"
    program.write_text(renamed(source))
    environment = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    return subprocess.run(
        [sys.executable, str(program)], capture_output=True, text=True, timeout=90, cwd=ROOT, env=environment
    )


def assert_ran(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0 and result.stdout.strip().endswith("OK"), result.stdout + result.stderr


def test_the_rename_touches_only_imports() -> None:
    source = "from asyncz.triggers import CronTrigger\nimport asyncz.events\nkey = 'asyncz.tasks'\n"
    assert (
        renamed(source)
        == "from asyncz_like.triggers import CronTrigger\nimport asyncz_like.events\nkey = 'asyncz.tasks'\n"
    )


@pytest.mark.parametrize(
    "name", ["scheduler_basics", "every_trigger", "task_api", "events", "lifespan", "native_scheduler", "executors"]
)
def test_an_asyncz_program_runs_after_renaming_the_import(name: str, tmp_path: Path) -> None:
    assert_ran(run_program(name, tmp_path))


def test_an_asyncz_global_config_runs_after_renaming_the_import(tmp_path: Path) -> None:
    assert_ran(run_program("global_config", tmp_path))


# -- every store, on the real servers --------------------------------------------------------


STORES = [
    ("memory", None),
    ("file", None),
    ("sqlalchemy", None),  # SQLite
    ("sqlalchemy", "postgres"),
    ("sqlalchemy", "mariadb"),
    ("redis", "redis"),
    ("mongo", "mongodb"),
]


@pytest.fixture
def unique_name() -> Iterator[str]:
    yield f"compat_{uuid.uuid4().hex[:10]}"


def _cleanup(store: str, server: str | None, url: str, name: str) -> None:
    if store == "sqlalchemy":
        from sqlalchemy import MetaData, Table, create_engine

        engine = create_engine(url)
        Table(name, MetaData()).drop(engine, checkfirst=True)
        engine.dispose()
    elif store == "redis":
        from redis import Redis

        with Redis.from_url(url) as client:
            client.delete(
                *(f"{name}.{suffix}" for suffix in ("tasks", "run_times", "tasks.claims", "tasks.claims.owners"))
            )
    elif store == "mongo":
        from pymongo import MongoClient

        with MongoClient(url) as client:
            client["asyncz_test"].drop_collection(name)


@pytest.mark.parametrize("form", ["instance", "alias"])
@pytest.mark.parametrize(("store", "server"), STORES, ids=[server or store for store, server in STORES])
def test_an_asyncz_program_runs_on_every_store(
    store: str, server: str | None, form: str, tmp_path: Path, unique_name: str
) -> None:
    url = server_url(server) if server else (f"sqlite:///{tmp_path / 'tasks.db'}" if store == "sqlalchemy" else "")
    name = str(tmp_path / "tasks") if store == "file" else unique_name
    try:
        assert_ran(run_program("stores", tmp_path, STORE=store, STORE_URL=url, STORE_NAME=name, STORE_FORM=form))
    finally:
        _cleanup(store, server, url, name)
