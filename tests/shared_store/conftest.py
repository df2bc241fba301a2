"""Shared-store fixtures: a fresh table / key prefix / collection per test on the real servers."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.stores.conftest import server_url

SHARED_KINDS = ["sqlite", "postgres", "mariadb", "redis", "mongodb"]


def store_config(kind: str, tmp_path: Path) -> dict[str, Any]:
    uid = uuid.uuid4().hex[:10]
    if kind == "sqlite":
        return {"type": "sqlalchemy", "url": f"sqlite:///{tmp_path / 'shared.db'}", "tablename": f"t_{uid}"}
    if kind in ("postgres", "mariadb"):
        return {"type": "sqlalchemy", "url": server_url(kind), "tablename": f"t_{uid}"}
    if kind == "redis":
        return {
            "type": "redis",
            "url": server_url(kind),
            "tasks_key": f"shared.{uid}.tasks",
            "run_times_key": f"shared.{uid}.run_times",
        }
    return {"type": "mongodb", "url": server_url(kind), "collection": f"c_{uid}"}


@pytest.fixture(params=SHARED_KINDS)
def shared_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """Store settings (JSON-safe, for the worker processes) on a fresh location."""
    yield store_config(request.param, tmp_path)


@pytest.fixture
def record_path(tmp_path: Path) -> Path:
    path = tmp_path / "record.txt"
    path.touch()
    return path
