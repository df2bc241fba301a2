"""Existing data: a store asyncz wrote is refused at start() until it is converted, the
conversion maps asyncz's pickled classes onto ours on every store (real servers), and an
older SQL table of ours is upgraded in place."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Column, Double, LargeBinary, MetaData, String, Table, create_engine, inspect, select

from asyncz_like import ManualScheduler, Task
from asyncz_like.exceptions import StoreFormatError
from asyncz_like.migrate import MigrationError, migrate_asyncz_store
from asyncz_like.stores._asyncz import Defaults, asyncz_decryptor, read_asyncz_task
from asyncz_like.triggers.interval import IntervalTrigger
from tests.compat import asyncz_jobs
from tests.compat.asyncz_data import (
    ENCRYPTION_KEY,
    SQL_KINDS,
    backup_states,
    drop_backup,
    fire_times,
    rows,
    stored_run_time,
    write_asyncz_layout,
)
from tests.core.clock import FakeClock
from tests.stores.conftest import PERSISTENT_KINDS, StoreFactory

BERLIN = ZoneInfo("Europe/Berlin")
UTC = timezone.utc
IDS = sorted(task_id for task_id, _, _ in rows())


@pytest.fixture(params=PERSISTENT_KINDS)
def factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    made = StoreFactory(request.param, tmp_path)
    yield made
    made.cleanup()
    drop_backup(made)


@pytest.fixture(params=SQL_KINDS)
def sql_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    made = StoreFactory(request.param, tmp_path)
    yield made
    made.cleanup()
    drop_backup(made)


# -- reading asyncz's pickles, without asyncz ---------------------------------------------------


@pytest.mark.parametrize("task_id", IDS)
def test_converted_triggers_fire_when_asyncz_fired_them(task_id: str) -> None:
    """asyncz 0.17.2 itself recorded each task's next fire times; ours match them."""
    state = {key: data for key, _, data in rows()}[task_id]
    task = read_asyncz_task(task_id, state, Defaults(BERLIN))
    expected = fire_times(task_id)
    assert task.next_run_time == stored_run_time(task_id)
    times, current = [], task.next_run_time
    while current is not None and len(times) < len(expected):
        times.append(current)
        current = task.trigger.get_next_trigger_time(BERLIN, current, current)  # type: ignore[union-attr]
    assert times == expected


def test_every_option_of_an_asyncz_task_survives_conversion() -> None:
    state = {key: data for key, _, data in rows()}["interval"]
    task = read_asyncz_task("interval", state, Defaults(BERLIN))
    assert (task.name, task.args, task.kwargs) == ("every five", (1,), {"a": 2})
    assert (task.coalesce, task.max_instances, task.mistrigger_grace_time) == (False, 3, 30.0)
    assert (task.fn_reference, task.executor) == ("tests.compat.asyncz_jobs:tick", "default")
    assert isinstance(task.trigger, IntervalTrigger) and task.trigger.interval == timedelta(minutes=5)


def test_encrypted_asyncz_states_convert_with_asyncz_key() -> None:
    decryptor = asyncz_decryptor(ENCRYPTION_KEY)
    converted = {
        task_id: read_asyncz_task(task_id, data, Defaults(BERLIN), decryptor) for task_id, _, data in rows("encrypted")
    }
    assert sorted(converted) == IDS
    assert converted["cron"].next_run_time == stored_run_time("cron")


# -- refused at start until converted --------------------------------------------------------


def test_a_store_holding_asyncz_tasks_refuses_to_start_saying_how_to_convert(factory: StoreFactory) -> None:
    write_asyncz_layout(factory, rows())
    with pytest.raises(StoreFormatError, match="written by asyncz") as caught:
        factory()
    message = str(caught.value)
    assert "python -m asyncz_like.migrate" in message and "docs/migrating.md" in message
    location = factory.location()
    name = location.get("tablename") or location.get("tasks_key") or location.get("collection")
    if name is not None:
        assert name in message  # the command names the same table / keys / collection


