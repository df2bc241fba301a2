"""Data a store cannot use as it is, found when the store starts.

* Tasks written by asyncz (same default table, keys and collection as ours): their pickles
  name asyncz's classes, so restoring them here could only set every one aside. ``start()``
  refuses the store instead, with the command that converts it (``asyncz_like.migrate``).
* A SQL table of an older schema of ours (without the claim columns added later) would
  fail every pass; it is upgraded in place with ``ALTER TABLE ... ADD COLUMN``.

Each store's ``start()`` calls its check once, after connecting. Only a few stored states
are read (``SAMPLE``), by their pickle opcodes: nothing in them is imported or run.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from asyncz_like.exceptions import StoreFormatError
from asyncz_like.stores._asyncz import written_by_asyncz
from asyncz_like.stores.base import mask_url

#: how many stored states a start reads to recognise asyncz's
SAMPLE = 20
#: the claim columns later versions added to the SQL table
CLAIM_COLUMNS = ("claimed_by", "claim_expires", "claimed_at")


def migrate_command(store: Any) -> str:
    """The shell command that converts ``store``'s asyncz data, with its location options."""
    options = ""
    table = getattr(store, "table", None)
    if table is not None:
        options = f" --table {table.name}" + (f" --schema {table.schema}" if table.schema else "")
    elif hasattr(store, "tasks_key"):
        options = f" --tasks-key {store.tasks_key} --run-times-key {store.run_times_key}"
    elif hasattr(store, "collection"):
        options = f" --database {store.collection.database.name} --collection {store.collection.name}"
    elif hasattr(store, "suffix"):
        options = f" --suffix {store.suffix}"
    url = getattr(store, "url", "") or ""
    if hasattr(store, "directory") and not url.startswith("file://"):
        url = f"file://{os.path.abspath(store.directory)}"
    return f"python -m asyncz_like.migrate {mask_url(url)!r}{options}"


def asyncz_data_error(store: Any, where: str, asyncz_ids: list[str], checked: int) -> StoreFormatError:
    example = f", e.g. {asyncz_ids[0]!r}" if asyncz_ids else ""
    found = f"{len(asyncz_ids)} of the {checked} tasks checked{example}" if checked else "its schema"
    return StoreFormatError(
        f"Store {store.alias or type(store).__name__!r}: {where} holds tasks written by asyncz ({found}). "
        "asyncz_like cannot run them as they are. Stop the asyncz schedulers using it, then convert it once "
        f"with `{migrate_command(store)}` (or asyncz_like.migrate.migrate_asyncz_store(store)); "
        "asyncz's data is kept as a backup. See docs/migrating.md."
    )


def refuse_asyncz_states(store: Any, where: str, rows: Iterable[tuple[str, Any]]) -> None:
    """Raise StoreFormatError when any of the ``(id, state bytes)`` rows is an asyncz pickle."""
    checked = 0
    asyncz_ids: list[str] = []
    for task_id, data in rows:
        checked += 1
        if data is not None and written_by_asyncz(bytes(data)):
            asyncz_ids.append(task_id.decode() if isinstance(task_id, bytes) else str(task_id))
    if asyncz_ids:
        raise asyncz_data_error(store, where, asyncz_ids, checked)


# -- per store ----------------------------------------------------------------------------------


def prepare_sql_table(store: Any) -> None:
    """Make the store's table ready: create it if missing, refuse asyncz's, upgrade an older one
    of ours. A table that has every column of ours already costs a ``SELECT`` of no rows and the
    sample read; the rest takes the reflection path (see ``_sql_tables``)."""
    from sqlalchemy.exc import SQLAlchemyError

    from asyncz_like.stores._sql_tables import has_every_column

    if has_every_column(store.engine, store.table):
        _refuse_asyncz_rows(store)
        return
    try:
        store.table.create(store.engine, checkfirst=True)
    except SQLAlchemyError:  # another process created it between the check and the CREATE
        from sqlalchemy import inspect

        if not inspect(store.engine).has_table(store.table.name, schema=store.table.schema):
            raise
    check_sql_table(store)


