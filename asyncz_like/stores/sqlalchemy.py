"""Tasks in a SQL table through SQLAlchemy: SQLite (the embedded default), PostgreSQL, MariaDB/MySQL.

One row per task: ``id``, ``next_run_time`` as a float UTC timestamp (NULL while paused,
indexed, so the due query reads only due rows), and ``state`` (serialized, optionally
encrypted). ``claimed_by`` / ``claim_expires`` are reserved for schedulers that share
the table (a lease with owner and expiry); they stay NULL until claims use them.
"""

from __future__ import annotations

import math
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from asyncz_like._extras import extra_needed

with extra_needed("the sqlalchemy store"):  # a missing driver fails here, naming the extra to install
    import sqlalchemy  # noqa: F401  (the check: the names are imported below)

from sqlalchemy import (
    Column,
    Double,
    Engine,
    LargeBinary,
    MetaData,
    Select,
    String,
    Table,
    and_,
    bindparam,
    case,
    create_engine,
    delete,
    event,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.mysql import LONGBLOB, VARCHAR
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DisconnectionError,
    IntegrityError,
    InterfaceError,
    NoSuchModuleError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from asyncz_like._gil import in_slices, sharing_gil
from asyncz_like.abc import Serializer
from asyncz_like.exceptions import ConflictIdError, TaskLookupError
from asyncz_like.history.sql import SQLHistory
from asyncz_like.stores._deadline import DeadlineExceeded, Watchdog
from asyncz_like.stores._legacy import prepare_sql_table
from asyncz_like.stores.base import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_OPERATION_TIMEOUT,
    PersistentStore,
    check_claim,
    check_name,
    check_timeout,
    from_timestamp,
    mask_url,
    to_timestamp,
)
from asyncz_like.tasks.task import Task

#: MariaDB/MySQL can index at most 767 bytes of a utf8mb4 key: 191 characters
ID_LENGTH = 191
#: how many due rows one claim reads at most; the rest wait for the next pass. A server's
#: batch is smaller: binding and reading 500 rows holds the GIL long enough to delay the event
#: loop by several ms (bench/bench_store_lag.py, PostgreSQL p99: ~5.5 ms at 500, ~3.9 at 200),
#: while a SQLite file gains from fewer write transactions (fire 1k: ~3,300/s at 200, ~4,500 at 500)
CLAIM_BATCH_SQLITE = 500
CLAIM_BATCH_SERVER = 200
#: rows per executemany when releasing: small enough that binding them holds the GIL ~1 ms
RELEASE_CHUNK = 50
UNCLAIMED: dict[str, Any] = {"claimed_by": None, "claim_expires": None, "claimed_at": None}
_MYSQL_ID = VARCHAR(ID_LENGTH, charset="utf8mb4", collation="utf8mb4_bin")


def _sqlite_wal(connection: Any, record: Any) -> None:
    """WAL journal with synchronous=NORMAL: a commit no longer waits for fsync (the database
    stays consistent and survives a crash of the process; a power cut may lose the last
    commits), readers no longer block the writer, and several processes share the file.
    (The busy timeout, how long a writer waits for another, is the store's operation_timeout.)"""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _timeout_args(url: URL, connect_timeout: float, operation_timeout: float, given: dict[str, Any]) -> dict[str, Any]:
    """``connect_args`` that make the DBAPI driver honour the store's timeouts. An option
    already set in the URL's query or in ``given`` (the user's ``connect_args``) wins."""
    backend, driver = url.get_backend_name(), url.get_driver_name()
    ours: dict[str, Any] = {}
    if backend == "postgresql" and driver in ("psycopg", "psycopg2"):
        ours["connect_timeout"] = max(1, math.ceil(connect_timeout))  # libpq: whole seconds, at least 2
        statement = f"-c statement_timeout={math.ceil(operation_timeout * 1000)}"
        if "options" in given and given["options"] is None:
            pass  # options=None: no startup options at all (a pooler such as PgBouncer may refuse them)
        elif (options := given.get("options", url.query.get("options"))) is None:
            ours["options"] = statement
        elif "statement_timeout" not in str(options):
            given = {**given, "options": f"{options} {statement}"}
    elif backend in ("mysql", "mariadb") and driver in ("pymysql", "mysqldb"):
        whole = driver == "mysqldb"  # mysqlclient takes whole seconds
        ours["connect_timeout"] = math.ceil(connect_timeout) if whole else connect_timeout
        ours["read_timeout"] = ours["write_timeout"] = math.ceil(operation_timeout) if whole else operation_timeout
    elif backend == "sqlite":
        ours["timeout"] = operation_timeout  # the busy timeout: how long to wait for another writer
    ours = {name: value for name, value in ours.items() if name not in url.query}
    return {**ours, **given}


