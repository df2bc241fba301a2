"""Tasks stored by real asyncz 0.17.2 (``tests/fixtures/asyncz_0_17_2/tasks.json``, made by
``make_fixtures.py`` there), and writing them into a store in asyncz's own layout:

* SQL: table ``id VARCHAR(255) PRIMARY KEY, next_run_time BIGINT NULL, state BLOB`` (no
  claim columns);
* Redis: hash ``tasks_key`` (id -> state), sorted set ``run_times_key`` (id -> timestamp);
* MongoDB: documents ``{_id, next_run_time: float, state: binary}``;
* files: ``<id>.task`` holding the state.

Those layouts are asyncz's code in the API reference, and were checked against asyncz
0.17.2 writing to the same PostgreSQL, MariaDB, Redis and MongoDB-wire servers.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from bson.binary import Binary
from pymongo import MongoClient
from redis import Redis
from sqlalchemy import BigInteger, Column, LargeBinary, MetaData, String, Table, create_engine

from tests.stores.conftest import StoreFactory

FIXTURES = Path(__file__).parent.parent / "fixtures" / "asyncz_0_17_2" / "tasks.json"
DATA: dict[str, Any] = json.loads(FIXTURES.read_text())
ENCRYPTION_KEY: str = DATA["encryption_key"]
SQL_KINDS = ("sqlite", "postgres", "mariadb")


def rows(variant: str = "plain") -> list[tuple[str, float | None, bytes]]:
    """``(id, next run timestamp, state bytes)`` as asyncz stored them."""
    return [(row["id"], row["next_run_time"], base64.b64decode(row["state"])) for row in DATA[variant]]


def fire_times(task_id: str) -> list[datetime]:
    """The task's next run time and the fire times asyncz computed after it."""
    return [datetime.fromisoformat(value) for value in DATA["fire_times"].get(task_id, [])]


def stored_run_time(task_id: str) -> datetime | None:
    timestamp = {task_id: ts for task_id, ts, _ in rows()}[task_id]
    return None if timestamp is None else datetime.fromtimestamp(timestamp, timezone.utc)


def write_asyncz_layout(factory: StoreFactory, stored: list[tuple[str, float | None, bytes]]) -> None:
    """Put ``stored`` where a store of ``factory`` looks, exactly as asyncz writes it."""
    location = factory.location()
    kind = factory.kind
    if kind in SQL_KINDS:
        engine = create_engine(location["url"])
        table = Table(
            location["tablename"],
            MetaData(),
            Column("id", String(255), primary_key=True, nullable=False),
            Column("next_run_time", BigInteger(), nullable=True),
            Column("state", LargeBinary(), nullable=False),
        )
        with engine.begin() as conn:
            table.create(conn)
            for task_id, timestamp, state in stored:
                next_run_time = None if timestamp is None else int(timestamp)
                conn.execute(table.insert().values(id=task_id, next_run_time=next_run_time, state=state))
        engine.dispose()
    elif kind == "redis":
        with Redis.from_url(location["url"]) as client:
            for task_id, timestamp, state in stored:
                client.hset(location["tasks_key"], task_id, state)
                if timestamp is not None:
                    client.zadd(location["run_times_key"], {task_id: timestamp})
    elif kind == "mongodb":
        with MongoClient(location["url"]) as client:
            collection = client.get_default_database(default="asyncz")[location["collection"]]
            for task_id, timestamp, state in stored:
                collection.insert_one({"_id": task_id, "next_run_time": timestamp, "state": Binary(state)})
    elif kind == "file":
        directory = Path(location["directory"])
        directory.mkdir(parents=True, exist_ok=True)
        for task_id, _, state in stored:
            (directory / f"{task_id}.task").write_bytes(state)
    else:
        raise ValueError(kind)


def backup_states(factory: StoreFactory) -> dict[str, bytes]:
    """The states in the backup a migration made, by id."""
    location = factory.location()
    kind = factory.kind
    if kind in SQL_KINDS:
        engine = create_engine(location["url"])
        backup = Table(f"{location['tablename']}_asyncz_backup", MetaData(), autoload_with=engine)
        with engine.connect() as conn:
            found = {row.id: bytes(row.state) for row in conn.execute(backup.select())}
        engine.dispose()
        return found
    if kind == "redis":
        with Redis.from_url(location["url"]) as client:
            return {
                key.decode(): value for key, value in client.hgetall(f"{location['tasks_key']}.asyncz_backup").items()
            }
    if kind == "mongodb":
        with MongoClient(location["url"]) as client:
            backup = client.get_default_database(default="asyncz")[f"{location['collection']}_asyncz_backup"]
            return {document["_id"]: bytes(document["state"]) for document in backup.find()}
    directory = Path(location["directory"]) / "asyncz_backup"
    return {path.name[: -len(".task")]: path.read_bytes() for path in directory.iterdir()}


def drop_backup(factory: StoreFactory) -> None:
    location = factory.location()
    kind = factory.kind
    if kind in SQL_KINDS:
        engine = create_engine(location["url"])
        for name in (f"{location['tablename']}_asyncz_backup", location["tablename"]):
            Table(name, MetaData()).drop(engine, checkfirst=True)
        engine.dispose()
    elif kind == "redis":
        with Redis.from_url(location["url"]) as client:
            keys = [location["tasks_key"], location["run_times_key"]]
            client.delete(*keys, *(f"{key}.asyncz_backup" for key in keys), f"{location['tasks_key']}.claims")
    elif kind == "mongodb":
        with MongoClient(location["url"]) as client:
            database = client.get_default_database(default="asyncz")
            database.drop_collection(f"{location['collection']}_asyncz_backup")
            database.drop_collection(location["collection"])
