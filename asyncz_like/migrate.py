"""Convert a store written by asyncz into ours, once: ``python -m asyncz_like.migrate URL``.

asyncz and asyncz_like use the same default table (``asyncz_store``), Redis keys
(``asyncz.tasks`` / ``asyncz.run_times``) and MongoDB collection (``asyncz.tasks``), but
asyncz's stored tasks are pickles of asyncz's own classes. A store holding them refuses to
start (see ``asyncz_like.stores._legacy``) until this converts them:

1. every asyncz task is read without asyncz (its classes are mapped onto ours) and turned
   into our Task, with the same id, function reference, arguments, options, trigger and
   next run time; nothing is written if any task cannot be (unless ``skip_unconvertible``);
2. asyncz's data is copied to a backup next to it (``<table>_asyncz_backup``, the keys
   ``<key>.asyncz_backup``, the collection ``<collection>_asyncz_backup``, the directory
   ``asyncz_backup/``) and removed from the store;
3. the converted tasks are added through the store itself, in our format (with the
   store's serializer and encryption key).

Stop every asyncz scheduler using the store first. asyncz's encryption key, if it had one,
comes from ``asyncz_encryption_key`` or the ``ASYNCZ_STORE_ENCRYPTION_KEY`` variable.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any

from asyncz_like._time import local_timezone, to_timezone
from asyncz_like.exceptions import AsynczException
from asyncz_like.stores._asyncz import (
    ASYNCZ_KEY_ENV,
    AsynczFormatError,
    Defaults,
    asyncz_decryptor,
    load_asyncz_state,
    read_asyncz_task,
    written_by_asyncz,
)
from asyncz_like.stores._legacy import CLAIM_COLUMNS, asyncz_task_files
from asyncz_like.tasks.task import Task

BACKUP = "asyncz_backup"


class MigrationError(AsynczException, RuntimeError):
    """The store was left as it was: some tasks cannot be converted, or a backup exists already."""


@dataclass
class MigrationReport:
    """What a migration did (or, with ``dry_run``, would do)."""

    store: str
    converted: list[str] = field(default_factory=list)
    unconvertible: dict[str, str] = field(default_factory=dict)
    backup: str | None = None
    dry_run: bool = False

    def __str__(self) -> str:
        if not self.converted and not self.unconvertible:
            return f"{self.store}: no asyncz tasks found; nothing to do"
        verb = "would convert" if self.dry_run else "converted"
        lines = [f"{self.store}: {verb} {len(self.converted)} asyncz task(s)"]
        if self.backup:
            lines.append(f"asyncz's data is kept in {self.backup}")
        lines += [f"not converted: {task_id}: {reason}" for task_id, reason in sorted(self.unconvertible.items())]
        return "\n".join(lines)


# -- where asyncz's rows are, per store ---------------------------------------------------------


class _Source:
    """asyncz's rows in one store: read them, then move them to a backup."""

    def __init__(self, store: Any) -> None:
        self.store = store

    def describe(self) -> str:
        raise NotImplementedError

    def rows(self, decryptor: Any) -> list[tuple[str, bytes]]:
        """``(id, stored bytes)`` of every task asyncz wrote."""
        raise NotImplementedError

    def move_to_backup(self, ids: list[str]) -> str:
        """Copy those rows to the backup, remove them from the store; returns where they went."""
        raise NotImplementedError


def _is_asyncz(data: bytes, decryptor: Any) -> bool:
    if written_by_asyncz(data):
        return True
    if decryptor is None:
        return False
    try:
        load_asyncz_state(data, decryptor)
    except AsynczFormatError:
        return False
    return True