def test_a_scheduler_on_an_asyncz_store_refuses_to_start(factory: StoreFactory) -> None:
    write_asyncz_layout(factory, rows())
    scheduler = ManualScheduler(timezone="Europe/Berlin")
    scheduler.add_store(factory(start=False), "legacy")
    with pytest.raises(StoreFormatError, match=r"asyncz_like\.migrate"):
        scheduler.start()


# -- converted by the migration ---------------------------------------------------------------


def test_migration_converts_every_asyncz_task_and_keeps_a_backup(factory: StoreFactory) -> None:
    stored = rows()
    write_asyncz_layout(factory, stored)
    report = migrate_asyncz_store(factory(start=False), timezone="Europe/Berlin")
    assert sorted(report.converted) == IDS and not report.unconvertible
    assert report.backup and "asyncz_backup" in report.backup

    store = factory()  # starts: nothing of asyncz's is left in it
    tasks = {task.id: task for task in store.get_all_tasks()}
    assert sorted(tasks) == IDS
    assert store.get_set_aside_tasks() == []
    for task_id, task in tasks.items():
        assert task.next_run_time == stored_run_time(task_id)
        assert task.fn is asyncz_jobs.tick or task.fn is asyncz_jobs.async_tick
    assert backup_states(factory) == {task_id: state for task_id, _, state in stored}


def test_converted_tasks_run_on_the_store(factory: StoreFactory) -> None:
    write_asyncz_layout(factory, rows())
    migrate_asyncz_store(factory(start=False), timezone="Europe/Berlin")
    asyncz_jobs.calls.clear()
    first = datetime(2030, 1, 1, tzinfo=BERLIN)
    scheduler = ManualScheduler(timezone="Europe/Berlin", clock=FakeClock(first))
    scheduler.add_store(factory(start=False), "db")
    scheduler.start()
    scheduler.process_tasks()
    assert (((1,), {"a": 2})) in asyncz_jobs.calls  # the "interval" task, with its arguments
    task = scheduler.get_task("interval", "db")
    assert task is not None and task.next_run_time == first + timedelta(minutes=5)
    scheduler.shutdown()


def test_migration_reads_encrypted_asyncz_stores_with_asyncz_key(factory: StoreFactory) -> None:
    write_asyncz_layout(factory, rows("encrypted"))
    if factory.kind in (*SQL_KINDS, "file"):  # recognised by the schema / file names, encrypted or not
        with pytest.raises(StoreFormatError, match="written by asyncz"):
            factory()
    report = migrate_asyncz_store(factory(start=False), timezone="Europe/Berlin", asyncz_encryption_key=ENCRYPTION_KEY)
    assert sorted(report.converted) == IDS
    assert sorted(task.id for task in factory().get_all_tasks()) == IDS  # type: ignore[type-var]


def test_a_task_that_cannot_be_converted_changes_nothing_unless_skipped(factory: StoreFactory) -> None:
    stored = rows()
    # an asyncz trigger class this version has no conversion for (same length: the pickle stays valid)
    broken = [
        (task_id, ts, state.replace(b"asyncz.triggers.date", b"asyncz.triggers.datf") if task_id == "date" else state)
        for task_id, ts, state in stored
    ]
    write_asyncz_layout(factory, broken)
    with pytest.raises(MigrationError, match=r"(?s)date.*no conversion for the trigger asyncz\.triggers\.datf"):
        migrate_asyncz_store(factory(start=False), timezone="Europe/Berlin")
    with pytest.raises(StoreFormatError):  # still asyncz's, untouched
        factory()
    report = migrate_asyncz_store(factory(start=False), timezone="Europe/Berlin", skip_unconvertible=True)
    assert list(report.unconvertible) == ["date"] and "date" not in report.converted
    assert sorted(task.id for task in factory().get_all_tasks()) == [i for i in IDS if i != "date"]  # type: ignore[type-var]
    assert "date" in backup_states(factory)