def _refuse_asyncz_rows(store: Any) -> None:
    from sqlalchemy import select

    table = store.table
    query = select(table.c.id, table.c.state).order_by(table.c.id).limit(SAMPLE)
    with store.engine.connect() as conn:
        refuse_asyncz_states(store, f"the table {table.fullname!r}", conn.execute(query).all())


def check_sql_table(store: Any) -> None:
    """Refuse an asyncz table; add the claim columns an older table of ours lacks."""
    from sqlalchemy import inspect

    table = store.table
    where = f"the table {table.fullname!r}"
    columns = {column["name"]: column for column in inspect(store.engine).get_columns(table.name, schema=table.schema)}
    missing = [column for column in table.columns if column.name not in columns]
    if {"id", "state", "next_run_time"} - columns.keys():
        raise StoreFormatError(
            f"Store {store.alias!r}: {where} is not a task table (its columns: {', '.join(sorted(columns))}); "
            "choose another tablename"
        )
    if _is_integer(columns["next_run_time"]["type"]) or not set(CLAIM_COLUMNS) & columns.keys():
        raise asyncz_data_error(store, where + " (asyncz's schema: no claim columns)", [], 0)
    _refuse_asyncz_rows(store)
    if missing:
        _add_columns(store, missing)


def _is_integer(column_type: Any) -> bool:
    from sqlalchemy import Integer

    return isinstance(column_type, Integer)


def _add_columns(store: Any, missing: list[Any]) -> None:
    """Upgrade an older table of ours in place. Another scheduler starting at the same time
    may add them first: what counts is that they exist afterwards."""
    from sqlalchemy import inspect, text
    from sqlalchemy.exc import SQLAlchemyError

    engine, table = store.engine, store.table
    preparer = engine.dialect.identifier_preparer
    try:
        with engine.begin() as conn:
            for column in missing:
                kind = column.type.compile(dialect=engine.dialect)
                conn.execute(
                    text(f"ALTER TABLE {preparer.format_table(table)} ADD COLUMN {preparer.quote(column.name)} {kind}")
                )
            for index in table.indexes:
                if any(column.name in {c.name for c in missing} for column in index.columns):
                    index.create(conn, checkfirst=True)
    except SQLAlchemyError as exc:
        present = {column["name"] for column in inspect(engine).get_columns(table.name, schema=table.schema)}
        if {column.name for column in missing} - present:
            raise StoreFormatError(
                f"Store {store.alias!r}: the table {table.fullname!r} is of an older schema and could not be "
                f"upgraded (adding {', '.join(column.name for column in missing)} failed: {exc}); add the columns "
                "by hand or point the store at a new table"
            ) from exc


def check_redis_keys(store: Any) -> None:
    _, entries = store.redis.hscan(store.tasks_key, 0, count=SAMPLE)
    refuse_asyncz_states(store, f"the Redis hash {store.tasks_key!r}", list(entries.items())[:SAMPLE])


def check_mongo_collection(store: Any) -> None:
    documents = store.collection.find({}, ["state"]).limit(SAMPLE)
    refuse_asyncz_states(
        store,
        f"the collection {store.collection.full_name!r}",
        ((document["_id"], document.get("state")) for document in documents),
    )


def asyncz_task_files(store: Any) -> list[Any]:
    """asyncz's FileStore files, ``<id><suffix>``; ours are ``task-<id><suffix>``."""
    directory = store.directory
    if not directory.is_dir():
        return []
    return sorted(
        path
        for path in directory.iterdir()
        if path.is_file() and path.name.endswith(store.suffix) and not path.name.startswith("task-")
    )


def check_file_directory(store: Any) -> None:
    """asyncz's files are named ``<id><suffix>``, a name ours never has: any such file is
    refused, encrypted or not, rather than silently ignored."""
    files = asyncz_task_files(store)
    if files:
        ids = [path.name[: -len(store.suffix)] for path in files]
        raise asyncz_data_error(store, f"the directory {str(store.directory)!r}", ids, len(files))
