"""Run history and heartbeats for the SQL store: two tables beside the tasks table.

``<tablename>_history``: one row per record, indexed by (task_id, finished_at) and by
finished_at, so a task's newest records and the store's newest records are both index
scans. ``<tablename>_schedulers``: one row per running scheduler, renewed every third of
a lease. Both are created on first use (a store whose scheduler records nothing gets none).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from threading import Lock
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Column,
    Double,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from asyncz_like._gil import in_slices, sharing_gil
from asyncz_like.history.records import FIELDS, STALE_BEAT_SECONDS
from asyncz_like.stores._sql_tables import has_every_column

if TYPE_CHECKING:
    from sqlalchemy import Engine

#: records inserted per executemany, and task ids per pruning query
WRITE_CHUNK = 200
PRUNE_CHUNK = 200
_ID_LENGTH = 191
_MYSQL_ID = String(_ID_LENGTH, collation="utf8mb4_bin")  # generic: no MySQL dialect import


def _id_column(name: str, **options: Any) -> Column[Any]:
    return Column(name, String(_ID_LENGTH).with_variant(_MYSQL_ID, "mysql", "mariadb"), **options)


class SQLHistory:
    """Mixed into :class:`~asyncz_like.stores.sqlalchemy.SQLAlchemyStore`."""

    supports_history = True

    if TYPE_CHECKING:
        engine: Engine
        table: Table

    _history_tables: tuple[Table, Table] | None = None
    _history_lock = Lock()

    def _tables(self) -> tuple[Table, Table]:
        tables = self._history_tables
        if tables is None:
            with self._history_lock:
                tables = self._history_tables
                if tables is None:
                    tables = self._history_tables = self._create_tables()
        return tables

    def _create_tables(self) -> tuple[Table, Table]:
        name, schema = self.table.name, self.table.schema
        metadata = MetaData()
        history = Table(
            f"{name}_history",
            metadata,
            Column("run_id", String(40), primary_key=True),
            _id_column("task_id", nullable=False),
            Column("task_name", Text(), nullable=True),
            Column("scheduled_run_time", Double(), nullable=True),
            Column("started_at", Double(), nullable=True),
            Column("finished_at", Double(), nullable=False),
            Column("duration", Double(), nullable=True),
            Column("outcome", String(16), nullable=False),
            Column("attempt", Integer(), nullable=False),
            Column("scheduler_id", String(_ID_LENGTH), nullable=True),
            Column("exception_type", String(255), nullable=True),
            Column("exception_message", Text(), nullable=True),
            Column("traceback", Text(), nullable=True),
            Column("return_value", Text(), nullable=True),
            Column("retry_at", Double(), nullable=True),
            schema=schema,
        )
        Index(f"ix_{name}_history_task", history.c.task_id, history.c.finished_at)
        Index(f"ix_{name}_history_finished", history.c.finished_at)
        beats = Table(
            f"{name}_schedulers",
            metadata,
            _id_column("scheduler_id", primary_key=True),
            Column("renewed_at", Double(), nullable=False),
            Column("expires_at", Double(), nullable=False),
            schema=schema,
        )
        if not (has_every_column(self.engine, history) and has_every_column(self.engine, beats)):
            try:
                metadata.create_all(self.engine, checkfirst=True)
            except SQLAlchemyError:  # another process created them at the same moment
                metadata.create_all(self.engine, checkfirst=True)
        return history, beats

    # -- history ---------------------------------------------------------------------

    def record_runs(self, records: list[dict[str, Any]]) -> None:
        """One transaction, an executemany per chunk of records."""
        history = self._tables()[0]
        statement = insert(history)
        with self.engine.begin() as conn:
            for chunk in sharing_gil(in_slices(records, WRITE_CHUNK)):  # binding rows is CPU work
                conn.execute(statement, [{name: record.get(name) for name in FIELDS} for record in chunk])

    def get_run_history(
        self, task_id: str | None, limit: int, outcomes: Collection[str] | None, since: float | None
    ) -> list[dict[str, Any]]:
        """One SELECT on the history table, newest first, using its indexes."""
        history = self._tables()[0]
        query = select(*(history.c[name] for name in FIELDS))
        if task_id is not None:
            query = query.where(history.c.task_id == task_id)
        if outcomes is not None:
            query = query.where(history.c.outcome.in_(list(outcomes)))
        if since is not None:
            query = query.where(history.c.finished_at >= since)
        query = query.order_by(history.c.finished_at.desc(), history.c.run_id.desc()).limit(limit)
        with self.engine.connect() as conn:
            return [dict(row._mapping) for row in conn.execute(query)]

    def prune_history(self, task_ids: Collection[str], keep_per_task: int, older_than: float | None) -> None:
        """The max age in one DELETE; per task, the rows past the newest ``keep_per_task`` are
        found with ROW_NUMBER() over the touched tasks, a chunk of tasks per query."""
        history = self._tables()[0]
        with self.engine.begin() as conn:
            if older_than is not None:
                conn.execute(delete(history).where(history.c.finished_at < older_than))
            for chunk in in_slices(sorted(task_ids), PRUNE_CHUNK):
                rank = (
                    func.row_number()
                    .over(
                        partition_by=history.c.task_id,
                        order_by=(history.c.finished_at.desc(), history.c.run_id.desc()),
                    )
                    .label("rank")
                )
                ranked = select(history.c.run_id, rank).where(history.c.task_id.in_(list(chunk))).subquery()
                excess = [row[0] for row in conn.execute(select(ranked.c.run_id).where(ranked.c.rank > keep_per_task))]
                for ids in in_slices(excess, 500):
                    conn.execute(delete(history).where(history.c.run_id.in_(list(ids))))

    # -- heartbeats ------------------------------------------------------------------

    def beat(self, scheduler_id: str, now: datetime, expires_at: datetime) -> None:
        """Upsert this scheduler's row (UPDATE, then INSERT if it had none). It touches that one
        row only: a sweep of other rows here made concurrent beats deadlock on InnoDB, whose
        DELETE locks every row it scans; long-expired rows go in :meth:`get_schedulers`."""
        beats = self._tables()[1]
        values = {"renewed_at": now.timestamp(), "expires_at": expires_at.timestamp()}
        with self.engine.begin() as conn:
            renewed = conn.execute(update(beats).where(beats.c.scheduler_id == scheduler_id).values(**values))
        if renewed.rowcount == 0:
            try:
                with self.engine.begin() as conn:
                    conn.execute(insert(beats).values(scheduler_id=scheduler_id, **values))
            except IntegrityError:  # inserted meanwhile (a second beat of ours): it is renewed
                pass

    def drop_beat(self, scheduler_id: str) -> None:
        """Delete this scheduler's row."""
        beats = self._tables()[1]
        with self.engine.begin() as conn:
            conn.execute(delete(beats).where(beats.c.scheduler_id == scheduler_id))

    def get_schedulers(self, now: datetime) -> list[dict[str, Any]]:
        """Heartbeats, and the owners of the leases on tasks (with how many runs each holds)."""
        beats = self._tables()[1]
        table = self.table
        held = (
            select(table.c.claimed_by, func.count()).where(table.c.claimed_by.is_not(None)).group_by(table.c.claimed_by)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(select(beats.c.scheduler_id, beats.c.renewed_at, beats.c.expires_at)).all()
            leases: dict[str, int] = {row[0]: row[1] for row in conn.execute(held)}
        cutoff = now.timestamp() - STALE_BEAT_SECONDS
        stale = [row[0] for row in rows if row[2] is not None and row[2] < cutoff]
        if stale:  # by key, so only those rows are locked
            with self.engine.begin() as conn:
                conn.execute(delete(beats).where(beats.c.scheduler_id.in_(stale), beats.c.expires_at < cutoff))
            rows = [row for row in rows if row[0] not in stale]
        seen = {
            row[0]: {"scheduler_id": row[0], "renewed_at": row[1], "expires_at": row[2], "runs_held": 0} for row in rows
        }
        for owner, count in leases.items():
            entry = seen.setdefault(
                owner, {"scheduler_id": owner, "renewed_at": None, "expires_at": None, "runs_held": 0}
            )
            entry["runs_held"] = int(count)
        return list(seen.values())

    # -- health ----------------------------------------------------------------------

    def count_tasks(self) -> tuple[int, int]:
        """One ``COUNT`` query over the tasks table."""
        table = self.table
        with self.engine.connect() as conn:
            total, scheduled = conn.execute(
                select(func.count(), func.count(table.c.next_run_time)).select_from(table)
            ).one()
        return int(scheduled), int(total) - int(scheduled)

    def ping(self) -> None:
        """``SELECT 1`` on a pooled connection."""
        with self.engine.connect() as conn:
            conn.execute(select(literal(1)))


__all__ = ["SQLHistory"]