class _SQLSource(_Source):
    def __init__(self, store: Any) -> None:
        super().__init__(store)
        from sqlalchemy import MetaData, Table, inspect

        table = store.table
        self.backup_name = f"{table.name}_{BACKUP}"
        inspector = inspect(store.engine)
        self.exists = inspector.has_table(table.name, schema=table.schema)
        self.backup_exists = inspector.has_table(self.backup_name, schema=table.schema)
        self.existing = (
            Table(table.name, MetaData(), autoload_with=store.engine, schema=table.schema) if self.exists else None
        )
        # asyncz's schema has no claim columns: then every row is asyncz's, encrypted or not
        self.asyncz_table = self.existing is not None and not set(CLAIM_COLUMNS) & set(self.existing.c.keys())

    def describe(self) -> str:
        return f"table {self.store.table.fullname!r} at {self.store.url}"

    def rows(self, decryptor: Any) -> list[tuple[str, bytes]]:
        if self.existing is None:
            return []
        from sqlalchemy import select

        with self.store.engine.connect() as conn:
            rows = conn.execute(select(self.existing.c.id, self.existing.c.state).order_by(self.existing.c.id)).all()
        return [(row[0], bytes(row[1])) for row in rows if self.asyncz_table or _is_asyncz(bytes(row[1]), decryptor)]

    def move_to_backup(self, ids: list[str]) -> str:
        from sqlalchemy import Column, MetaData, Table, delete, insert, select

        assert self.existing is not None
        if self.backup_exists:
            raise MigrationError(f"the backup table {self.backup_name!r} exists from an earlier run; drop it first")
        original = self.existing
        backup = Table(  # asyncz's columns and types; fresh (unnamed) constraints
            self.backup_name,
            MetaData(),
            *(Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable) for c in original.columns),
            schema=original.schema,
        )
        with self.store.engine.begin() as conn:  # one transaction where the database allows DDL in one
            backup.create(conn)
            chosen = select(*original.columns).where(original.c.id.in_(ids))
            conn.execute(insert(backup).from_select(list(original.c.keys()), chosen))
            if self.asyncz_table:
                original.drop(conn)  # the store creates its own table when it starts
            else:
                conn.execute(delete(original).where(original.c.id.in_(ids)))
        return f"the table {backup.fullname!r}"


class _RedisSource(_Source):
    def describe(self) -> str:
        return f"Redis hash {self.store.tasks_key!r} at {self.store.url}"

    def rows(self, decryptor: Any) -> list[tuple[str, bytes]]:
        entries = self.store.redis.hgetall(self.store.tasks_key)
        return sorted(
            (task_id.decode(), bytes(data)) for task_id, data in entries.items() if _is_asyncz(bytes(data), decryptor)
        )

    def move_to_backup(self, ids: list[str]) -> str:
        redis, tasks_key, run_times_key = self.store.redis, self.store.tasks_key, self.store.run_times_key
        backup_tasks, backup_times = f"{tasks_key}.{BACKUP}", f"{run_times_key}.{BACKUP}"
        if redis.exists(backup_tasks, backup_times):
            raise MigrationError(f"the backup keys {backup_tasks!r} / {backup_times!r} exist; delete them first")
        states = redis.hmget(tasks_key, ids)
        scores = [redis.zscore(run_times_key, task_id) for task_id in ids]
        pipe = redis.pipeline(transaction=True)
        pipe.hset(backup_tasks, mapping=dict(zip(ids, states, strict=True)))
        timed = {task_id: score for task_id, score in zip(ids, scores, strict=True) if score is not None}
        if timed:
            pipe.zadd(backup_times, timed)
        pipe.hdel(tasks_key, *ids)
        pipe.zrem(run_times_key, *ids)
        pipe.execute()
        return f"the Redis keys {backup_tasks!r} and {backup_times!r}"


class _MongoSource(_Source):
    def describe(self) -> str:
        return f"collection {self.store.collection.full_name!r} at {self.store.url}"

    def rows(self, decryptor: Any) -> list[tuple[str, bytes]]:
        documents = self.store.collection.find({}, ["state"]).sort("_id", 1)
        return [
            (document["_id"], bytes(document["state"]))
            for document in documents
            if document.get("state") is not None and _is_asyncz(bytes(document["state"]), decryptor)
        ]

    def move_to_backup(self, ids: list[str]) -> str:
        collection = self.store.collection
        backup = collection.database[f"{collection.name}_{BACKUP}"]
        if backup.estimated_document_count():
            raise MigrationError(f"the backup collection {backup.full_name!r} is not empty; drop it first")
        backup.insert_many(list(collection.find({"_id": {"$in": ids}})))
        collection.delete_many({"_id": {"$in": ids}})
        return f"the collection {backup.full_name!r}"


class _FileSource(_Source):
    def describe(self) -> str:
        return f"directory {str(self.store.directory)!r}"

    def rows(self, decryptor: Any) -> list[tuple[str, bytes]]:
        rows = [(path.name[: -len(self.store.suffix)], path.read_bytes()) for path in asyncz_task_files(self.store)]
        return [(task_id, data) for task_id, data in rows if _is_asyncz(data, decryptor)]

    def move_to_backup(self, ids: list[str]) -> str:
        backup = self.store.directory / BACKUP
        if backup.exists() and any(backup.iterdir()):
            raise MigrationError(f"the backup directory {str(backup)!r} is not empty; empty it first")
        backup.mkdir(mode=0o700, exist_ok=True)
        for task_id in ids:
            name = f"{task_id}{self.store.suffix}"
            os.replace(self.store.directory / name, backup / name)
        return f"the directory {str(backup)!r}"