def test_a_dry_run_changes_nothing(factory: StoreFactory) -> None:
    write_asyncz_layout(factory, rows())
    report = migrate_asyncz_store(factory(start=False), timezone="Europe/Berlin", dry_run=True)
    assert report.dry_run and sorted(report.converted) == IDS
    with pytest.raises(StoreFormatError):
        factory()


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
def test_only_asyncz_tasks_are_converted_where_ours_share_the_store(kind: str, tmp_path: Path) -> None:
    """asyncz and asyncz_like pointed at the same table or keys: ours stay as they are."""
    factory = StoreFactory(kind, tmp_path)
    try:
        ours = factory()
        mine = Task("tests.compat.asyncz_jobs:tick", id="ours", trigger=IntervalTrigger(minutes=1, timezone="UTC"))
        mine.next_run_time = datetime(2031, 1, 1, tzinfo=UTC)
        mine.pending = False
        ours.add_task(mine)
        asyncz_rows = [row for row in rows() if row[0] in ("cron", "date")]
        if kind == "sqlite":  # asyncz inserts id, next_run_time and state into whatever table it is given
            with ours.engine.begin() as conn:
                for task_id, ts, state in asyncz_rows:
                    conn.execute(ours.table.insert().values(id=task_id, next_run_time=ts, state=state))
        else:
            write_asyncz_layout(factory, asyncz_rows)
        with pytest.raises(StoreFormatError, match="written by asyncz"):
            factory()
        report = migrate_asyncz_store(factory(start=False), timezone="Europe/Berlin")
        assert sorted(report.converted) == ["cron", "date"]
        tasks = {task.id: task for task in factory().get_all_tasks()}
        assert sorted(tasks) == ["cron", "date", "ours"]  # type: ignore[type-var]
        assert tasks["ours"].next_run_time == datetime(2031, 1, 1, tzinfo=UTC)
    finally:
        factory.cleanup()
        drop_backup(factory)


def test_the_command_line_converts_a_store(tmp_path: Path) -> None:
    factory = StoreFactory("sqlite", tmp_path)
    write_asyncz_layout(factory, rows())
    location = factory.location()
    command = [sys.executable, "-m", "asyncz_like.migrate", location["url"], "--table", location["tablename"]]
    dry = subprocess.run([*command, "--dry-run"], capture_output=True, text=True, check=True)
    assert "would convert 9 asyncz task(s)" in dry.stdout
    done = subprocess.run([*command, "--timezone", "Europe/Berlin"], capture_output=True, text=True, check=True)
    assert "converted 9 asyncz task(s)" in done.stdout and "asyncz_backup" in done.stdout
    again = subprocess.run(command, capture_output=True, text=True, check=True)
    assert "no asyncz tasks found" in again.stdout
    assert sorted(task.id for task in factory().get_all_tasks()) == IDS  # type: ignore[type-var]
    factory.cleanup()


