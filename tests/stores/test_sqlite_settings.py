"""The embedded SQLite store is set up for several processes and fast commits."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from asyncz_like.stores.sqlalchemy import SQLAlchemyStore


def test_a_sqlite_file_uses_wal_with_normal_sync(tmp_path: Path) -> None:
    store = SQLAlchemyStore(url=f"sqlite:///{tmp_path / 'tasks.db'}")
    store.start(None, "default")  # type: ignore[arg-type]
    try:
        with store.engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL
            assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 10000
    finally:
        store.shutdown()


def test_an_in_memory_sqlite_database_is_left_as_it_is() -> None:
    store = SQLAlchemyStore(url="sqlite://")
    store.start(None, "default")  # type: ignore[arg-type]
    try:
        with store.engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "memory"
    finally:
        store.shutdown()