def _source(store: Any) -> _Source:
    kind = type(store).__name__
    if kind == "SQLAlchemyStore":
        return _SQLSource(store)
    if kind == "RedisStore":
        return _RedisSource(store)
    if kind == "MongoDBStore":
        return _MongoSource(store)
    if kind == "FileStore":
        return _FileSource(store)
    raise TypeError(f"store: asyncz data can be converted in a SQL, Redis, MongoDB or file store, not a {kind}")


# -- the migration ------------------------------------------------------------------------------


def migrate_asyncz_store(
    store: Any,
    *,
    timezone: str | tzinfo | None = None,
    asyncz_encryption_key: str | None = None,
    skip_unconvertible: bool = False,
    dry_run: bool = False,
) -> MigrationReport:
    """Convert the asyncz tasks in ``store`` (a store of ours, made with the options the
    application uses, not started) into ours. ``timezone`` is the asyncz scheduler's zone,
    which asyncz triggers made without one ran in (default: this machine's). Raises
    MigrationError, changing nothing, when a task cannot be converted, unless
    ``skip_unconvertible`` (those stay in the backup and are listed in the report)."""
    zone = to_timezone(timezone) or local_timezone()
    decryptor = asyncz_decryptor(asyncz_encryption_key or os.environ.get(ASYNCZ_KEY_ENV))
    source = _source(store)
    report = MigrationReport(store=source.describe(), dry_run=dry_run)
    rows = source.rows(decryptor)
    tasks: list[Task] = []
    for task_id, data in rows:
        try:
            tasks.append(read_asyncz_task(task_id, data, Defaults(zone), decryptor))
        except (AsynczFormatError, ImportError) as exc:
            report.unconvertible[task_id] = str(exc)
    report.converted = [task.id for task in tasks if task.id is not None]
    if report.unconvertible and not skip_unconvertible:
        raise MigrationError(f"nothing was changed; these tasks cannot be converted:\n{report}")
    if dry_run or not rows:
        return report
    report.backup = source.move_to_backup([task_id for task_id, _ in rows])
    store.start(None, "migrate")  # creates our table / indexes; the store now holds no asyncz data
    try:
        for task in tasks:
            store.add_task(task)
    finally:
        store.shutdown()
    return report


# -- command line -------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m asyncz_like.migrate",
        description="Convert the tasks asyncz stored (SQL table, Redis keys, MongoDB collection, file directory) "
        "into asyncz_like's format, keeping asyncz's data as a backup. Stop the asyncz schedulers first.",
    )
    parser.add_argument("url", help="the store's URL: sqlite:///..., postgresql+psycopg://..., redis://..., ...")
    parser.add_argument("--table", help="SQL table (default asyncz_store)")
    parser.add_argument("--schema", help="SQL schema")
    parser.add_argument("--tasks-key", help="Redis hash of tasks (default asyncz.tasks)")
    parser.add_argument("--run-times-key", help="Redis sorted set of run times (default asyncz.run_times)")
    parser.add_argument("--database", help="MongoDB database (default: the URL's, else asyncz)")
    parser.add_argument("--collection", help="MongoDB collection (default tasks)")
    parser.add_argument("--suffix", help="file store: task file suffix (default .task)")
    parser.add_argument("--timezone", help="the asyncz scheduler's time zone (default: this machine's)")
    parser.add_argument(
        "--asyncz-encryption-key-env",
        metavar="VAR",
        help=f"variable holding asyncz's encryption key (default {ASYNCZ_KEY_ENV})",
    )
    parser.add_argument(
        "--encryption-key-env", metavar="VAR", help="variable holding the key to encrypt the converted tasks with"
    )
    parser.add_argument("--serializer", choices=["pickle", "json"], help="how to store the converted tasks")
    parser.add_argument("--skip-unconvertible", action="store_true", help="convert the rest; leave those in the backup")
    parser.add_argument("--dry-run", action="store_true", help="only read and convert; change nothing")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from asyncz_like.stores.urls import store_from_url

    args = _parser().parse_args(argv)
    options = {
        "tablename": args.table,
        "schema": args.schema,
        "tasks_key": args.tasks_key,
        "run_times_key": args.run_times_key,
        "database": args.database,
        "collection": args.collection,
        "suffix": args.suffix,
        "serializer": args.serializer,
        "encryption_key_env": args.encryption_key_env,
    }
    key = os.environ.get(args.asyncz_encryption_key_env or ASYNCZ_KEY_ENV)
    try:
        store = store_from_url(args.url, **{name: value for name, value in options.items() if value is not None})
        report = migrate_asyncz_store(
            store,
            timezone=args.timezone,
            asyncz_encryption_key=key,
            skip_unconvertible=args.skip_unconvertible,
            dry_run=args.dry_run,
        )
    except (MigrationError, ValueError, TypeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