def test_the_command_line_reports_what_cannot_be_converted(tmp_path: Path) -> None:
    factory = StoreFactory("sqlite", tmp_path)
    broken = [(i, ts, s.replace(b"asyncz.triggers.date", b"asyncz.triggers.datf")) for i, ts, s in rows()]
    write_asyncz_layout(factory, broken)
    location = factory.location()
    result = subprocess.run(
        [sys.executable, "-m", "asyncz_like.migrate", location["url"], "--table", location["tablename"]],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1 and "nothing was changed" in result.stderr and "date" in result.stderr


# -- our own older SQL schema -----------------------------------------------------------------


def test_an_older_table_of_ours_is_upgraded_in_place(sql_factory: StoreFactory) -> None:
    """Before claims had ``claimed_at`` (and an index on ``claimed_by``): the store adds them."""
    location = sql_factory.location()
    engine = create_engine(location["url"])
    current = sql_factory(start=False)
    older = Table(
        location["tablename"],
        MetaData(),
        Column("id", current.table.c.id.type, primary_key=True),
        Column("next_run_time", Double(), index=True, nullable=True),
        Column("state", current.table.c.state.type, nullable=False),
        Column("claimed_by", String(191), nullable=True),
        Column("claim_expires", Double(), nullable=True),
    )
    task = Task("tests.compat.asyncz_jobs:tick", id="kept", trigger=IntervalTrigger(minutes=1, timezone="UTC"))
    due = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    task.next_run_time, task.pending = due, False
    with engine.begin() as conn:
        older.create(conn)
        conn.execute(older.insert().values(id="kept", next_run_time=due.timestamp(), state=current.encode_task(task)))
    store = sql_factory()  # upgrades instead of failing every pass
    columns = {column["name"] for column in inspect(engine).get_columns(location["tablename"])}
    assert {"claimed_by", "claim_expires", "claimed_at"} <= columns
    claimed = store.claim_due_tasks(due, owner="me", lease_seconds=30)
    assert [claimed_task.id for claimed_task in claimed] == ["kept"]
    with engine.connect() as conn:
        assert conn.execute(select(store.table.c.claimed_by)).scalar() == "me"
    engine.dispose()


def test_a_table_that_is_not_a_task_table_is_refused_clearly(tmp_path: Path) -> None:
    factory = StoreFactory("sqlite", tmp_path)
    location = factory.location()
    engine = create_engine(location["url"])
    Table(
        location["tablename"], MetaData(), Column("name", String(20), primary_key=True), Column("data", LargeBinary())
    ).create(engine)
    with pytest.raises(StoreFormatError, match="not a task table"):
        factory()
    engine.dispose()
    factory.cleanup()


def test_encrypted_asyncz_task_files_are_refused_too(tmp_path: Path) -> None:
    factory = StoreFactory("file", tmp_path)
    write_asyncz_layout(factory, rows("encrypted"))
    with pytest.raises(StoreFormatError, match="written by asyncz"):
        factory()
    factory.cleanup()


@pytest.mark.parametrize("kind", ["redis", "mongodb"])
def test_encrypted_asyncz_tasks_in_redis_and_mongodb_are_set_aside_never_deleted_until_converted(
    kind: str, tmp_path: Path
) -> None:
    """Encrypted, asyncz's bytes cannot be told from damaged ones at start (SQL tables and task
    files are recognised by their schema and names); each task is set aside, kept, and
    converts with asyncz's key."""
    factory = StoreFactory(kind, tmp_path)
    try:
        write_asyncz_layout(factory, rows("encrypted"))
        store = factory()
        assert store.get_all_tasks() == []
        assert sorted(aside.task_id for aside in store.get_set_aside_tasks()) == IDS
        store.shutdown()
        report = migrate_asyncz_store(
            factory(start=False), timezone="Europe/Berlin", asyncz_encryption_key=ENCRYPTION_KEY
        )
        assert sorted(report.converted) == IDS
        assert sorted(task.id for task in factory().get_all_tasks()) == IDS  # type: ignore[type-var]
    finally:
        factory.cleanup()
        drop_backup(factory)


def test_converted_tasks_are_written_with_the_stores_serializer_and_key(tmp_path: Path) -> None:
    from asyncz_like.stores import generate_key
    from asyncz_like.stores._encryption import FERNET_PREFIX
    from tests.stores._raw import raw_state

    factory = StoreFactory("sqlite", tmp_path)
    write_asyncz_layout(factory, rows())
    key = generate_key()
    migrate_asyncz_store(factory(start=False, serializer="json", encryption_key=key), timezone="Europe/Berlin")
    store = factory(serializer="json", encryption_key=key)
    assert sorted(task.id for task in store.get_all_tasks()) == IDS  # type: ignore[type-var]
    assert bytes(raw_state(store, "interval"))[: len(FERNET_PREFIX)] == FERNET_PREFIX  # type: ignore[arg-type]
    factory.cleanup()
    drop_backup(factory)


def test_a_current_table_opens_without_reading_the_schema_catalog(sql_factory: StoreFactory) -> None:
    """Reflection costs every starting scheduler tens of ms of CPU: a table that already has our
    columns is opened with plain selects, never with catalog queries or DDL."""
    from sqlalchemy import event

    sql_factory(start=True).shutdown()  # the first start creates the tables
    store = sql_factory(start=False)
    statements: list[str] = []
    event.listen(store.engine, "before_cursor_execute", lambda conn, cur, sql, *rest: statements.append(sql))
    store.start(None, "default")
    catalog = ("information_schema", "pg_catalog", "pg_class", "sqlite_master", "pragma", "describe", "show ")
    catalog += ("create ",)
    assert statements, "the store read nothing at start"
    assert [sql for sql in statements if any(word in sql.lower() for word in catalog)] == []
    store.shutdown()
