"""Whether a SQL table is already there, without schema reflection.

SQLAlchemy's ``checkfirst`` and ``inspect()`` query the server's catalog and, on the first
use in a process, import the dialect's reflection code (PostgreSQL's ``pg_catalog`` module,
MySQL's ``SHOW CREATE TABLE`` parser): some 30 to 70 ms of CPU for every scheduler that
starts. A ``SELECT`` that returns no rows answers the common case, a table already created,
in one round trip; only a table that is missing or lacks a column takes the slow path.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, text
from sqlalchemy.exc import SQLAlchemyError


def column_names(engine: Any, table: Table) -> set[str] | None:
    """The table's column names, or None when it cannot be read (it does not exist yet)."""
    name = engine.dialect.identifier_preparer.format_table(table)
    try:
        with engine.connect() as conn:
            return set(conn.execute(text(f"SELECT * FROM {name} WHERE 1 = 0")).keys())
    except SQLAlchemyError:
        return None


def has_every_column(engine: Any, table: Table) -> bool:
    """True when the table exists with at least the columns ours declares."""
    found = column_names(engine, table)
    return found is not None and {column.name for column in table.columns} <= found