class SQLAlchemyStore(SQLHistory, PersistentStore):
    """``database``: a SQLAlchemy URL (``sqlite:///tasks.db``, ``postgresql+psycopg://...``,
    ``mysql+pymysql://...``) or an Engine; ``url=`` is the same as a URL ``database``, and
    ``engine=`` as an Engine. Extra keyword arguments go to ``create_engine``.

    Timeouts (seconds) for an engine made here: ``connect_timeout`` to connect,
    ``operation_timeout`` for one store call (PostgreSQL: ``statement_timeout`` on the
    server plus a client-side deadline; MariaDB/MySQL: read and write timeouts; SQLite: the
    busy timeout). A driver option set in the URL or in ``connect_args`` wins. An Engine
    passed in keeps its own settings (PostgreSQL calls still get the client-side deadline)."""

    unavailable_errors = (OperationalError, InterfaceError, DisconnectionError, PoolTimeoutError, DeadlineExceeded)

    def __init__(
        self,
        database: str | Engine | None = None,
        tablename: str = "asyncz_store",
        pickle_protocol: int | None = None,
        *,
        url: str | None = None,
        engine: Engine | None = None,
        schema: str | None = None,
        serializer: Serializer | str | None = None,
        encryption_key: str | bytes | None = None,
        encryption_key_env: str | None = None,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        operation_timeout: float = DEFAULT_OPERATION_TIMEOUT,
        **engine_options: Any,
    ) -> None:
        super().__init__(serializer, encryption_key, encryption_key_env, pickle_protocol)
        self.connect_timeout = check_timeout(connect_timeout, "connect_timeout")
        self.operation_timeout = check_timeout(operation_timeout, "operation_timeout")
        given = [value for value in (database, url, engine) if value is not None]
        if len(given) != 1:
            raise ValueError("database, url, engine: give exactly one of them (a URL string or an Engine)")
        target = given[0]
        self._owns_engine = not isinstance(target, Engine)
        ping = engine_options.pop("pool_pre_ping", None)  # None: pinged at checkout, the default
        if isinstance(target, Engine):
            self.engine = target  # with its own pool_pre_ping setting
        elif isinstance(target, str):
            try:
                parsed = make_url(target)
            except ArgumentError as exc:
                raise ValueError(f"url: {mask_url(target)!r} is not a SQLAlchemy database URL") from exc
            self.engine = self._make_engine(parsed, ping, engine_options)
        else:
            raise TypeError(f"database: expected a URL string or an Engine, got {type(target).__name__}")
        self._watchdog: Watchdog | None = None
        if self.engine.dialect.name == "postgresql" and self.engine.dialect.driver in ("psycopg", "psycopg2"):
            self._watchdog = Watchdog(self.operation_timeout)  # libpq has no read timeout: bound calls here
            self._watchdog.attach(self.engine, ping=self._owns_engine and ping is not False)
        self.url = self.engine.url.render_as_string(hide_password=False)
        self._is_sqlite = self.engine.dialect.name == "sqlite"
        self.claim_batch = CLAIM_BATCH_SQLITE if self._is_sqlite else CLAIM_BATCH_SERVER
        metadata = MetaData()
        self.table = Table(
            check_name(tablename, "tablename"),
            metadata,
            # ids are case-sensitive everywhere: MariaDB/MySQL need a binary collation for that
            Column("id", String(ID_LENGTH).with_variant(_MYSQL_ID, "mysql", "mariadb"), primary_key=True),
            Column("next_run_time", Double(), index=True, nullable=True),
            Column("state", LargeBinary().with_variant(LONGBLOB(), "mysql", "mariadb"), nullable=False),
            Column("claimed_by", String(ID_LENGTH), nullable=True, index=True),
            Column("claim_expires", Double(), nullable=True),
            Column("claimed_at", Double(), nullable=True),
            schema=schema,
        )

        self._insert = insert(self.table)
        self._release_update = (
            update(self.table)
            .where(self.table.c.id == bindparam("b_id"))
            .values(next_run_time=bindparam("b_next"), state=bindparam("b_state"), **UNCLAIMED)
        )
        # a change made while a run is in flight ends its claim: the run's release then leaves
        # the change alone instead of writing the schedule it had back over it
        self._update = update(self.table).where(self.table.c.id == bindparam("task_id")).values(**UNCLAIMED)

    def _make_engine(self, url: URL, ping: bool | None, options: dict[str, Any]) -> Engine:
        """An engine on ``url`` whose driver honours the store's timeouts. Pooled server
        connections are pinged at checkout (``ping`` None: the default, yes), PostgreSQL's
        by the watchdog under the deadline; a SQLite file needs no ping unless asked."""
        backend = url.get_backend_name()
        options["connect_args"] = _timeout_args(
            url, self.connect_timeout, self.operation_timeout, dict(options.get("connect_args") or {})
        )
        if backend != "postgresql" and (backend != "sqlite" or ping is not None):
            options["pool_pre_ping"] = True if ping is None else ping
        if backend != "sqlite" and "poolclass" not in options and "pool" not in options:
            options.setdefault("pool_timeout", self.operation_timeout)  # waiting for a pooled connection
        try:
            with extra_needed(f"the sqlalchemy store on a {url.drivername!r} URL"):  # imports the URL's driver
                engine = create_engine(url, **options)
        except NoSuchModuleError as exc:
            raise ValueError(f"url: no SQLAlchemy dialect for {url.drivername!r}") from exc
        if backend == "sqlite" and url.database not in (None, "", ":memory:"):
            event.listen(engine, "connect", _sqlite_wal)
        return engine

    # -- lifecycle -------------------------------------------------------------------

    def start(self, scheduler: Any, alias: str) -> None:
        super().start(scheduler, alias)
        try:
            with self.operation_guard():
                prepare_sql_table(self)  # created if missing; asyncz's refused; an older one of ours upgraded
        except (SQLAlchemyError, DeadlineExceeded) as exc:
            raise self.connection_error(self.url, exc) from exc

    def shutdown(self) -> None:
        if self._watchdog is not None:
            self._watchdog.stop()
        if self._owns_engine:
            self.engine.dispose()

    def operation_guard(self) -> AbstractContextManager[Any]:
        return super().operation_guard() if self._watchdog is None else self._watchdog.guard()

    # -- reads -----------------------------------------------------------------------

    def lookup_task(self, task_id: str) -> Task | None:
        table = self.table
        with self.engine.connect() as conn:
            data = conn.execute(select(table.c.state).where(table.c.id == task_id)).scalar()
        return self.restore_task(task_id, data)

    def due_query(self, now: datetime) -> Select[Any]:
        """Ids and states due at ``now``: a range scan of the next_run_time index."""
        table = self.table
        return (
            select(table.c.id, table.c.state)
            .where(table.c.next_run_time <= now.timestamp())
            .order_by(table.c.next_run_time, table.c.id)
        )

    def get_due_tasks(self, now: datetime) -> list[Task]:
        with self.engine.connect() as conn:
            rows = conn.execute(self.due_query(now)).all()
        return self.restore_rows((row[0], row[1]) for row in rows)

    def get_next_run_time(self) -> datetime | None:
        """The earliest unclaimed run time, or a claim's expiry if earlier (to take over a dead
        scheduler's runs); a claimed row's own, stale, run time never counts."""
        table = self.table
        query = (
            select(table.c.id, table.c.next_run_time)
            .where(table.c.next_run_time.is_not(None), table.c.claimed_by.is_(None))
            .order_by(table.c.next_run_time, table.c.id)
            .limit(self.set_aside_count() + 1)
        )
        expiry = select(func.min(table.c.claim_expires)).where(table.c.claimed_by.is_not(None))
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
            earliest_expiry = conn.execute(expiry).scalar()
        next_run_time = self.first_runnable((row[0], row[1]) for row in rows)
        if earliest_expiry is not None:
            expires = from_timestamp(earliest_expiry)
            if next_run_time is None or expires < next_run_time:
                return expires
        return next_run_time

    def get_all_tasks(self) -> list[Task]:
        table = self.table
        paused_last = case((table.c.next_run_time.is_(None), 1), else_=0)
        query = select(table.c.id, table.c.state).order_by(paused_last, table.c.next_run_time, table.c.id)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return self.restore_rows((row[0], row[1]) for row in rows)

    # -- writes ----------------------------------------------------------------------

    def add_task(self, task: Task) -> None:
        values = {"id": task.id, "next_run_time": to_timestamp(task.next_run_time), "state": self.encode_task(task)}
        try:
            with self.engine.begin() as conn:
                conn.execute(self._insert, values)  # one prepared statement: no per-call building
        except IntegrityError:
            raise ConflictIdError(task.id) from None

    def update_task(self, task: Task) -> None:
        values = {
            "task_id": task.id,
            "next_run_time": to_timestamp(task.next_run_time),
            "state": self.encode_task(task),
        }
        with self.engine.begin() as conn:
            result = conn.execute(self._update, values)
        if result.rowcount == 0:
            raise TaskLookupError(task.id)
        self.forget_set_aside(task.id)  # type: ignore[arg-type]

    def delete_task(self, task_id: str) -> None:
        table = self.table
        with self.engine.begin() as conn:
            result = conn.execute(delete(table).where(table.c.id == task_id))
        if result.rowcount == 0:
            raise TaskLookupError(task_id)
        self.forget_set_aside(task_id)

    def remove_all_tasks(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(self.table))
        self.forget_set_aside()

    # -- claims: several schedulers sharing this table ---------------------------------

    supports_claims = True

    def claim_due_tasks(self, now: datetime, owner: str, lease_seconds: float, limit: int | None = None) -> list[Task]:
        """Three short statements, the middle one a conditional UPDATE: whichever scheduler's
        UPDATE reaches a row first owns it; the others' WHERE no longer matches it. Short
        separate transactions keep SQLite (one writer) from deadlocking on a lock upgrade."""
        owner = check_claim(owner, lease_seconds)
        table = self.table
        ts = now.timestamp()
        claimable = and_(
            table.c.next_run_time <= ts,
            or_(table.c.claimed_by.is_(None), table.c.claim_expires < ts),
        )
        candidates = select(table.c.id, table.c.claimed_at).where(claimable).order_by(table.c.next_run_time, table.c.id)
        with self.engine.connect() as conn:
            rows = conn.execute(candidates.limit(limit or self.claim_batch)).all()
        if not rows:
            return []
        previous = {row[0]: row[1] for row in rows}
        ids = list(previous)
        with self.engine.begin() as conn:
            conn.execute(
                update(table)
                .where(table.c.id.in_(ids), claimable)
                .values(claimed_by=owner, claim_expires=ts + lease_seconds, claimed_at=ts)
            )
        mine = select(table.c.id, table.c.state).where(
            table.c.id.in_(ids), table.c.claimed_by == owner, table.c.claimed_at == ts
        )
        with self.engine.connect() as conn:
            claimed = conn.execute(mine.order_by(table.c.next_run_time, table.c.id)).all()
        tasks = []
        unrestorable = []
        for task_id, state in sharing_gil(claimed):  # restoring is CPU work: let the loop in
            task = self.restore_task(task_id, state)
            if task is None:
                unrestorable.append(task_id)
                continue
            if previous[task_id] is not None:  # an expired claim: its scheduler died holding it
                task.interrupted_at = from_timestamp(previous[task_id])
            tasks.append(task)
        if unrestorable:  # set aside: leave them unclaimed for the user to fix or remove
            with self.engine.begin() as conn:
                conn.execute(
                    update(table).where(table.c.id.in_(unrestorable), table.c.claimed_by == owner).values(**UNCLAIMED)
                )
        return tasks

    def release_task(self, task: Task, owner: str) -> bool:
        return self.release_tasks([task], owner)[0]

    def release_tasks(self, tasks: list[Task], owner: str) -> list[bool]:
        """One transaction for the lot: on SQLite that is one fsync instead of one per task."""
        if not tasks:
            return []
        if self._is_sqlite:
            return self._release_row_by_row(tasks, owner)
        return self._release_in_bulk(tasks, owner)

    def _release_row_by_row(self, tasks: list[Task], owner: str) -> list[bool]:
        """A conditional write per task. SQLite answers locally, so round trips cost nothing,
        and a write as the first statement never has to upgrade a read lock (which SQLite
        refuses with SQLITE_BUSY when another connection writes)."""
        table = self.table
        released = []
        with self.engine.begin() as conn:
            for task in sharing_gil(tasks):  # let the event loop have the GIL between statements
                if task.next_run_time is None:  # finished: gone, if the claim is still ours
                    result = conn.execute(delete(table).where(table.c.id == task.id, table.c.claimed_by == owner))
                    released.append(bool(result.rowcount))
                    continue
                values = {"next_run_time": to_timestamp(task.next_run_time), "state": self.encode_task(task)}
                result = conn.execute(
                    update(table)
                    .where(table.c.id == task.id, table.c.claimed_by == owner)
                    .values(**values, **UNCLAIMED)
                )
                released.append(bool(result.rowcount))
        return released

    def _release_in_bulk(self, tasks: list[Task], owner: str) -> list[bool]:
        """A round trip per task would dominate a server's release (500 runs: ~240 ms on
        loopback PostgreSQL). Instead: lock the rows still claimed by ``owner`` (SELECT ...
        FOR UPDATE, so no lease can change hands before the commit), delete the finished ones
        in one statement and update the rest in one executemany."""
        table = self.table
        ids = [task.id for task in tasks]
        finished: list[str] = []
        changes: list[dict[str, Any]] = []
        with self.engine.begin() as conn:
            still_mine = select(table.c.id).where(table.c.id.in_(ids), table.c.claimed_by == owner).with_for_update()
            held = set(conn.execute(still_mine).scalars())
            for task in sharing_gil(tasks):  # encoding is CPU work: let the event loop in
                if task.id not in held:
                    continue
                if task.next_run_time is None:  # finished: gone
                    finished.append(task.id)  # type: ignore[arg-type]
                else:
                    state = self.encode_task(task)
                    changes.append({"b_id": task.id, "b_next": to_timestamp(task.next_run_time), "b_state": state})
            if finished:
                conn.execute(delete(table).where(table.c.id.in_(finished)))
            for chunk in sharing_gil(in_slices(changes, RELEASE_CHUNK)):  # binding 500 rows is CPU work too
                conn.execute(self._release_update, chunk)
        return [task.id in held for task in tasks]

    def renew_claims(self, owner: str, lease_seconds: float, now: datetime) -> None:
        table = self.table
        with self.engine.begin() as conn:
            conn.execute(
                update(table).where(table.c.claimed_by == owner).values(claim_expires=now.timestamp() + lease_seconds)
            )

    # -- change feed: PostgreSQL LISTEN/NOTIFY (other databases are polled) --------------

    def _feed_channel(self) -> str | None:
        url = self.engine.url
        if url.get_backend_name() != "postgresql" or url.get_driver_name() != "psycopg":
            return None
        from asyncz_like.stores.feeds import postgres_channel

        return postgres_channel(self.table.fullname)

    def watch(self, callback: Any) -> bool:
        channel = self._feed_channel()
        if channel is None:
            return False
        from asyncz_like.stores.feeds import PostgresFeed

        conninfo = self.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._feed = PostgresFeed(conninfo, channel)
        self._feed.start(callback)
        return True

    def announce(self, next_run_time: datetime) -> None:
        channel = self._feed_channel()
        if channel is None:
            return
        from asyncz_like.stores.feeds import encode_time

        with self.engine.begin() as conn:
            conn.execute(select(func.pg_notify(channel, encode_time(next_run_time))))

    def __repr__(self) -> str:
        return f"<SQLAlchemyStore (url={mask_url(self.url)!r}, table={self.table.fullname!r})>"
